// Command undeclared is a fixture for HandlerOperations: it reaches AWS
// through a stand-in client that names no SDK service.
package main

import (
	"context"

	"github.com/securestacks/securestacks/internal/rolecoverage/testdata/undeclared/queue"
)

func main() { _ = queue.Send(context.Background(), &queue.SendMessageInput{}) }
