// Package logging builds the slog JSON loggers that every securestacks Lambda and the CLI use,
// so that CloudWatch Logs Insights can query one field layout across all handlers.
//
// Never pass secrets, plaintext, key material or custom-resource property values as attributes:
// everything a logger writes ends up in CloudWatch Logs.
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// LevelEnv names the environment variable that sets the minimum level of a logger made by New.
// It accepts DEBUG, INFO, WARN or ERROR (any case, optionally with an offset such as "INFO+2",
// as in slog.Level.UnmarshalText). When it is unset or empty, AWS_LAMBDA_LOG_LEVEL (set by
// Lambda's advanced logging controls: TRACE, DEBUG, INFO, WARN, ERROR or FATAL) is used;
// when both are unset the level is INFO.
const LevelEnv = "LOG_LEVEL"

// lambdaLevelEnv is set by Lambda when the function has an application log level configured;
// following it keeps our own filtering consistent with what Lambda would drop anyway.
const lambdaLevelEnv = "AWS_LAMBDA_LOG_LEVEL"

// New returns a logger that writes one JSON object per line to w, with slog's standard keys
// (time, level, msg). Its minimum level comes from LOG_LEVEL (see LevelEnv); default INFO.
// An invalid level does not stop the handler: New falls back to INFO and writes one WARN line
// naming the variable and the values it accepts, because a typo in an environment variable
// must not take a function down.
func New(w io.Writer) *slog.Logger {
	level, name, raw, ok := levelFromEnv()
	l := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
	if !ok {
		l.Warn("invalid log level; using INFO",
			slog.String("variable", name),
			slog.String("value", raw),
			slog.String("expected", "DEBUG, INFO, WARN or ERROR"))
	}
	return l
}

// levelFromEnv resolves the minimum level. ok is false when the variable that was consulted
// (name) holds raw, which is not a level.
func levelFromEnv() (level slog.Level, name, raw string, ok bool) {
	if raw = strings.TrimSpace(os.Getenv(LevelEnv)); raw != "" {
		if err := level.UnmarshalText([]byte(raw)); err != nil {
			return slog.LevelInfo, LevelEnv, raw, false
		}
		return level, LevelEnv, raw, true
	}
	raw = strings.TrimSpace(os.Getenv(lambdaLevelEnv))
	switch strings.ToUpper(raw) {
	case "":
		return slog.LevelInfo, "", "", true
	case "TRACE":
		return slog.LevelDebug - 4, lambdaLevelEnv, raw, true
	case "FATAL":
		return slog.LevelError + 4, lambdaLevelEnv, raw, true
	}
	if err := level.UnmarshalText([]byte(raw)); err != nil {
		return slog.LevelInfo, lambdaLevelEnv, raw, false
	}
	return level, lambdaLevelEnv, raw, true
}

// WithRequest returns l with the attributes that tie a log line to one invocation:
// "request_id" (the Lambda request ID, from lambdacontext in ctx) and "function" (the
// function name, from AWS_LAMBDA_FUNCTION_NAME). An attribute whose value is unknown, as in the
// CLI or in a test without a Lambda context, is left out rather than logged empty.
func WithRequest(ctx context.Context, l *slog.Logger) *slog.Logger {
	var attrs []any
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc != nil && lc.AwsRequestID != "" {
		attrs = append(attrs, slog.String("request_id", lc.AwsRequestID))
	}
	if lambdacontext.FunctionName != "" {
		attrs = append(attrs, slog.String("function", lambdacontext.FunctionName))
	}
	if len(attrs) == 0 {
		return l
	}
	return l.With(attrs...)
}
