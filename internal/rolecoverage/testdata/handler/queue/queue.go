// Package queue is a fixture stand-in client: it calls SQS through awsjson
// and declares the SDK service its <Op>Input types stand for.
package queue

import (
	"context"

	"github.com/securestacks/securestacks/internal/rolecoverage/testdata/handler/internal/awsjson"
)

// SDKService names the aws-sdk-go-v2 service package this client stands in for.
const SDKService = "sqs"

// SendMessageInput is SendMessage's request.
type SendMessageInput struct{ QueueUrl, MessageBody *string }

// Send sends one message.
func Send(ctx context.Context, in *SendMessageInput) error {
	return awsjson.Call(ctx, "SendMessage", in, nil)
}
