package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"

	"github.com/securestacks/securestacks/internal/mtlssecret"
	"github.com/securestacks/securestacks/internal/pcaimport"
)

// pcaCommands is the pca group: the two out-of-band steps of a subordinate CA
// whose root is outside AWS Private CA (README.md, "Portable root CA").
var pcaCommands = []command{
	{name: "csr", summary: "write the CSR of a subordinate CA for the external root to sign", run: runPcaCsr},
	{name: "import", summary: "check an externally signed CA certificate and chain locally, then import them", run: runPcaImport},
}

// pcaTimeout bounds one command's AWS Private CA calls, retries included.
const pcaTimeout = 60 * time.Second

var pcaArnRe = regexp.MustCompile(`^arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:[0-9]{12}:certificate-authority/[0-9a-f-]{36}$`)

// pcaAPI is what the pca commands call.
type pcaAPI interface {
	DescribeCertificateAuthority(context.Context, *acmpca.DescribeCertificateAuthorityInput, ...func(*acmpca.Options)) (*acmpca.DescribeCertificateAuthorityOutput, error)
	GetCertificateAuthorityCsr(context.Context, *acmpca.GetCertificateAuthorityCsrInput, ...func(*acmpca.Options)) (*acmpca.GetCertificateAuthorityCsrOutput, error)
	ImportCertificateAuthorityCertificate(context.Context, *acmpca.ImportCertificateAuthorityCertificateInput, ...func(*acmpca.Options)) (*acmpca.ImportCertificateAuthorityCertificateOutput, error)
}

var _ pcaAPI = (*acmpca.Client)(nil)

// pcaClient builds an AWS Private CA client from the standard SDK environment
// (AWS_ENDPOINT_URL_ACM_PCA among it) and the flags.
func (f awsFlags) pcaClient(ctx context.Context) (pcaAPI, error) {
	cfg, err := f.config(ctx)
	if err != nil {
		return nil, err
	}
	return acmpca.NewFromConfig(cfg, func(o *acmpca.Options) {
		if *f.endpointURL != "" {
			o.BaseEndpoint = f.endpointURL
		}
	}), nil
}

func addCaArnFlag(fs interface {
	String(name, value, usage string) *string
}) *string {
	return fs.String("ca-arn", "", "ARN of the subordinate CA (the stack output SubordinateCaArn...) (required)")
}

// checkPcaArgs refuses positional arguments and a malformed --ca-arn.
func checkPcaArgs(where string, fs *flag.FlagSet, arn string, stderr io.Writer) int {
	if fs.NArg() > 0 {
		return usageError(stderr, where, "unexpected argument %q", fs.Arg(0))
	}
	if !pcaArnRe.MatchString(arn) {
		return usageError(stderr, where, "--ca-arn: expected an AWS Private CA ARN such as arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/<uuid>, got %q", arn)
	}
	return exitOK
}

func runPcaCsr(args []string, stdout, stderr io.Writer) int {
	const where = "pca csr"
	fs := newFlagSet(where)
	arn := addCaArnFlag(fs)
	out := fs.String("out", "", "write the PEM CSR to FILE (default: standard output)")
	awsf := addServiceFlags(fs, "AWS Private CA", "AWS_ENDPOINT_URL_ACM_PCA")
	if done, code := parseFlags(fs, args, prog+" pca csr --ca-arn ARN [--out FILE]",
		"Write the CSR of a subordinate CA (GetCertificateAuthorityCsr), for the external root to sign.", stdout, stderr); done {
		return code
	}
	if code := checkPcaArgs(where, fs, *arn, stderr); code != exitOK {
		return code
	}
	ctx, cancel := context.WithTimeout(context.Background(), pcaTimeout)
	defer cancel()
	client, err := awsf.pcaClient(ctx)
	if err != nil {
		return failure(stderr, where, err)
	}
	res, err := client.GetCertificateAuthorityCsr(ctx, &acmpca.GetCertificateAuthorityCsrInput{CertificateAuthorityArn: arn})
	if err != nil {
		var inProgress *pcatypes.RequestInProgressException
		if errors.As(err, &inProgress) {
			return failure(stderr, where, errors.New("the CA is still creating its key and CSR (RequestInProgressException): run the command again in a minute"))
		}
		return failure(stderr, where, fmt.Errorf("GetCertificateAuthorityCsr: %w", err))
	}
	if err := writeOutput(*out, stdout, []byte(aws.ToString(res.Csr))); err != nil {
		return failure(stderr, where, fmt.Errorf("--out: %w", err))
	}
	writeLine(stderr, where, "next: have the external root sign it with ext.conf (README.md, \"Portable root CA\"), then run "+
		prog+" pca import --ca-arn "+*arn+" --certificate sub.pem --chain root.pem")
	return exitOK
}

func runPcaImport(args []string, stdout, stderr io.Writer) int {
	const where = "pca import"
	fs := newFlagSet(where)
	arn := addCaArnFlag(fs)
	certFile := fs.String("certificate", "", "PEM certificate the external root signed for the CA's CSR (required)")
	chainFile := fs.String("chain", "", "PEM chain: the certificate's issuer first, the root last (required)")
	renewBefore := fs.Int("renew-before-days", mtlssecret.DefaultRenewBeforeDays, "the environment's mtls.renewBeforeDays: warn when the certificate cannot last one certificate validity, this and the 90 days to re-sign")
	pathLen := fs.Int("path-len", 0, "CA levels the subordinate issues below itself (0: end-entity certificates only, as the mTLS system)")
	awsf := addServiceFlags(fs, "AWS Private CA", "AWS_ENDPOINT_URL_ACM_PCA")
	if done, code := parseFlags(fs, args, prog+" pca import --ca-arn ARN --certificate sub.pem --chain root.pem",
		"Check locally that the certificate is for the CA's key (its CSR), that the chain verifies with the root last,\n"+
			"that it is CA:TRUE (critical) with the path length needed, and that it outlives the 395-day certificates\n"+
			"it issues; then install it (ImportCertificateAuthorityCertificate). A first import activates the CA.", stdout, stderr); done {
		return code
	}
	if code := checkPcaArgs(where, fs, *arn, stderr); code != exitOK {
		return code
	}
	if *renewBefore < 1 || *renewBefore > 365 {
		return usageError(stderr, where, "--renew-before-days: expected a whole number from 1 to 365, got %d", *renewBefore)
	}
	if *pathLen < 0 {
		return usageError(stderr, where, "--path-len: expected 0 or more, got %d", *pathLen)
	}
	files := map[string]*string{"certificate": certFile, "chain": chainFile}
	contents := map[string][]byte{}
	for _, flag := range []string{"certificate", "chain"} {
		if *files[flag] == "" {
			return usageError(stderr, where, "--%s: expected a PEM file", flag)
		}
		b, err := os.ReadFile(*files[flag])
		if err != nil {
			return usageError(stderr, where, "--%s: %v", flag, err)
		}
		contents[flag] = b
	}

	ctx, cancel := context.WithTimeout(context.Background(), pcaTimeout)
	defer cancel()
	client, err := awsf.pcaClient(ctx)
	if err != nil {
		return failure(stderr, where, err)
	}
	desc, err := client.DescribeCertificateAuthority(ctx, &acmpca.DescribeCertificateAuthorityInput{CertificateAuthorityArn: arn})
	if err != nil {
		return failure(stderr, where, fmt.Errorf("DescribeCertificateAuthority: %w", err))
	}
	ca := desc.CertificateAuthority
	if ca == nil || ca.Type != pcatypes.CertificateAuthorityTypeSubordinate {
		return failure(stderr, where, fmt.Errorf("--ca-arn: %s is not a SUBORDINATE CA: expected the subordinate the external root signs", *arn))
	}
	// AWS installs an externally signed certificate on a subordinate that is
	// PENDING_CERTIFICATE, ACTIVE, DISABLED or EXPIRED
	// (https://docs.aws.amazon.com/privateca/latest/userguide/PcaExternalRoot.html).
	switch ca.Status {
	case pcatypes.CertificateAuthorityStatusPendingCertificate, pcatypes.CertificateAuthorityStatusActive,
		pcatypes.CertificateAuthorityStatusDisabled, pcatypes.CertificateAuthorityStatusExpired:
	default:
		return failure(stderr, where, fmt.Errorf("--ca-arn: %s is %s: expected PENDING_CERTIFICATE (first import), or ACTIVE, DISABLED or EXPIRED (re-sign)", *arn, ca.Status))
	}
	csr, err := client.GetCertificateAuthorityCsr(ctx, &acmpca.GetCertificateAuthorityCsrInput{CertificateAuthorityArn: arn})
	if err != nil {
		return failure(stderr, where, fmt.Errorf("GetCertificateAuthorityCsr: %w", err))
	}
	res, err := pcaimport.Check(pcaimport.Input{
		Csr:              []byte(aws.ToString(csr.Csr)),
		Certificate:      contents["certificate"],
		Chain:            contents["chain"],
		PathLen:          *pathLen,
		MinValidityDays:  mtlssecret.CertificateValidityDays,
		WarnValidityDays: int(mtlssecret.MinIssuingCaValidityDays(float64(*renewBefore))),
	})
	if err != nil {
		return failure(stderr, where, fmt.Errorf("not imported: %w", err))
	}
	for _, w := range res.Warnings {
		writeLine(stderr, where, "warning: "+w)
	}
	if _, err := client.ImportCertificateAuthorityCertificate(ctx, &acmpca.ImportCertificateAuthorityCertificateInput{
		CertificateAuthorityArn: arn,
		Certificate:             contents["certificate"],
		CertificateChain:        contents["chain"],
	}); err != nil {
		return failure(stderr, where, fmt.Errorf("ImportCertificateAuthorityCertificate: %w", err))
	}
	until := res.Certificate.NotAfter.UTC().Format("2006-01-02")
	if ca.Status == pcatypes.CertificateAuthorityStatusPendingCertificate {
		fmt.Fprintf(stdout, "imported: %s is ACTIVE, valid until %s; next: set mtls.ca.externalRoot.imported to true for this environment and deploy again (README.md, \"Portable root CA\")\n", *arn, until)
	} else {
		fmt.Fprintf(stdout, "re-signed: %s is valid until %s; ACM keeps issuing and renewing from it, nothing to deploy\n", *arn, until)
	}
	return exitOK
}
