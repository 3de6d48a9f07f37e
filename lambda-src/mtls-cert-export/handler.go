package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/mtlsexport"
)

// Properties are the custom resource's properties, as constructs/mtls sets
// them for one endpoint.
type Properties struct {
	// CertificateArn is the endpoint's ACM private certificate, exported
	// into the secret. Conflicts with Issue.
	CertificateArn string
	// Issue is the certificate AWS Private CA issues for a key this function
	// generates: the gateway's client certificate, which needs the clientAuth
	// extended key usage ACM no longer issues. Conflicts with CertificateArn.
	Issue *mtlsexport.IssueSpec
	// SecretArn is the endpoint's secret, which this resource writes but
	// does not own: the secret's removal policy decides its fate.
	SecretArn string
}

func (p Properties) validate(which string) error {
	switch {
	case p.Issue != nil && p.CertificateArn != "":
		return fmt.Errorf("%s properties: CertificateArn conflicts with Issue: expected one of them", which)
	case p.Issue != nil:
		if err := p.Issue.Validate(which + " property Issue"); err != nil {
			return err
		}
	default:
		if err := mtlsexport.ValidateCertificateArn(which+" property CertificateArn", p.CertificateArn); err != nil {
			return err
		}
	}
	return mtlsexport.ValidateSecretArn(which+" property SecretArn", p.SecretArn)
}

// same reports whether a and b describe the same certificate and secret.
func same(a, b Properties) bool {
	if (a.Issue == nil) != (b.Issue == nil) || a.Issue != nil && *a.Issue != *b.Issue {
		return false
	}
	return a.CertificateArn == b.CertificateArn && a.SecretArn == b.SecretArn
}

// Exporter is the part of mtlsexport.Exporter the resource uses.
type Exporter interface {
	Export(ctx context.Context, certificateArn, secretArn string) (*mtlsexport.Result, error)
}

var _ Exporter = (*mtlsexport.Exporter)(nil)

// Issuer is the part of mtlsexport.Issuer the resource uses.
type Issuer interface {
	Issue(ctx context.Context, spec mtlsexport.IssueSpec, secretArn string) (*mtlsexport.Result, error)
}

var _ Issuer = (*mtlsexport.Issuer)(nil)

// Export is the custom resource. Its physical id is left to cfnresponse
// (stable per stack and logical id), so no Update replaces it.
type Export struct {
	Exporter Exporter
	Issuer   Issuer
	// Logger receives one line per skipped Update. Default slog.Default().
	Logger *slog.Logger
}

var _ cfnresponse.Resource = (*Export)(nil)

// Create exports the certificate into the secret.
func (x *Export) Create(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	props, err := decode(e.ResourceProperties, "new")
	if err != nil {
		return cfnresponse.Response{}, err
	}
	return x.export(ctx, props)
}

// Update exports again when the certificate or the secret changed. Any other
// property change needs no export: the secret already holds this
// certificate, and renewals are the renew function's job.
func (x *Export) Update(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	props, err := decode(e.ResourceProperties, "new")
	if err != nil {
		return cfnresponse.Response{}, err
	}
	old, err := decode(e.OldResourceProperties, "old")
	if err != nil {
		return cfnresponse.Response{}, err
	}
	if same(old, props) {
		x.logger().InfoContext(ctx, "certificate and secret unchanged; nothing to export",
			slog.String("certificate_arn", props.CertificateArn), slog.String("secret_arn", props.SecretArn))
		return cfnresponse.Response{}, nil
	}
	return x.export(ctx, props)
}

// Delete succeeds without touching anything: the secret belongs to its own
// CloudFormation resource and goes with that resource's removal policy, and
// the certificate belongs to ACM (or, when issued, expires with its CA's
// deletion).
func (x *Export) Delete(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	return cfnresponse.Response{}, nil
}

func (x *Export) export(ctx context.Context, props Properties) (cfnresponse.Response, error) {
	var (
		res *mtlsexport.Result
		err error
	)
	if props.Issue != nil {
		res, err = x.Issuer.Issue(ctx, *props.Issue, props.SecretArn)
	} else {
		res, err = x.Exporter.Export(ctx, props.CertificateArn, props.SecretArn)
	}
	if err != nil {
		return cfnresponse.Response{}, err
	}
	return cfnresponse.Response{Data: map[string]any{
		"CertificateArn":  res.CertificateArn,
		"SecretVersionId": res.VersionId,
		"Serial":          mtlsexport.FormatSerial(res.Serial),
		"NotAfter":        res.NotAfter.UTC().Format(time.RFC3339),
	}}, nil
}

func (x *Export) logger() *slog.Logger {
	if x.Logger != nil {
		return x.Logger
	}
	return slog.Default()
}

func decode(raw map[string]any, which string) (Properties, error) {
	var props Properties
	if err := cfnresponse.Decode(raw, &props); err != nil {
		return Properties{}, fmt.Errorf("%s properties: %w", which, err)
	}
	if err := props.validate(which); err != nil {
		return Properties{}, err
	}
	return props, nil
}
