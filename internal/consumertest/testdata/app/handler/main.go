// Command handler is the consumer's own Lambda function.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func handle(_ context.Context, name string) (string, error) {
	return "hello " + name, nil
}

func main() {
	lambda.Start(handle)
}
