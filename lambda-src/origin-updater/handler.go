package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/securestacks/securestacks/internal/originupdate"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

// FetchTimeout bounds one download of ip-ranges.json, connection and body included.
const FetchTimeout = 20 * time.Second

// MaxDocumentBytes bounds the download: ip-ranges.json is a few MiB.
const MaxDocumentBytes = 32 << 20

// Fetcher downloads ip-ranges.json, only from URLs under AllowedPrefix: the URL comes from the
// notification, and the function must not fetch whatever a message names.
type Fetcher struct {
	Client        *http.Client
	AllowedPrefix string
}

// Fetch GETs url with a bounded time and size.
func (f *Fetcher) Fetch(ctx context.Context, url string) ([]byte, error) {
	if !strings.HasPrefix(url, f.AllowedPrefix) {
		return nil, fmt.Errorf("url: expected %s..., got %q", f.AllowedPrefix, url)
	}
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching %s: HTTP %d", url, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	if len(b) > MaxDocumentBytes {
		return nil, fmt.Errorf("fetching %s: more than %d bytes", url, MaxDocumentBytes)
	}
	return b, nil
}

// Handler answers AmazonIpSpaceChanged notifications and, as a custom resource, applies the
// current document once at deploy so that the rules exist before the first request.
type Handler struct {
	Updater *originupdate.Updater
	Fetch   func(ctx context.Context, url string) ([]byte, error)
	// URL is where the deploy-time run fetches the document (originupdate.DefaultURL).
	URL string
	// DryRun logs the plan and changes nothing.
	DryRun bool
	Logger *slog.Logger
}

var _ cfnresponse.Resource = (*Handler)(nil)

// Invoke dispatches one Lambda event: an SNS notification or a custom-resource event.
func (h *Handler) Invoke(ctx context.Context, raw json.RawMessage, cfn func(context.Context, cfnresponse.Event) (cfnresponse.Response, error)) (any, error) {
	var probe struct {
		RequestType string
		Records     []json.RawMessage
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	switch {
	case probe.RequestType != "":
		var e cfnresponse.Event
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("custom resource event: %w", err)
		}
		return cfn(ctx, e)
	case len(probe.Records) > 0:
		var e events.SNSEvent
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("SNS event: %w", err)
		}
		return nil, h.HandleSNS(ctx, e)
	}
	return nil, errors.New("event: expected an SNS notification or a CloudFormation custom-resource event")
}

// HandleSNS applies the document each notification announces, after checking its MD5.
func (h *Handler) HandleSNS(ctx context.Context, e events.SNSEvent) error {
	for _, r := range e.Records {
		if r.SNS.TopicArn != originupdate.TopicArn {
			return fmt.Errorf("SNS topic: expected %s, got %q", originupdate.TopicArn, r.SNS.TopicArn)
		}
		n, err := originupdate.ParseNotification(r.SNS.Message)
		if err != nil {
			return err
		}
		body, err := h.Fetch(ctx, n.URL)
		if err != nil {
			return err
		}
		p, err := h.Updater.Update(ctx, body, n.MD5, h.DryRun)
		h.log(ctx, p, err)
		if err != nil {
			return err
		}
	}
	return nil
}

// Create applies the current document.
func (h *Handler) Create(ctx context.Context, _ cfnresponse.Event) (cfnresponse.Response, error) {
	return h.deploy(ctx)
}

// Update applies the current document again: the ports or the target may have changed.
func (h *Handler) Update(ctx context.Context, _ cfnresponse.Event) (cfnresponse.Response, error) {
	return h.deploy(ctx)
}

// Delete leaves the rules: the stack deletes the first group or the prefix lists it owns, and
// groups the updater added hold only CloudFront's ranges.
func (h *Handler) Delete(context.Context, cfnresponse.Event) (cfnresponse.Response, error) {
	return cfnresponse.Response{}, nil
}

func (h *Handler) deploy(ctx context.Context) (cfnresponse.Response, error) {
	body, err := h.Fetch(ctx, h.URL)
	if err != nil {
		return cfnresponse.Response{}, err
	}
	doc, err := originupdate.ParseDocument(body)
	if err != nil {
		return cfnresponse.Response{}, err
	}
	// At deploy there is no notification and so no MD5 to compare: the document comes straight
	// from AWS over TLS, and a truncated one fails to parse.
	var p originupdate.Plan
	if h.DryRun {
		p, err = h.Updater.Plan(ctx, doc)
	} else {
		p, err = h.Updater.Apply(ctx, doc)
	}
	h.log(ctx, p, err)
	if err != nil {
		return cfnresponse.Response{}, err
	}
	return cfnresponse.Response{Data: map[string]any{"SyncToken": doc.SyncToken, "Mutations": p.Mutations()}}, nil
}

func (h *Handler) log(ctx context.Context, p originupdate.Plan, err error) {
	l := logging.WithRequest(ctx, h.Logger)
	attrs := []any{slog.String("target", string(p.Target)), slog.String("sync_token", p.SyncToken), slog.Bool("dry_run", h.DryRun),
		slog.Int("mutations", p.Mutations()), slog.String("plan", p.String())}
	if err != nil {
		l.ErrorContext(ctx, "origin update failed", append(attrs, slog.String("error", err.Error()))...)
		return
	}
	l.InfoContext(ctx, "origin update", attrs...)
}
