package appstreamaudit

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Input is one file of a source, opened only when it is read.
type Input struct {
	// Name is the path, or s3://bucket/key.
	Name string
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// Source lists input files. Listing holds names only, never contents.
type Source interface {
	Inputs(ctx context.Context) ([]Input, error)
}

// The kinds of input file, by name.
type inputKind int

const (
	otherFile inputKind = iota
	cloudTrailFile
	reportFile
)

// kindOf classifies a file name: CloudTrail writes log files as .json.gz (and its digest files,
// which hold no records, under CloudTrail-Digest/); AppStream writes the usage reports as .csv.
func kindOf(name string) inputKind {
	switch {
	case strings.Contains(name, "CloudTrail-Digest/") || strings.Contains(name, "CloudTrail-Insight/"):
		return otherFile
	case strings.HasSuffix(name, ".json.gz"):
		return cloudTrailFile
	case strings.HasSuffix(name, ".csv"):
		return reportFile
	}
	return otherFile
}

// DirSource is a local directory tree, such as a copy made with `aws s3 sync`.
type DirSource string

// Inputs lists the tree's files in lexical order, which for CloudTrail's key layout is the
// order of delivery.
func (d DirSource) Inputs(ctx context.Context) ([]Input, error) {
	var inputs []Input
	err := filepath.WalkDir(string(d), func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			inputs = append(inputs, Input{Name: path, Open: func(context.Context) (io.ReadCloser, error) { return os.Open(path) }})
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", string(d), err)
	}
	return inputs, nil
}

// The narrow S3 API the S3 source needs, one interface per operation.
type (
	// ListObjectsV2API lists the log and report keys.
	ListObjectsV2API interface {
		ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	}
	// GetObjectAPI reads one file, streamed.
	GetObjectAPI interface {
		GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	}
)

var (
	_ ListObjectsV2API = (*s3.Client)(nil)
	_ GetObjectAPI     = (*s3.Client)(nil)
)

// S3Source is every object under Prefix in Bucket.
type S3Source struct {
	List   ListObjectsV2API
	Get    GetObjectAPI
	Bucket string
	Prefix string
	// ExpectedBucketOwner, when set, makes every call fail for a bucket of another account.
	ExpectedBucketOwner string
}

// Inputs lists the objects, every page, in key order (ListObjectsV2 returns keys in UTF-8
// binary order).
func (s *S3Source) Inputs(ctx context.Context) ([]Input, error) {
	var inputs []Input
	p := s3.NewListObjectsV2Paginator(s.List, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.Bucket), Prefix: aws.String(s.Prefix), ExpectedBucketOwner: s.owner(),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing s3://%s/%s: %w", s.Bucket, s.Prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			inputs = append(inputs, Input{Name: "s3://" + s.Bucket + "/" + key, Open: func(ctx context.Context) (io.ReadCloser, error) {
				out, err := s.Get.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key), ExpectedBucketOwner: s.owner()})
				if err != nil {
					return nil, fmt.Errorf("GetObject: %w", err)
				}
				return out.Body, nil
			}})
		}
	}
	slices.SortFunc(inputs, func(a, b Input) int { return strings.Compare(a.Name, b.Name) })
	return inputs, nil
}

func (s *S3Source) owner() *string {
	if s.ExpectedBucketOwner == "" {
		return nil
	}
	return aws.String(s.ExpectedBucketOwner)
}
