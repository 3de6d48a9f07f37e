package main

import (
	"context"
	"crypto"
	"flag"
	"io"
	"os"
	"strings"

	"github.com/securestacks/securestacks/internal/kmskey"
)

// publicKeyFlags is the "--public-key FILE | --key-id ID" pair of the commands
// that work with a public key only: fle encrypt and kms verify.
type publicKeyFlags struct {
	file, keyID *string
}

// addPublicKeyFlags registers the pair; fileUsage describes --public-key.
func addPublicKeyFlags(fs *flag.FlagSet, fileUsage string) publicKeyFlags {
	return publicKeyFlags{
		file:  fs.String("public-key", "", fileUsage),
		keyID: fs.String("key-id", "", "fetch the public key from KMS with kms:GetPublicKey (or use --public-key)"),
	}
}

// check is a usage error unless exactly one of the two was given: it returns
// exitOK or the exit status after one line on stderr.
func (f publicKeyFlags) check(where string, stderr io.Writer) int {
	if (*f.file == "") == (*f.keyID == "") {
		return usageError(stderr, where, "expected exactly one of --public-key FILE and --key-id ID")
	}
	return exitOK
}

// load reads and parses the key file (a bad file is a usage error) or fetches
// the key with kms:GetPublicKey (a KMS failure is a failure). It returns the
// key and exitOK, or nil and the exit status after one line on stderr.
func (f publicKeyFlags) load(where string, aws awsFlags, stderr io.Writer) (crypto.PublicKey, int) {
	var der []byte
	if *f.file != "" {
		data, err := os.ReadFile(*f.file)
		if err != nil {
			return nil, usageError(stderr, where, "--public-key: %v", err)
		}
		der = data
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), kmsTimeout)
		defer cancel()
		client, err := aws.kmsClient(ctx)
		if err != nil {
			return nil, failure(stderr, where, err)
		}
		k, err := kmskey.Fetch(ctx, client, *f.keyID)
		if err != nil {
			return nil, failure(stderr, where, err)
		}
		der = k.DER
	}
	pub, err := kmskey.ParsePublicKey(der)
	if err != nil {
		return nil, usageError(stderr, where, "--%s", strings.Replace(err.Error(), "public key", "public-key", 1))
	}
	return pub, exitOK
}
