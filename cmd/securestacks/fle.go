package main

import (
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/securestacks/securestacks/internal/fle"
)

// fleCommands is the fle group: field-level encryption in the #01#...#10# format.
var fleCommands = []command{
	{name: "encrypt", summary: "encrypt chosen JSON fields with an RSA public key (RSAES-OAEP SHA-256)", run: runFleEncrypt},
	{name: "decrypt", summary: "decrypt every #01#...#10# marker in a text through kms:Decrypt", run: runFleDecrypt},
}

// fleTimeout bounds one fle command's KMS calls, retries included.
const fleTimeout = 5 * time.Minute

func runFleEncrypt(args []string, stdout, stderr io.Writer) int {
	const where = "fle encrypt"
	fs := newFlagSet(where)
	key := addPublicKeyFlags(fs, "RSA public key file, PEM or DER (or use --key-id)")
	fields := fs.String("fields", "", "comma-separated field names to encrypt, at any depth, e.g. fname,lname,ssn (required)")
	in := fs.String("in", "-", "JSON file to read, - for standard input")
	out := fs.String("out", "", "write the result to FILE (default: standard output)")
	aws := addAWSFlags(fs)
	if done, code := parseFlags(fs, args, prog+" fle encrypt (--public-key FILE | --key-id ID) --fields a,b,c [--in FILE] [--out FILE]",
		"Encrypt the chosen fields of a JSON document with the RSA public key (RSAES-OAEP SHA-256),\n"+
			"each as #01#<base64>#10#. Values must be strings (or lists of strings) of at most\n"+
			"190 bytes for RSA-2048; longer values are an error, never truncated.", stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, where, "unexpected argument %q; pass the file with --in", fs.Arg(0))
	}
	if code := key.check(where, stderr); code != exitOK {
		return code
	}
	var names []string
	for _, f := range strings.Split(*fields, ",") {
		if f = strings.TrimSpace(f); f != "" {
			names = append(names, f)
		}
	}
	if len(names) == 0 {
		return usageError(stderr, where, "--fields: expected comma-separated field names such as fname,lname,ssn")
	}
	pub, code := key.load(where, aws, stderr)
	if code != exitOK {
		return code
	}
	rsaKey, ok := pub.(*rsa.PublicKey)
	if !ok {
		return usageError(stderr, where, "--public-key: field-level encryption needs an RSA key (ENCRYPT_DECRYPT), got an ECC key")
	}
	enc, err := fle.NewEncryptor(rsaKey)
	if err != nil {
		return usageError(stderr, where, "--%s", strings.Replace(strings.TrimPrefix(err.Error(), "fle: "), "public key", "public-key", 1))
	}
	body, err := readInput(*in)
	if err != nil {
		return usageError(stderr, where, "--in: %v", err)
	}
	result, err := enc.EncryptJSON(body, names)
	if err != nil {
		return failure(stderr, where, err)
	}
	if err := writeOutput(*out, stdout, result); err != nil {
		return failure(stderr, where, fmt.Errorf("--out: %w", err))
	}
	return exitOK
}

func runFleDecrypt(args []string, stdout, stderr io.Writer) int {
	const where = "fle decrypt"
	fs := newFlagSet(where)
	keyID := fs.String("key-id", "", "the KMS key the fields were encrypted under (required): the key of #01# markers")
	markerKeys := fs.String("marker-keys", "", "the keys of other marker ids, as 02=KEY,03=KEY: #02#...#10# decrypts under the key named for 02 only")
	in := fs.String("in", "-", "text to read, - for standard input")
	out := fs.String("out", "", "write the result to FILE (default: standard output)")
	format := fs.String("format", "text", "text: put each plaintext in place as is, as the seed does; json: escape it for a JSON string; form: a form-urlencoded body from the edge encrypter")
	concurrency := fs.Int("concurrency", fle.DefaultConcurrency, "kms:Decrypt calls in flight (1 to 64)")
	aws := addAWSFlags(fs)
	if done, code := parseFlags(fs, args, prog+" fle decrypt --key-id ID [--marker-keys 02=ID,...] [--format text|json|form] [--in FILE] [--out FILE]",
		"Find every #01#<base64>#10# marker and decrypt it with kms:Decrypt (RSAES_OAEP_SHA_256).\n"+
			"If any marker fails, nothing is written and the error names the marker's position.", stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, where, "unexpected argument %q; pass the file with --in", fs.Arg(0))
	}
	if *keyID == "" {
		return usageError(stderr, where, "--key-id: expected the KMS key id, key ARN or alias the fields were encrypted under")
	}
	keys, err := fle.ParseMarkerKeys(*markerKeys)
	if err != nil {
		return usageError(stderr, where, "--marker-keys: %v", err)
	}
	sub, err := fle.ParseSubstitution(*format)
	if err != nil {
		return usageError(stderr, where, "--%v", err)
	}
	if *concurrency < 1 || *concurrency > 64 {
		return usageError(stderr, where, "--concurrency: expected 1 to 64, got %d", *concurrency)
	}
	text, err := readInput(*in)
	if err != nil {
		return usageError(stderr, where, "--in: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), fleTimeout)
	defer cancel()
	client, err := aws.kmsClient(ctx)
	if err != nil {
		return failure(stderr, where, err)
	}
	// No retry hook: the client's standard SDK retryer backs off on throttling.
	decrypt := fle.KMSDecryptFunc(client, *keyID, nil)
	result, err := fle.Decrypt(ctx, text, decrypt, &fle.DecryptOptions{Substitution: sub, Concurrency: *concurrency,
		Keys: fle.MarkerDecryptFuncs(client, keys, nil)})
	if err != nil {
		return failure(stderr, where, err)
	}
	if err := writeOutput(*out, stdout, result); err != nil {
		return failure(stderr, where, fmt.Errorf("--out: %w", err))
	}
	return exitOK
}
