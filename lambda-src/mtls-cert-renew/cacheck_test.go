package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"

	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	fake "github.com/securestacks/securestacks/lambda-src/internal/mtlsexport/mtlsexporttest"
	main "github.com/securestacks/securestacks/lambda-src/mtls-cert-renew"
)

type describeCaFunc func(context.Context, *acmpca.DescribeCertificateAuthorityInput) (*acmpca.DescribeCertificateAuthorityOutput, error)

func (f describeCaFunc) DescribeCertificateAuthority(ctx context.Context, in *acmpca.DescribeCertificateAuthorityInput, _ ...func(*acmpca.Options)) (*acmpca.DescribeCertificateAuthorityOutput, error) {
	return f(ctx, in)
}

func TestDailyRunReportsIssuingCaDaysLeftAsAMetric(t *testing.T) {
	const ca = "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555"
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		describe describeCaFunc
		wantDays int
		wantErr  string
	}{
		"active CA": {func(context.Context, *acmpca.DescribeCertificateAuthorityInput) (*acmpca.DescribeCertificateAuthorityOutput, error) {
			return &acmpca.DescribeCertificateAuthorityOutput{CertificateAuthority: &pcatypes.CertificateAuthority{NotAfter: aws.Time(now.AddDate(0, 0, 400))}}, nil
		}, 400, ""},
		"describe fails": {func(context.Context, *acmpca.DescribeCertificateAuthorityInput) (*acmpca.DescribeCertificateAuthorityOutput, error) {
			return nil, fake.APIError("AccessDeniedException")
		}, 0, "DescribeCertificateAuthority " + ca + ": api error AccessDeniedException"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// GIVEN the renew function with one issuing CA to watch
			var logs bytes.Buffer
			r := &main.Renewer{
				Config:                       main.Config{IssuingCas: []string{ca}, MaxWait: time.Minute},
				DescribeCertificateAuthority: tc.describe,
				Now:                          func() time.Time { return now },
				Retry:                        awsretry.Policy{Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }},
				Logger:                       slog.New(slog.NewJSONHandler(&logs, nil)),
			}

			// WHEN the daily schedule runs it
			_, err := r.Handle(context.Background(), events.CloudWatchEvent{Source: "aws.events", DetailType: main.DetailTypeScheduled})

			// THEN a failed check fails the run (the Errors alarm sees it) ...
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// ... and a CA's days left become an embedded-metric-format log line
			// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
			// _aws.Timestamp in ms, the namespace, dimension and metric the construct alarms on
			var line map[string]any
			for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				if strings.Contains(l, `"_aws"`) {
					if err := json.Unmarshal([]byte(l), &line); err != nil {
						t.Fatal(err)
					}
				}
			}
			emf, _ := line["_aws"].(map[string]any)
			metrics, _ := emf["CloudWatchMetrics"].([]any)
			if emf == nil || emf["Timestamp"] != float64(now.UnixMilli()) || len(metrics) != 1 {
				t.Fatalf("no EMF metadata in %s", logs.String())
			}
			m := metrics[0].(map[string]any)
			if m["Namespace"] != main.MetricNamespace || m["Dimensions"].([]any)[0].([]any)[0] != main.MetricDimensionCa ||
				m["Metrics"].([]any)[0].(map[string]any)["Name"] != main.MetricCaDaysLeft {
				t.Fatalf("EMF directive %v", m)
			}
			if line[main.MetricDimensionCa] != ca || line[main.MetricCaDaysLeft] != float64(tc.wantDays) {
				t.Fatalf("line %v, want %d days for %s", line, tc.wantDays, ca)
			}
		})
	}
}
