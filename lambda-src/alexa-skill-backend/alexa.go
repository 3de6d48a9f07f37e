package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Request types and intent names the time teller handles. Anything else gets the fallback.
const (
	LaunchRequest       = "LaunchRequest"
	IntentRequest       = "IntentRequest"
	SessionEndedRequest = "SessionEndedRequest"

	TellTimeIntent     = "TellTimeIntent"
	HelpIntent         = "AMAZON.HelpIntent"
	CancelIntent       = "AMAZON.CancelIntent"
	StopIntent         = "AMAZON.StopIntent"
	FallbackIntent     = "AMAZON.FallbackIntent"
	NavigateHomeIntent = "AMAZON.NavigateHomeIntent"
)

// RequestEnvelope is the part of the Alexa request envelope the backend reads. User ids, access
// tokens and device ids are deliberately absent: they are never needed, so they are never
// decoded and cannot reach a log line.
type RequestEnvelope struct {
	Version string   `json:"version"`
	Session *Session `json:"session,omitempty"`
	Context *Context `json:"context,omitempty"`
	Request Request  `json:"request"`
}

// Session is the envelope's session object (absent for some request types).
type Session struct {
	New         bool         `json:"new"`
	Application *Application `json:"application,omitempty"`
}

// Context is the envelope's context object.
type Context struct {
	System *System `json:"System,omitempty"`
}

// System is context.System.
type System struct {
	Application *Application `json:"application,omitempty"`
}

// Application carries the id of the skill the request is for.
type Application struct {
	ApplicationID string `json:"applicationId"`
}

// Request is the envelope's request object, common to every request type.
type Request struct {
	Type      string  `json:"type"`
	RequestID string  `json:"requestId"`
	Timestamp string  `json:"timestamp"`
	Locale    string  `json:"locale"`
	Intent    *Intent `json:"intent,omitempty"`
	// Reason is set on SessionEndedRequest: USER_INITIATED, ERROR or EXCEEDED_MAX_REPROMPTS.
	Reason string        `json:"reason,omitempty"`
	Error  *SessionError `json:"error,omitempty"`
}

// Intent is request.intent of an IntentRequest.
type Intent struct {
	Name string `json:"name"`
}

// SessionError is request.error of a SessionEndedRequest with reason ERROR.
type SessionError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// ErrMalformed is wrapped by every ParseRequest error.
var ErrMalformed = errors.New("malformed Alexa request")

// ParseRequest decodes an Alexa request envelope. It fails, wrapping ErrMalformed, on input
// that is not a JSON object of the envelope's shape; it does not judge the values, which the
// handler checks one by one.
func ParseRequest(payload []byte) (*RequestEnvelope, error) {
	var env RequestEnvelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrMalformed, describeJSONError(err))
	}
	return &env, nil
}

// describeJSONError names the field at fault without quoting the payload.
func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Sprintf("field %s: expected %s, got a JSON %s", field, typeErr.Type, typeErr.Value)
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return fmt.Sprintf("invalid JSON at byte %d", syntaxErr.Offset)
	}
	return "expected a JSON object"
}

// ApplicationIDs returns the non-empty application ids the envelope carries, from
// context.System.application and session.application.
func (e *RequestEnvelope) ApplicationIDs() []string {
	var ids []string
	if e.Context != nil && e.Context.System != nil && e.Context.System.Application != nil && e.Context.System.Application.ApplicationID != "" {
		ids = append(ids, e.Context.System.Application.ApplicationID)
	}
	if e.Session != nil && e.Session.Application != nil && e.Session.Application.ApplicationID != "" {
		ids = append(ids, e.Session.Application.ApplicationID)
	}
	return ids
}

// Time returns the request timestamp; ok is false when it is missing or not ISO 8601.
func (r Request) Time() (t time.Time, ok bool) {
	t, err := time.Parse(time.RFC3339, r.Timestamp)
	return t, err == nil
}

// ResponseEnvelope is the Alexa response: version 1.0 and a response body.
type ResponseEnvelope struct {
	Version  string   `json:"version"`
	Response Response `json:"response"`
}

// Response is the response body. A response to SessionEndedRequest must be empty.
type Response struct {
	OutputSpeech     *OutputSpeech `json:"outputSpeech,omitempty"`
	Reprompt         *Reprompt     `json:"reprompt,omitempty"`
	ShouldEndSession *bool         `json:"shouldEndSession,omitempty"`
}

// OutputSpeech is what Alexa says: PlainText with Text, or SSML with SSML.
type OutputSpeech struct {
	Type string `json:"type"`
	Text string `json:"text,omitempty"`
	SSML string `json:"ssml,omitempty"`
}

// Reprompt is said when the user does not answer within a few seconds.
type Reprompt struct {
	OutputSpeech OutputSpeech `json:"outputSpeech"`
}
