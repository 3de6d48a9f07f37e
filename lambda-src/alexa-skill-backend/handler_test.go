package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	main "github.com/securestacks/securestacks/lambda-src/alexa-skill-backend"
)

// testSkillID is the applicationId of every envelope in testdata except wrong_skill_id.json.
const testSkillID = "amzn1.ask.skill.00000000-0000-4000-8000-000000000001"

// skillIDFunc is a function-type fake of SkillIDSource.
type skillIDFunc func(context.Context) (string, error)

func (f skillIDFunc) SkillID(ctx context.Context) (string, error) { return f(ctx) }

// getParameterFunc is a function-type fake of the SSM GetParameter operation.
type getParameterFunc func(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)

func (f getParameterFunc) GetParameter(ctx context.Context, in *ssm.GetParameterInput, o ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	return f(ctx, in, o...)
}

func fixedSkill(id string) skillIDFunc {
	return func(context.Context) (string, error) { return id, nil }
}

// clock is the function clock; testdata timestamps are 2026-11-28T15:04:05Z, so any answer
// with 9:30 comes from the clock and not from the request.
var clock = func() time.Time { return time.Date(2030, 1, 2, 9, 30, 0, 0, time.UTC) }

func newHandler(skill main.SkillIDSource, logs *bytes.Buffer) *main.Handler {
	return &main.Handler{Skill: skill, Now: clock, Logger: slog.New(slog.NewJSONHandler(logs, nil))}
}

func load(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// answer is the response as Alexa reads it, decoded independently of the handler's types.
type answer struct {
	Version  string `json:"version"`
	Response struct {
		OutputSpeech *struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"outputSpeech"`
		Reprompt *struct {
			OutputSpeech struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"outputSpeech"`
		} `json:"reprompt"`
		ShouldEndSession *bool `json:"shouldEndSession"`
	} `json:"response"`
}

// logLines decodes the JSON log lines.
func logLines(t *testing.T, logs *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

func TestHandlerAnswersEveryRequestType(t *testing.T) {
	const (
		timeText = "It is 3:04 PM U.T.C."
		help     = "You can ask me what time it is, and I will tell you the time in U.T.C. What would you like to do?"
		reprompt = "You can ask: what time is it?"
		fallback = "Sorry, I can't help with that. You can ask me what time it is."
		bye      = "Goodbye!"
		badBody  = "Sorry, I could not understand that request."
	)
	cases := []struct {
		file         string
		wantErr      error
		wantText     string // "" means no outputSpeech at all
		wantReprompt string
		wantEnd      *bool
		wantLog      string // a msg or outcome the log must show
	}{
		{file: "launch.json", wantText: timeText, wantEnd: aws.Bool(true), wantLog: "time"},
		{file: "tell_time_intent.json", wantText: timeText, wantEnd: aws.Bool(true), wantLog: "time"},
		{file: "help_intent.json", wantText: help, wantReprompt: reprompt, wantEnd: aws.Bool(false), wantLog: "help"},
		{file: "cancel_intent.json", wantText: bye, wantEnd: aws.Bool(true), wantLog: "goodbye"},
		{file: "stop_intent.json", wantText: bye, wantEnd: aws.Bool(true), wantLog: "goodbye"},
		{file: "fallback_intent.json", wantText: fallback, wantReprompt: reprompt, wantEnd: aws.Bool(false), wantLog: "fallback"},
		{file: "unknown_intent.json", wantText: fallback, wantReprompt: reprompt, wantEnd: aws.Bool(false), wantLog: "unknown intent; answering with the fallback"},
		{file: "session_ended.json", wantLog: "session ended"},
		{file: "session_ended_error.json", wantLog: "INVALID_RESPONSE"},
		{file: "malformed.json", wantText: badBody, wantEnd: aws.Bool(true), wantLog: "malformed Alexa request"},
		{file: "malformed_shape.json", wantText: badBody, wantEnd: aws.Bool(true), wantLog: "field request: expected main.Request, got a JSON string"},
		{file: "wrong_skill_id.json", wantErr: main.ErrWrongSkill, wantLog: "request rejected"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			// GIVEN a real-shaped Alexa envelope and a backend for testSkillID
			var logs bytes.Buffer
			h := newHandler(fixedSkill(testSkillID), &logs)
			// WHEN it is invoked
			out, err := h.Invoke(context.Background(), load(t, tc.file))
			// THEN the answer is a valid Alexa response, or the request is refused
			if !strings.Contains(logs.String(), tc.wantLog) {
				t.Errorf("logs lack %q:\n%s", tc.wantLog, logs.String())
			}
			for _, line := range logLines(t, &logs) {
				if strings.Contains(fmt.Sprint(line), "AEXAMPLEUSERID") || strings.Contains(fmt.Sprint(line), "eyJ0eXAi") {
					t.Errorf("log line leaks the user id or the access token: %v", line)
				}
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || out != nil {
					t.Fatalf("got (%s, %v), want error %v", out, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			var a answer
			if err := json.Unmarshal(out, &a); err != nil {
				t.Fatalf("response is not JSON: %s", out)
			}
			if a.Version != "1.0" {
				t.Errorf("version %q", a.Version)
			}
			if tc.wantText == "" {
				if a.Response.OutputSpeech != nil || a.Response.Reprompt != nil || a.Response.ShouldEndSession != nil {
					t.Errorf("SessionEndedRequest must get an empty response, got %s", out)
				}
				return
			}
			if a.Response.OutputSpeech == nil || a.Response.OutputSpeech.Type != "PlainText" || a.Response.OutputSpeech.Text != tc.wantText {
				t.Errorf("speech: got %s, want PlainText %q", out, tc.wantText)
			}
			gotReprompt := ""
			if a.Response.Reprompt != nil {
				gotReprompt = a.Response.Reprompt.OutputSpeech.Text
			}
			if gotReprompt != tc.wantReprompt {
				t.Errorf("reprompt: got %q, want %q", gotReprompt, tc.wantReprompt)
			}
			if a.Response.ShouldEndSession == nil || *a.Response.ShouldEndSession != *tc.wantEnd {
				t.Errorf("shouldEndSession: got %s, want %v", out, *tc.wantEnd)
			}
		})
	}
}

func TestHandlerHonoursLocaleAndTimestamp(t *testing.T) {
	cases := []struct {
		locale, timestamp, want string
		wantClockWarning        bool
	}{
		{"en-US", "2026-11-28T15:04:05Z", "It is 3:04 PM U.T.C.", false},
		{"en-US", "2026-11-28T00:07:00Z", "It is 12:07 AM U.T.C.", false},
		{"en-US", "2026-11-28T12:00:00Z", "It is 12:00 PM U.T.C.", false},
		// A timestamp with an offset is converted to UTC, not read as UTC.
		{"en-US", "2026-11-28T17:04:05+02:00", "It is 3:04 PM U.T.C.", false},
		{"en-GB", "2026-11-28T15:04:05Z", "It is 15:04 U.T.C.", false},
		{"en-CA", "2026-11-28T09:05:00Z", "It is 9:05 AM U.T.C.", false},
		{"de-DE", "2026-11-28T15:04:05Z", "Es ist 15:04 Uhr UTC.", false},
		{"fr-CA", "2026-11-28T08:09:00Z", "Il est 8 h 09 UTC.", false},
		{"es-ES", "2026-11-28T01:30:00Z", "Es la 1:30 UTC.", false},
		{"es-MX", "2026-11-28T21:45:00Z", "Son las 21:45 UTC.", false},
		{"ja-JP", "2026-11-28T15:04:05Z", "It is 3:04 PM U.T.C.", false},
		{"", "2026-11-28T15:04:05Z", "It is 3:04 PM U.T.C.", false},
		{"en-US", "", "It is 9:30 AM U.T.C.", true},
		{"de-DE", "yesterday", "Es ist 9:30 Uhr UTC.", true},
	}
	for _, tc := range cases {
		t.Run(tc.locale+" "+tc.timestamp, func(t *testing.T) {
			// GIVEN a TellTimeIntent envelope with this locale and timestamp
			var env map[string]any
			if err := json.Unmarshal(load(t, "tell_time_intent.json"), &env); err != nil {
				t.Fatal(err)
			}
			req := env["request"].(map[string]any)
			req["locale"], req["timestamp"] = tc.locale, tc.timestamp
			payload, _ := json.Marshal(env)
			var logs bytes.Buffer
			// WHEN it is invoked
			out, err := newHandler(fixedSkill(testSkillID), &logs).Invoke(context.Background(), payload)
			// THEN the time of the request is spoken in the request's language
			if err != nil {
				t.Fatal(err)
			}
			var a answer
			if err := json.Unmarshal(out, &a); err != nil || a.Response.OutputSpeech == nil {
				t.Fatalf("bad response %s: %v", out, err)
			}
			if a.Response.OutputSpeech.Text != tc.want {
				t.Errorf("got %q, want %q", a.Response.OutputSpeech.Text, tc.want)
			}
			if warned := strings.Contains(logs.String(), "using the function clock"); warned != tc.wantClockWarning {
				t.Errorf("clock warning logged: %v, want %v\n%s", warned, tc.wantClockWarning, logs.String())
			}
		})
	}
}

func TestHandlerChecksEveryApplicationID(t *testing.T) {
	const other = "amzn1.ask.skill.99999999-9999-4999-8999-999999999999"
	cases := []struct {
		name           string
		context, sess  any // applicationId values; nil removes the object
		wantAccepted   bool
		wantErrMessage string
	}{
		{"both match", testSkillID, testSkillID, true, ""},
		{"no session, context matches", testSkillID, nil, true, ""},
		{"context differs", other, testSkillID, false, `application id "` + other + `"`},
		{"session differs", testSkillID, other, false, `application id "` + other + `"`},
		{"neither present", nil, nil, false, "the request carries no application id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a launch envelope with these application ids
			var env map[string]any
			if err := json.Unmarshal(load(t, "launch.json"), &env); err != nil {
				t.Fatal(err)
			}
			system := env["context"].(map[string]any)["System"].(map[string]any)
			if tc.context == nil {
				delete(system, "application")
			} else {
				system["application"] = map[string]any{"applicationId": tc.context}
			}
			if tc.sess == nil {
				delete(env, "session")
			} else {
				env["session"].(map[string]any)["application"] = map[string]any{"applicationId": tc.sess}
			}
			payload, _ := json.Marshal(env)
			var logs bytes.Buffer
			// WHEN it is invoked
			out, err := newHandler(fixedSkill(testSkillID), &logs).Invoke(context.Background(), payload)
			// THEN only a request naming this skill everywhere is answered
			if tc.wantAccepted {
				if err != nil || !bytes.Contains(out, []byte("3:04 PM")) {
					t.Fatalf("got (%s, %v), want the time", out, err)
				}
				return
			}
			if !errors.Is(err, main.ErrWrongSkill) || !strings.Contains(err.Error(), tc.wantErrMessage) {
				t.Fatalf("error %v: want ErrWrongSkill with %q", err, tc.wantErrMessage)
			}
		})
	}
}

func TestHandlerRefusesWhenTheSkillIDIsUnknown(t *testing.T) {
	// GIVEN a backend whose skill-id parameter cannot be read
	denied := errors.New("AccessDeniedException: not authorized")
	var logs bytes.Buffer
	h := newHandler(skillIDFunc(func(ctx context.Context) (string, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the skill id read has no deadline")
		}
		return "", denied
	}), &logs)
	// WHEN a valid launch request arrives
	out, err := h.Invoke(context.Background(), load(t, "launch.json"))
	// THEN it is refused rather than answered unchecked, and the log says why
	if !errors.Is(err, denied) || out != nil {
		t.Fatalf("got (%s, %v), want the read error", out, err)
	}
	if !strings.Contains(logs.String(), "cannot verify the application id") {
		t.Fatalf("logs: %s", logs.String())
	}
}

func TestParameterSkillIDReadsOnceAndRetriesFailures(t *testing.T) {
	// GIVEN a parameter that fails once, then holds the id
	calls := 0
	p := &main.ParameterSkillID{Name: "/securestacks/alexa-skill/s/Skill/skill-id", API: getParameterFunc(
		func(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
			calls++
			if aws.ToString(in.Name) != "/securestacks/alexa-skill/s/Skill/skill-id" {
				t.Errorf("read parameter %q", aws.ToString(in.Name))
			}
			if calls == 1 {
				return nil, &ssmtypes.ParameterNotFound{}
			}
			return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String(testSkillID + "\n")}}, nil
		})}
	ctx := context.Background()
	// WHEN the id is asked for three times
	_, err1 := p.SkillID(ctx)
	id2, err2 := p.SkillID(ctx)
	id3, err3 := p.SkillID(ctx)
	// THEN the failure is not cached, the success is, and SSM is read twice in all
	var notFound *ssmtypes.ParameterNotFound
	if !errors.As(err1, &notFound) {
		t.Fatalf("first read: %v", err1)
	}
	if err2 != nil || err3 != nil || id2 != testSkillID || id3 != testSkillID {
		t.Fatalf("later reads: %q %v, %q %v", id2, err2, id3, err3)
	}
	if calls != 2 {
		t.Fatalf("GetParameter called %d times, want 2", calls)
	}
}

func TestParameterSkillIDRejectsAnEmptyValueOrName(t *testing.T) {
	empty := getParameterFunc(func(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
		return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String(" ")}}, nil
	})
	cases := []struct {
		name string
		p    *main.ParameterSkillID
		want string
	}{
		{"empty value", &main.ParameterSkillID{Name: "/p", API: empty}, "skill id parameter /p is empty"},
		{"no name", &main.ParameterSkillID{API: empty}, "skill id parameter: environment variable SKILL_ID_PARAMETER is empty; expected the name of the SSM parameter with the skill id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a misconfigured source WHEN the id is read THEN the error says what is wrong
			if _, err := tc.p.SkillID(context.Background()); err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
