package main_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/internal/kmskey"
	"github.com/securestacks/securestacks/lambda-src/internal/awsjson"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/ssmparam"
	main "github.com/securestacks/securestacks/lambda-src/kms-public-key"
)

// Function-type fakes, one per SDK operation.
type (
	getPublicKeyFunc    func(context.Context, *kms.GetPublicKeyInput, ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
	putObjectFunc       func(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	deleteObjectFunc    func(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	putParameterFunc    func(context.Context, *ssmparam.PutParameterInput) (*ssmparam.PutParameterOutput, error)
	deleteParameterFunc func(context.Context, *ssmparam.DeleteParameterInput) (*ssmparam.DeleteParameterOutput, error)
)

func (f getPublicKeyFunc) GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, o ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error) {
	return f(ctx, in, o...)
}
func (f putObjectFunc) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return f(ctx, in, o...)
}
func (f deleteObjectFunc) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, o ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	return f(ctx, in, o...)
}
func (f putParameterFunc) PutParameter(ctx context.Context, in *ssmparam.PutParameterInput) (*ssmparam.PutParameterOutput, error) {
	return f(ctx, in)
}
func (f deleteParameterFunc) DeleteParameter(ctx context.Context, in *ssmparam.DeleteParameterInput) (*ssmparam.DeleteParameterOutput, error) {
	return f(ctx, in)
}

const (
	keyArn = "arn:aws:kms:eu-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	bucket = "sandbox-asymmetrickeys-publickeys-1a2b3c"
	prefix = "public-keys/SigningKey/"
	param  = "/securestacks/Sandbox-AsymmetricKeys/SigningKey/public-key"
)

// world records what the fakes were asked to do.
type world struct {
	der        []byte
	objects    map[string][]byte
	types      map[string]string
	params     map[string]string
	calls      []string
	kmsErrs    []error // returned by successive GetPublicKey calls before success
	deleteErrs map[string]error
}

func newWorld(t *testing.T) *world {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return &world{der: der, objects: map[string][]byte{}, types: map[string]string{}, params: map[string]string{}, deleteErrs: map[string]error{}}
}

func (w *world) publisher() *main.Publisher {
	return &main.Publisher{
		KMS: getPublicKeyFunc(func(_ context.Context, in *kms.GetPublicKeyInput, _ ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error) {
			w.calls = append(w.calls, "GetPublicKey "+*in.KeyId)
			if len(w.kmsErrs) > 0 {
				err := w.kmsErrs[0]
				w.kmsErrs = w.kmsErrs[1:]
				return nil, err
			}
			return &kms.GetPublicKeyOutput{KeyId: aws.String(keyArn), PublicKey: w.der, KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify}, nil
		}),
		PutObject: putObjectFunc(func(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
			b, _ := io.ReadAll(in.Body)
			w.calls = append(w.calls, "PutObject "+*in.Bucket+"/"+*in.Key)
			w.objects[*in.Bucket+"/"+*in.Key], w.types[*in.Bucket+"/"+*in.Key] = b, *in.ContentType
			return &s3.PutObjectOutput{}, nil
		}),
		DeleteObject: deleteObjectFunc(func(_ context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
			w.calls = append(w.calls, "DeleteObject "+*in.Bucket+"/"+*in.Key)
			if err := w.deleteErrs[*in.Key]; err != nil {
				return nil, err
			}
			delete(w.objects, *in.Bucket+"/"+*in.Key)
			return &s3.DeleteObjectOutput{}, nil
		}),
		PutParameter: putParameterFunc(func(_ context.Context, in *ssmparam.PutParameterInput) (*ssmparam.PutParameterOutput, error) {
			w.calls = append(w.calls, "PutParameter "+*in.Name)
			if in.Type != ssmparam.ParameterTypeString || !*in.Overwrite {
				return nil, errors.New("want an overwritable String parameter")
			}
			w.params[*in.Name] = *in.Value
			return &ssmparam.PutParameterOutput{}, nil
		}),
		DeleteParameter: deleteParameterFunc(func(_ context.Context, in *ssmparam.DeleteParameterInput) (*ssmparam.DeleteParameterOutput, error) {
			w.calls = append(w.calls, "DeleteParameter "+*in.Name)
			if _, ok := w.params[*in.Name]; !ok {
				return nil, &awsjson.Error{Code: "ParameterNotFound", Message: "not found", Status: 400}
			}
			delete(w.params, *in.Name)
			return &ssmparam.DeleteParameterOutput{}, nil
		}),
		Retry:  awsretry.Policy{Sleep: func(context.Context, time.Duration) error { return nil }},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
}

func props(removal string) map[string]any {
	p := map[string]any{"ServiceToken": "arn:aws:lambda:eu-west-2:111122223333:function:provider", "KeyId": keyArn,
		"BucketName": bucket, "ObjectKeyPrefix": prefix, "ParameterName": param}
	if removal != "" {
		p["RemovalPolicy"] = removal
	}
	return p
}

func event(rt cfnresponse.RequestType, p map[string]any) cfnresponse.Event {
	e := cfnresponse.Event{RequestType: rt, StackId: "arn:aws:cloudformation:eu-west-2:111122223333:stack/Sandbox-AsymmetricKeys/1",
		RequestId: "r", ResourceType: "Custom::KmsPublicKey", LogicalResourceId: "SigningKeyPublication", ResourceProperties: p}
	if rt != cfnresponse.Create {
		e.PhysicalResourceId = "SigningKeyPublication-0123456789abcdef"
	}
	return e
}

func TestCreateAndUpdatePublishDERAndPEMToS3AndPEMToSSM(t *testing.T) {
	for _, rt := range []cfnresponse.RequestType{cfnresponse.Create, cfnresponse.Update} {
		t.Run(string(rt), func(t *testing.T) {
			// GIVEN a KMS key and empty S3 and SSM
			w := newWorld(t)
			// WHEN the custom resource gets a Create or Update
			resp, err := cfnresponse.Handler(w.publisher(), nil)(context.Background(), event(rt, props("")))
			if err != nil {
				t.Fatal(err)
			}
			// THEN the DER and the PEM are in S3 and the PEM in the parameter, all of the same key
			der, pemKey := w.objects[bucket+"/"+prefix+"public-key.der"], w.objects[bucket+"/"+prefix+"public-key.pem"]
			if !bytes.Equal(der, w.der) || !bytes.Equal(pemKey, kmskey.EncodePEM(w.der)) || w.params[param] != string(pemKey) {
				t.Fatalf("published %d DER bytes, PEM %q, parameter %q", len(der), pemKey, w.params[param])
			}
			if w.types[bucket+"/"+prefix+"public-key.pem"] != "application/x-pem-file" {
				t.Errorf("PEM content type %q", w.types[bucket+"/"+prefix+"public-key.pem"])
			}
			// AND the attributes name the copies and fingerprint the key
			sum := sha256.Sum256(w.der)
			want := map[string]any{"KeyArn": keyArn, "KeySpec": "ECC_NIST_P256", "DerObjectKey": prefix + "public-key.der",
				"PemObjectKey": prefix + "public-key.pem", "ParameterName": param, "PublicKeySha256": hex.EncodeToString(sum[:])}
			for k, v := range want {
				if resp.Data[k] != v {
					t.Errorf("Data[%s] = %v, want %v", k, resp.Data[k], v)
				}
			}
			if rt == cfnresponse.Create && !strings.HasPrefix(resp.PhysicalResourceId, "SigningKeyPublication-") {
				t.Errorf("physical id %q", resp.PhysicalResourceId)
			}
		})
	}
}

func TestDeleteRetainsByDefaultAndDestroysOnlyWhenAsked(t *testing.T) {
	cases := []struct {
		name      string
		removal   string
		published bool
		wantCalls []string
		wantLeft  int
	}{
		{"retain leaves everything and calls nothing", "", true, nil, 3},
		{"explicit retain", "retain", true, nil, 3},
		{"destroy deletes the copies", "destroy", true, []string{
			"DeleteObject " + bucket + "/" + prefix + "public-key.der",
			"DeleteObject " + bucket + "/" + prefix + "public-key.pem",
			"DeleteParameter " + param}, 0},
		{"destroy succeeds when they are gone", "destroy", false, []string{
			"DeleteObject " + bucket + "/" + prefix + "public-key.der",
			"DeleteObject " + bucket + "/" + prefix + "public-key.pem",
			"DeleteParameter " + param}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a published key, or one whose copies were removed by hand
			w := newWorld(t)
			pub := w.publisher()
			if tc.published {
				if _, err := pub.Create(context.Background(), event(cfnresponse.Create, props(tc.removal))); err != nil {
					t.Fatal(err)
				}
			}
			w.calls = nil
			// WHEN CloudFormation deletes the resource
			_, err := cfnresponse.Handler(pub, nil)(context.Background(), event(cfnresponse.Delete, props(tc.removal)))
			// THEN it succeeds, and touches the copies only under destroy
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(w.calls, "\n") != strings.Join(tc.wantCalls, "\n") {
				t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(w.calls, "\n"), strings.Join(tc.wantCalls, "\n"))
			}
			if left := len(w.objects) + len(w.params); left != tc.wantLeft {
				t.Errorf("%d copies left, want %d", left, tc.wantLeft)
			}
		})
	}
}

func TestDeleteWithDestroyTreatsAMissingBucketAsGoneButFailsOnDenial(t *testing.T) {
	// GIVEN a bucket that no longer exists
	w := newWorld(t)
	w.deleteErrs[prefix+"public-key.der"] = &smithy.GenericAPIError{Code: "NoSuchBucket", Message: "gone"}
	w.deleteErrs[prefix+"public-key.pem"] = &smithy.GenericAPIError{Code: "NoSuchBucket", Message: "gone"}
	// WHEN deleting with destroy THEN it succeeds
	if _, err := w.publisher().Delete(context.Background(), event(cfnresponse.Delete, props("destroy"))); err != nil {
		t.Fatalf("missing bucket: %v", err)
	}
	// GIVEN a denied delete WHEN deleting THEN the error names the object
	w.deleteErrs[prefix+"public-key.der"] = &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}
	_, err := w.publisher().Delete(context.Background(), event(cfnresponse.Delete, props("destroy")))
	if err == nil || !strings.Contains(err.Error(), "deleting s3://"+bucket+"/"+prefix+"public-key.der") {
		t.Fatalf("denied delete: %v", err)
	}
}

func TestPublishRetriesThrottlingAndReportsOtherErrors(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}
	// GIVEN a KMS that throttles twice WHEN publishing THEN the third attempt succeeds
	w := newWorld(t)
	w.kmsErrs = []error{throttled, throttled}
	if _, err := w.publisher().Create(context.Background(), event(cfnresponse.Create, props(""))); err != nil {
		t.Fatalf("after throttling: %v", err)
	}
	if n := strings.Count(strings.Join(w.calls, "\n"), "GetPublicKey"); n != 3 {
		t.Errorf("%d GetPublicKey calls, want 3", n)
	}
	// GIVEN a KMS that denies WHEN publishing THEN nothing is written and the error is KMS's
	w = newWorld(t)
	w.kmsErrs = []error{&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "denied"}}
	_, err := w.publisher().Create(context.Background(), event(cfnresponse.Create, props("")))
	if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") || len(w.objects) > 0 {
		t.Fatalf("denied: %v, %d objects", err, len(w.objects))
	}
}

func TestBadPropertiesAreOneLineErrorsNamingTheProperty(t *testing.T) {
	cases := []struct {
		key, value, want string
	}{
		{"KeyId", "", "property KeyId: expected a KMS key ARN"},
		{"BucketName", "Not_A_Bucket", `property BucketName: expected an S3 bucket name, got "Not_A_Bucket"`},
		{"ObjectKeyPrefix", "no-slash", "property ObjectKeyPrefix: expected empty or a key prefix ending in /"},
		{"ParameterName", "bad name!", "property ParameterName: expected an SSM parameter name"},
		{"RemovalPolicy", "snapshot", `property RemovalPolicy: expected retain or destroy, got "snapshot"`},
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			// GIVEN one bad property
			w := newWorld(t)
			p := props("")
			p[tc.key] = tc.value
			// WHEN the resource is created
			_, err := cfnresponse.Handler(w.publisher(), nil)(context.Background(), event(cfnresponse.Create, p))
			// THEN it fails with one line naming the property, before any AWS call
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
			if len(w.calls) > 0 {
				t.Errorf("calls made: %v", w.calls)
			}
		})
	}
}
