package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
)

// EnvIssuingCas is the JSON list of the issuing CA ARNs whose expiry the
// daily run reports. Default none.
const EnvIssuingCas = "MTLS_ISSUING_CAS"

// The CloudWatch metric the daily run writes per issuing CA, in the
// embedded metric format (a log line CloudWatch Logs turns into a metric, so
// the function needs no cloudwatch:PutMetricData). constructs/mtls alarms on
// it.
const (
	MetricNamespace   = "Securestacks/Mtls"
	MetricCaDaysLeft  = "IssuingCaDaysLeft"
	MetricDimensionCa = "CertificateAuthorityArn"
)

// DescribeCertificateAuthorityAPI reads a CA's NotAfter.
type DescribeCertificateAuthorityAPI interface {
	DescribeCertificateAuthority(ctx context.Context, in *acmpca.DescribeCertificateAuthorityInput, optFns ...func(*acmpca.Options)) (*acmpca.DescribeCertificateAuthorityOutput, error)
}

var _ DescribeCertificateAuthorityAPI = (*acmpca.Client)(nil)

var issuingCaArnRe = regexp.MustCompile(`^arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:[0-9]{12}:certificate-authority/[0-9a-f-]{36}$`)

// ParseIssuingCas reads the EnvIssuingCas value; empty means none.
func ParseIssuingCas(raw string) ([]string, error) {
	if raw == "" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	var arns []string
	if err := dec.Decode(&arns); err != nil || dec.More() {
		return nil, fmt.Errorf("%s: expected one JSON list of AWS Private CA ARNs", EnvIssuingCas)
	}
	for i, a := range arns {
		if !issuingCaArnRe.MatchString(a) {
			return nil, fmt.Errorf("%s[%d]: expected an AWS Private CA ARN, got %q", EnvIssuingCas, i, a)
		}
	}
	return arns, nil
}

// reportIssuingCas writes the days each issuing CA has left as the
// MetricCaDaysLeft metric. A CA stops issuing and renewing a certificate
// validity (395 days) before its own expiry, so the alarm on this metric
// gives the time to renew it (constructs/privateca/README.md).
func (r *Renewer) reportIssuingCas(ctx context.Context) error {
	for _, arn := range r.Config.IssuingCas {
		var notAfter *time.Time
		err := r.call(ctx, func(ctx context.Context) error {
			out, err := r.DescribeCertificateAuthority.DescribeCertificateAuthority(ctx, &acmpca.DescribeCertificateAuthorityInput{CertificateAuthorityArn: aws.String(arn)})
			if err != nil {
				return err
			}
			if out.CertificateAuthority != nil {
				notAfter = out.CertificateAuthority.NotAfter
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("DescribeCertificateAuthority %s: %w", arn, err)
		}
		if notAfter == nil {
			return fmt.Errorf("DescribeCertificateAuthority %s: expected a NotAfter (an active CA)", arn)
		}
		now := r.now()
		days := int(notAfter.Sub(now).Hours() / 24)
		r.logger().LogAttrs(ctx, slog.LevelInfo, "issuing CA expiry",
			slog.Any("_aws", map[string]any{
				"Timestamp": now.UnixMilli(),
				"CloudWatchMetrics": []any{map[string]any{
					"Namespace":  MetricNamespace,
					"Dimensions": [][]string{{MetricDimensionCa}},
					"Metrics":    []any{map[string]any{"Name": MetricCaDaysLeft, "Unit": "Count"}},
				}},
			}),
			slog.String(MetricDimensionCa, arn),
			slog.Int(MetricCaDaysLeft, days),
			slog.Time("not_after", *notAfter))
	}
	return nil
}
