package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/internal/kmskey"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
	"github.com/securestacks/securestacks/lambda-src/internal/ssmparam"
)

// One narrow interface per SDK operation the handler calls.
type (
	PutObjectAPI interface {
		PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	}
	DeleteObjectAPI interface {
		DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	}
	PutParameterAPI interface {
		PutParameter(ctx context.Context, in *ssmparam.PutParameterInput) (*ssmparam.PutParameterOutput, error)
	}
	DeleteParameterAPI interface {
		DeleteParameter(ctx context.Context, in *ssmparam.DeleteParameterInput) (*ssmparam.DeleteParameterOutput, error)
	}
)

var (
	_ PutObjectAPI       = (*s3.Client)(nil)
	_ DeleteObjectAPI    = (*s3.Client)(nil)
	_ PutParameterAPI    = (*ssmparam.Client)(nil)
	_ DeleteParameterAPI = (*ssmparam.Client)(nil)
)

// Object names under ObjectKeyPrefix.
const (
	DERObject = "public-key.der"
	PEMObject = "public-key.pem"
)

// Removal policies for the published copies, as the construct passes them.
const (
	RemovalRetain  = "retain"
	RemovalDestroy = "destroy"
)

// Properties are the custom resource's properties, as the asymmetrickey
// construct sets them.
type Properties struct {
	// KeyId is the ARN (or id, or alias) of the KMS asymmetric key.
	KeyId string
	// BucketName receives DERObject and PEMObject under ObjectKeyPrefix.
	BucketName string
	// ObjectKeyPrefix is "" or ends with "/".
	ObjectKeyPrefix string
	// ParameterName is the SSM String parameter that receives the PEM.
	ParameterName string
	// RemovalPolicy is RemovalRetain (default when empty) or RemovalDestroy.
	RemovalPolicy string
}

var (
	bucketRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	prefixRe    = regexp.MustCompile(`^([A-Za-z0-9!_.*'()/-]{0,900}/)?$`)
	parameterRe = regexp.MustCompile(`^/?[A-Za-z0-9_.\-/]{1,1000}$`)
)

func (p Properties) validate() error {
	switch {
	case p.KeyId == "":
		return errors.New("property KeyId: expected a KMS key ARN, id or alias, got none")
	case !bucketRe.MatchString(p.BucketName):
		return fmt.Errorf("property BucketName: expected an S3 bucket name, got %q", p.BucketName)
	case !prefixRe.MatchString(p.ObjectKeyPrefix):
		return fmt.Errorf("property ObjectKeyPrefix: expected empty or a key prefix ending in /, got %q", p.ObjectKeyPrefix)
	case !parameterRe.MatchString(p.ParameterName):
		return fmt.Errorf("property ParameterName: expected an SSM parameter name such as /a/b, got %q", p.ParameterName)
	case p.RemovalPolicy != "" && p.RemovalPolicy != RemovalRetain && p.RemovalPolicy != RemovalDestroy:
		return fmt.Errorf("property RemovalPolicy: expected %s or %s, got %q", RemovalRetain, RemovalDestroy, p.RemovalPolicy)
	}
	return nil
}

// Publisher is the custom resource that copies a KMS key's public half to S3
// (DER and PEM) and to an SSM String parameter (PEM), so that offline
// verifiers and encrypting clients get the key without any KMS permission.
type Publisher struct {
	KMS             kmskey.GetPublicKeyAPI
	PutObject       PutObjectAPI
	DeleteObject    DeleteObjectAPI
	PutParameter    PutParameterAPI
	DeleteParameter DeleteParameterAPI
	// Retry bounds every AWS call. Zero value: awsretry's defaults with a
	// DefaultAttemptTimeout per attempt.
	Retry awsretry.Policy
	// Logger receives one line per publication. Default slog.Default().
	Logger *slog.Logger
}

var _ cfnresponse.Resource = (*Publisher)(nil)

// Create publishes the key. The physical id is left to cfnresponse, stable per
// stack and logical id, so no Update ever replaces the resource.
func (p *Publisher) Create(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	return p.publish(ctx, e.ResourceProperties)
}

// Update publishes again: the key, bucket, prefix or parameter may have
// changed. Copies at a previous location are left there, as on Delete with
// RemovalRetain.
func (p *Publisher) Update(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	return p.publish(ctx, e.ResourceProperties)
}

// Delete leaves the published copies in place (RemovalRetain, the default):
// verifiers may still hold signatures to check after the stack is gone. With
// RemovalDestroy it deletes them, and copies that are already gone count as
// deleted. It never fails because of what it finds missing.
func (p *Publisher) Delete(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	props, err := decode(e.ResourceProperties)
	if err != nil {
		return cfnresponse.Response{}, err
	}
	if props.RemovalPolicy != RemovalDestroy {
		p.logger(ctx).InfoContext(ctx, "public key copies retained", slog.String("bucket", props.BucketName),
			slog.String("prefix", props.ObjectKeyPrefix), slog.String("parameter", props.ParameterName))
		return cfnresponse.Response{}, nil
	}
	for _, name := range []string{DERObject, PEMObject} {
		key := props.ObjectKeyPrefix + name
		// S3 answers a delete of a missing key with success.
		err := p.retry(ctx, func(ctx context.Context) error {
			_, err := p.DeleteObject.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &props.BucketName, Key: &key})
			return err
		})
		if err != nil && !isNotFound(err) {
			return cfnresponse.Response{}, fmt.Errorf("deleting s3://%s/%s: %w", props.BucketName, key, err)
		}
	}
	err = p.retry(ctx, func(ctx context.Context) error {
		_, err := p.DeleteParameter.DeleteParameter(ctx, &ssmparam.DeleteParameterInput{Name: &props.ParameterName})
		return err
	})
	if err != nil && !isNotFound(err) {
		return cfnresponse.Response{}, fmt.Errorf("deleting parameter %s: %w", props.ParameterName, err)
	}
	p.logger(ctx).InfoContext(ctx, "public key copies deleted", slog.String("bucket", props.BucketName),
		slog.String("prefix", props.ObjectKeyPrefix), slog.String("parameter", props.ParameterName))
	return cfnresponse.Response{}, nil
}

func (p *Publisher) publish(ctx context.Context, raw map[string]any) (cfnresponse.Response, error) {
	props, err := decode(raw)
	if err != nil {
		return cfnresponse.Response{}, err
	}
	var pub *kmskey.PublicKey
	err = p.retry(ctx, func(ctx context.Context) error {
		var err error
		pub, err = kmskey.Fetch(ctx, p.KMS, props.KeyId)
		return err
	})
	if err != nil {
		return cfnresponse.Response{}, err
	}
	pemKey := pub.PEM()
	objects := []struct {
		name, contentType string
		body              []byte
	}{
		{DERObject, "application/pkix-key", pub.DER},
		{PEMObject, "application/x-pem-file", pemKey},
	}
	for _, o := range objects {
		key := props.ObjectKeyPrefix + o.name
		err := p.retry(ctx, func(ctx context.Context) error {
			_, err := p.PutObject.PutObject(ctx, &s3.PutObjectInput{
				Bucket:      &props.BucketName,
				Key:         &key,
				Body:        bytes.NewReader(o.body),
				ContentType: aws.String(o.contentType),
			})
			return err
		})
		if err != nil {
			return cfnresponse.Response{}, fmt.Errorf("writing s3://%s/%s: %w", props.BucketName, key, err)
		}
	}
	err = p.retry(ctx, func(ctx context.Context) error {
		_, err := p.PutParameter.PutParameter(ctx, &ssmparam.PutParameterInput{
			Name:        &props.ParameterName,
			Value:       aws.String(string(pemKey)),
			Type:        ssmparam.ParameterTypeString,
			Overwrite:   aws.Bool(true),
			Description: aws.String("PEM public key of KMS key " + pub.KeyID),
		})
		return err
	})
	if err != nil {
		return cfnresponse.Response{}, fmt.Errorf("writing parameter %s: %w", props.ParameterName, err)
	}
	sum := sha256.Sum256(pub.DER)
	fingerprint := hex.EncodeToString(sum[:])
	p.logger(ctx).InfoContext(ctx, "public key published", slog.String("key_arn", pub.KeyID), slog.String("key_spec", pub.KeySpec),
		slog.String("sha256", fingerprint), slog.String("bucket", props.BucketName),
		slog.String("prefix", props.ObjectKeyPrefix), slog.String("parameter", props.ParameterName))
	return cfnresponse.Response{Data: map[string]any{
		"KeyArn":          pub.KeyID,
		"KeySpec":         pub.KeySpec,
		"DerObjectKey":    props.ObjectKeyPrefix + DERObject,
		"PemObjectKey":    props.ObjectKeyPrefix + PEMObject,
		"ParameterName":   props.ParameterName,
		"PublicKeySha256": fingerprint,
	}}, nil
}

func decode(raw map[string]any) (Properties, error) {
	var props Properties
	if err := cfnresponse.Decode(raw, &props); err != nil {
		return Properties{}, err
	}
	if err := props.validate(); err != nil {
		return Properties{}, err
	}
	return props, nil
}

// DefaultAttemptTimeout bounds each AWS call when Retry.AttemptTimeout is zero.
const DefaultAttemptTimeout = 10 * time.Second

func (p *Publisher) retry(ctx context.Context, op func(context.Context) error) error {
	pol := p.Retry
	if pol.AttemptTimeout == 0 {
		pol.AttemptTimeout = DefaultAttemptTimeout
	}
	return awsretry.Do(ctx, pol, op)
}

func (p *Publisher) logger(ctx context.Context) *slog.Logger {
	l := p.Logger
	if l == nil {
		l = slog.Default()
	}
	return logging.WithRequest(ctx, l)
}

// isNotFound reports an SSM ParameterNotFound or an S3 NoSuchKey or
// NoSuchBucket: what a Delete wanted gone is gone already.
func isNotFound(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ParameterNotFound", "NoSuchKey", "NoSuchBucket", "NotFound":
		return true
	}
	return false
}
