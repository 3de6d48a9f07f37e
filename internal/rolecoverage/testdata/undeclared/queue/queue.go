// Package queue is a fixture stand-in client that calls AWS through awsjson
// but does not say which SDK service its <Op>Input types stand for.
package queue

import (
	"context"

	"github.com/securestacks/securestacks/internal/rolecoverage/testdata/undeclared/internal/awsjson"
)

// SendMessageInput is SendMessage's request.
type SendMessageInput struct{ QueueUrl, MessageBody *string }

// Send sends one message.
func Send(ctx context.Context, in *SendMessageInput) error {
	return awsjson.Call(ctx, "SendMessage", in, nil)
}
