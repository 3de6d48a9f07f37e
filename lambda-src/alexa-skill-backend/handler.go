package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

// SkillIDParameterEnv names the environment variable that holds the name of the SSM parameter
// with the skill id (written by the Skill construct's permission custom resource).
const SkillIDParameterEnv = "SKILL_ID_PARAMETER"

// DefaultSkillIDTimeout bounds the one parameter read, well inside the function's 7 s and
// Alexa's 8 s.
const DefaultSkillIDTimeout = 2 * time.Second

// ErrWrongSkill is returned for a request whose application id is not this skill's id. The
// invocation fails: a request for another skill gets no answer at all.
var ErrWrongSkill = errors.New("request is not for this skill")

// Handler is the time teller. It implements lambda.Handler over raw bytes, so that a body
// that is not a valid envelope still gets a spoken answer instead of a runtime error.
type Handler struct {
	// Skill provides the expected skill id. Required.
	Skill SkillIDSource
	// Now is the clock used when a request carries no valid timestamp. Default time.Now.
	Now func() time.Time
	// Logger receives one JSON line per request. Default slog.Default().
	Logger *slog.Logger
	// SkillIDTimeout bounds reading the skill id. Default DefaultSkillIDTimeout.
	SkillIDTimeout time.Duration
}

// Invoke handles one Alexa request envelope and returns the response envelope.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	log := logging.WithRequest(ctx, h.logger())
	env, err := ParseRequest(payload)
	if err != nil {
		// Nothing in the body can be trusted, not even the locale: answer in English.
		log.WarnContext(ctx, "malformed Alexa request", slog.String("error", err.Error()), slog.Int("payload_bytes", len(payload)))
		return encode(speak(english.malformed, "", true))
	}
	req := env.Request
	log = log.With(
		slog.String("request_type", clip(req.Type)),
		slog.String("alexa_request_id", clip(req.RequestID)),
		slog.String("locale", clip(req.Locale)),
	)
	if req.Intent != nil {
		log = log.With(slog.String("intent", clip(req.Intent.Name)))
	}
	if err := h.checkSkill(ctx, env); err != nil {
		log.ErrorContext(ctx, "request rejected", slog.String("error", err.Error()))
		return nil, err
	}
	resp, outcome := h.respond(ctx, log, env)
	log.InfoContext(ctx, "alexa request", slog.String("outcome", outcome))
	return encode(resp)
}

// checkSkill compares every application id in the envelope with the skill id. An envelope
// without any is rejected too: it cannot be shown to come from this skill.
func (h *Handler) checkSkill(ctx context.Context, env *RequestEnvelope) error {
	timeout := h.SkillIDTimeout
	if timeout <= 0 {
		timeout = DefaultSkillIDTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	want, err := h.Skill.SkillID(ctx)
	if err != nil {
		return fmt.Errorf("cannot verify the application id: %w", err)
	}
	ids := env.ApplicationIDs()
	if len(ids) == 0 {
		return fmt.Errorf("%w: the request carries no application id", ErrWrongSkill)
	}
	for _, id := range ids {
		if id != want {
			return fmt.Errorf("%w: application id %q", ErrWrongSkill, clip(id))
		}
	}
	return nil
}

// respond builds the answer and names the outcome for the log.
func (h *Handler) respond(ctx context.Context, log *slog.Logger, env *RequestEnvelope) (ResponseEnvelope, string) {
	req := env.Request
	p := phrasesFor(req.Locale)
	switch req.Type {
	case LaunchRequest:
		return speak(p.tellTime(h.requestTime(ctx, log, req)), "", true), "time"
	case IntentRequest:
		name := ""
		if req.Intent != nil {
			name = req.Intent.Name
		}
		switch name {
		case TellTimeIntent:
			return speak(p.tellTime(h.requestTime(ctx, log, req)), "", true), "time"
		case HelpIntent:
			return speak(p.help, p.reprompt, false), "help"
		case CancelIntent, StopIntent, NavigateHomeIntent:
			return speak(p.goodbye, "", true), "goodbye"
		case FallbackIntent:
			return speak(p.fallback, p.reprompt, false), "fallback"
		}
		log.WarnContext(ctx, "unknown intent; answering with the fallback")
		return speak(p.fallback, p.reprompt, false), "unknown_intent"
	case SessionEndedRequest:
		attrs := []slog.Attr{slog.String("reason", clip(req.Reason))}
		if req.Error != nil {
			attrs = append(attrs, slog.String("error_type", clip(req.Error.Type)), slog.String("error_message", clip(req.Error.Message)))
		}
		log.LogAttrs(ctx, slog.LevelInfo, "session ended", attrs...)
		// Alexa rejects speech in the answer to SessionEndedRequest.
		return ResponseEnvelope{Version: "1.0"}, "session_ended"
	}
	log.WarnContext(ctx, "unknown request type; answering with the fallback")
	return speak(p.fallback, p.reprompt, false), "unknown_request_type"
}

// requestTime is the request's own timestamp in UTC: the time the user asked, not the time
// this function happened to run. Without a valid timestamp the function clock stands in.
func (h *Handler) requestTime(ctx context.Context, log *slog.Logger, req Request) time.Time {
	if t, ok := req.Time(); ok {
		return t.UTC()
	}
	log.WarnContext(ctx, "request timestamp missing or not ISO 8601; using the function clock")
	now := h.Now
	if now == nil {
		now = time.Now
	}
	return now().UTC()
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// speak builds a PlainText answer; an empty reprompt means none.
func speak(text, reprompt string, end bool) ResponseEnvelope {
	r := ResponseEnvelope{Version: "1.0", Response: Response{
		OutputSpeech:     &OutputSpeech{Type: "PlainText", Text: text},
		ShouldEndSession: &end,
	}}
	if reprompt != "" {
		r.Response.Reprompt = &Reprompt{OutputSpeech: OutputSpeech{Type: "PlainText", Text: reprompt}}
	}
	return r
}

func encode(r ResponseEnvelope) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding the response: %w", err)
	}
	return b, nil
}

// clip bounds a value from the request before it is logged or quoted in an error.
func clip(s string) string {
	const max = 128
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
