// Package awsjson stands for lambda-src/internal/awsjson in the fixtures: a
// client that calls AWS operations without an SDK service package.
package awsjson

import "context"

// Call sends one operation.
func Call(ctx context.Context, operation string, in, out any) error { return nil }
