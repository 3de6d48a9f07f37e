// Command handler is a fixture for HandlerOperations: one way of reaching
// each S3 operation, one interface that is declared but never called, and
// an SQS operation through a stand-in client (awsjson, as handlers use for
// SSM and SageMaker).
package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/securestacks/securestacks/internal/rolecoverage/testdata/handler/queue"
	"github.com/securestacks/securestacks/internal/rolecoverage/testdata/handler/store"
)

// DeleteBucketAPI is declared, and satisfied, but never called.
type DeleteBucketAPI interface {
	DeleteBucket(ctx context.Context, in *s3.DeleteBucketInput, optFns ...func(*s3.Options)) (*s3.DeleteBucketOutput, error)
}

var _ DeleteBucketAPI = (*s3.Client)(nil)

func main() {
	ctx := context.Background()
	c := s3.New(s3.Options{Region: "eu-west-1"})
	// a direct client call
	_, _ = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	// a presign client
	_, _ = s3.NewPresignClient(c).PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	// a paginator
	_ = s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("b")})
	// a method value
	head := c.HeadObject
	_ = head
	// a narrow interface in an imported package of the module
	_ = store.Store{Copy: c}.Copy
	_ = store.Save(ctx, c)
	// a stand-in client over awsjson that declares its SDK service
	_ = queue.Send(ctx, &queue.SendMessageInput{})
}
