package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/securestacks/securestacks/internal/kmskey"
	"github.com/securestacks/securestacks/internal/kmssig"
)

// kmsCommands is the kms group: sign with KMS, verify offline, fetch public keys.
var kmsCommands = []command{
	{name: "sign", summary: "sign a file with kms:Sign (files over 4096 bytes are hashed locally)", run: runKmsSign},
	{name: "verify", summary: "verify a KMS signature offline, with the public key, as openssl does", run: runKmsVerify},
	{name: "public-key", summary: "write a KMS key's public key as PEM or DER", run: runKmsPublicKey},
}

// kmsTimeout bounds one command's KMS calls, retries included.
const kmsTimeout = 60 * time.Second

// awsFlags are the flags every command that calls AWS takes.
type awsFlags struct {
	endpointURL *string
	region      *string
}

func addAWSFlags(fs interface {
	String(name, value, usage string) *string
}) awsFlags {
	return addServiceFlags(fs, "KMS", "AWS_ENDPOINT_URL_KMS")
}

// addServiceFlags adds --endpoint-url and --region for a command that calls
// service, whose SDK endpoint variable is endpointEnv.
func addServiceFlags(fs interface {
	String(name, value, usage string) *string
}, service, endpointEnv string) awsFlags {
	return awsFlags{
		endpointURL: fs.String("endpoint-url", "", "send "+service+" requests to this URL, e.g. a local emulator (default: the SDK's endpoint, or "+endpointEnv+")"),
		region:      fs.String("region", "", "AWS region (default: AWS_REGION or the shared config)"),
	}
}

// config loads the standard SDK environment (AWS_REGION, AWS_PROFILE,
// credentials, AWS_ENDPOINT_URL_<SERVICE> ...) with --region.
func (f awsFlags) config(ctx context.Context) (aws.Config, error) {
	return loadAWSConfig(ctx, *f.region)
}

// kmsClient builds a KMS client from the standard SDK environment and the
// flags.
func (f awsFlags) kmsClient(ctx context.Context) (*kms.Client, error) {
	cfg, err := f.config(ctx)
	if err != nil {
		return nil, err
	}
	return kms.NewFromConfig(cfg, func(o *kms.Options) {
		if *f.endpointURL != "" {
			o.BaseEndpoint = f.endpointURL
		}
	}), nil
}

// loadAWSConfig loads the standard SDK configuration, with region when it is set, and fails
// when no region is configured at all.
func loadAWSConfig(ctx context.Context, region string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region: set AWS_REGION or pass --region")
	}
	return cfg, nil
}

// readInput reads path, or standard input for "-".
func readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}

// writeOutput writes b to path, or to stdout for "" and "-".
func writeOutput(path string, stdout io.Writer, b []byte) error {
	if path == "" || path == "-" {
		_, err := stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func runKmsSign(args []string, stdout, stderr io.Writer) int {
	const where = "kms sign"
	fs := newFlagSet(where)
	keyID := fs.String("key-id", "", "KMS key id, key ARN or alias (required)")
	message := fs.String("message", "", "file to sign, - for standard input (required)")
	messageType := fs.String("message-type", "RAW", "RAW (the message itself) or DIGEST (its hash, already computed)")
	algorithm := fs.String("algorithm", "", "KMS signing algorithm, e.g. RSASSA_PKCS1_V1_5_SHA_512 (required)")
	out := fs.String("out", "", "write the raw signature to FILE (default: base64 on standard output)")
	aws := addAWSFlags(fs)
	if done, code := parseFlags(fs, args, prog+" kms sign --key-id ID --algorithm ALG --message FILE [--out FILE]",
		"Sign a file with the KMS key (kms:Sign). A RAW message over 4096 bytes is hashed here and sent\n"+
			"as DIGEST, which yields the same signature; the file itself never leaves the machine.", stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, where, "unexpected argument %q; pass the file with --message", fs.Arg(0))
	}
	if *keyID == "" {
		return usageError(stderr, where, "--key-id: expected a KMS key id, key ARN or alias")
	}
	if *message == "" {
		return usageError(stderr, where, "--message: expected the file to sign, or - for standard input")
	}
	alg, err := kmssig.ParseAlgorithm(*algorithm)
	if err != nil {
		return usageError(stderr, where, "--%v", err)
	}
	mt, err := kmssig.ParseMessageType(*messageType)
	if err != nil {
		return usageError(stderr, where, "--%v", strings.Replace(err.Error(), "message type", "message-type", 1))
	}
	msg, err := readInput(*message)
	if err != nil {
		return usageError(stderr, where, "--message: %v", err)
	}
	if _, err := kmssig.Digest(alg, mt, msg); err != nil {
		return usageError(stderr, where, "--%v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), kmsTimeout)
	defer cancel()
	client, err := aws.kmsClient(ctx)
	if err != nil {
		return failure(stderr, where, err)
	}
	sig, err := kmssig.Sign(ctx, client, *keyID, alg, mt, msg)
	if err != nil {
		return failure(stderr, where, err)
	}
	if *out != "" {
		if err := writeOutput(*out, stdout, sig.Bytes); err != nil {
			return failure(stderr, where, fmt.Errorf("--out: %w", err))
		}
		return exitOK
	}
	fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(sig.Bytes))
	return exitOK
}

func runKmsVerify(args []string, stdout, stderr io.Writer) int {
	const where = "kms verify"
	fs := newFlagSet(where)
	key := addPublicKeyFlags(fs, "public key file, PEM or DER (or use --key-id)")
	signature := fs.String("signature", "", "file holding the raw signature bytes (or use --signature-base64)")
	signatureB64 := fs.String("signature-base64", "", "the signature, base64-encoded (or use --signature)")
	message := fs.String("message", "", "the signed file, - for standard input (required)")
	messageType := fs.String("message-type", "RAW", "RAW (the message itself) or DIGEST (its hash)")
	algorithm := fs.String("algorithm", "", "KMS signing algorithm the signature was made with (required)")
	aws := addAWSFlags(fs)
	if done, code := parseFlags(fs, args, prog+" kms verify (--public-key FILE | --key-id ID) (--signature FILE | --signature-base64 B64) --message FILE --algorithm ALG",
		"Verify a KMS signature offline, with the public key only. Prints \"Verified OK\" and exits 0,\n"+
			"or prints \"Verification Failure\" and exits 1, as openssl dgst -verify does.", stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, where, "unexpected argument %q; pass the file with --message", fs.Arg(0))
	}
	if code := key.check(where, stderr); code != exitOK {
		return code
	}
	if (*signature == "") == (*signatureB64 == "") {
		return usageError(stderr, where, "expected exactly one of --signature FILE and --signature-base64 B64")
	}
	if *message == "" {
		return usageError(stderr, where, "--message: expected the signed file, or - for standard input")
	}
	alg, err := kmssig.ParseAlgorithm(*algorithm)
	if err != nil {
		return usageError(stderr, where, "--%v", err)
	}
	mt, err := kmssig.ParseMessageType(*messageType)
	if err != nil {
		return usageError(stderr, where, "--%v", strings.Replace(err.Error(), "message type", "message-type", 1))
	}
	var sig []byte
	if *signature != "" {
		if sig, err = os.ReadFile(*signature); err != nil {
			return usageError(stderr, where, "--signature: %v", err)
		}
	} else if sig, err = base64.StdEncoding.DecodeString(strings.TrimSpace(*signatureB64)); err != nil {
		return usageError(stderr, where, "--signature-base64: expected base64: %v", err)
	}
	msg, err := readInput(*message)
	if err != nil {
		return usageError(stderr, where, "--message: %v", err)
	}

	pub, code := key.load(where, aws, stderr)
	if code != exitOK {
		return code
	}
	if err := kmssig.CheckKey(pub, alg); err != nil {
		return usageError(stderr, where, "--%v", err)
	}
	switch err := kmssig.Verify(pub, alg, mt, msg, sig); {
	case err == nil:
		fmt.Fprintln(stdout, "Verified OK")
		return exitOK
	case errors.Is(err, kmssig.ErrVerification):
		fmt.Fprintln(stdout, "Verification Failure")
		return exitFailure
	default:
		return usageError(stderr, where, "--%v", err)
	}
}

func runKmsPublicKey(args []string, stdout, stderr io.Writer) int {
	const where = "kms public-key"
	fs := newFlagSet(where)
	keyID := fs.String("key-id", "", "KMS key id, key ARN or alias (required)")
	format := fs.String("format", "PEM", "PEM or DER (DER is what kms:GetPublicKey returns)")
	out := fs.String("out", "", "write the key to FILE (default: standard output)")
	aws := addAWSFlags(fs)
	if done, code := parseFlags(fs, args, prog+" kms public-key --key-id ID [--format PEM|DER] [--out FILE]",
		"Fetch the public key of a KMS asymmetric key (kms:GetPublicKey) and write it as PEM or DER.", stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, where, "unexpected argument %q", fs.Arg(0))
	}
	if *keyID == "" {
		return usageError(stderr, where, "--key-id: expected a KMS key id, key ARN or alias")
	}
	f := strings.ToUpper(*format)
	if f != "PEM" && f != "DER" {
		return usageError(stderr, where, "--format: expected PEM or DER, got %q", *format)
	}
	ctx, cancel := context.WithTimeout(context.Background(), kmsTimeout)
	defer cancel()
	client, err := aws.kmsClient(ctx)
	if err != nil {
		return failure(stderr, where, err)
	}
	k, err := kmskey.Fetch(ctx, client, *keyID)
	if err != nil {
		return failure(stderr, where, err)
	}
	b := k.DER
	if f == "PEM" {
		b = k.PEM()
	}
	if err := writeOutput(*out, stdout, b); err != nil {
		return failure(stderr, where, fmt.Errorf("--out: %w", err))
	}
	return exitOK
}
