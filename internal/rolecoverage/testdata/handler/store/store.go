// Package store is the fixture's in-module dependency.
package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// CopyObjectAPI is one narrow operation interface.
type CopyObjectAPI interface {
	CopyObject(ctx context.Context, in *s3.CopyObjectInput, optFns ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
}

// Store holds its clients.
type Store struct{ Copy CopyObjectAPI }

// Save copies one object through the interface.
func Save(ctx context.Context, c CopyObjectAPI) error {
	_, err := c.CopyObject(ctx, &s3.CopyObjectInput{})
	return err
}
