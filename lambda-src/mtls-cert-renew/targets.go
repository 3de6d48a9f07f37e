package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/securestacks/securestacks/lambda-src/internal/mtlsexport"
)

// Target is one certificate the function keeps fresh: the secret it is
// exported to and the ECS services that read that secret. The construct
// writes one Target per endpoint; the services of a target are exactly the
// services whose tasks read the target's secret, and no others.
type Target struct {
	// CertificateArn is the endpoint's ACM private certificate. Empty with
	// Issue.
	CertificateArn string `json:"certificateArn,omitempty"`
	// Issue is the gateway's client certificate, which AWS Private CA issues
	// for a key the function generates (ACM issues no clientAuth
	// certificates): it is issued again when the stored one expires within
	// RenewBefore. Conflicts with CertificateArn.
	Issue *mtlsexport.IssueSpec `json:"issue,omitempty"`
	// SecretArn is the endpoint's secret.
	SecretArn string `json:"secretArn"`
	// Cluster is the ARN or name of the ECS cluster of Services.
	Cluster string `json:"cluster"`
	// Services are the ARNs of the ECS services to redeploy after a new
	// export, so that their tasks read the new secret version.
	Services []string `json:"services"`
}

// ID names the target in logs and errors: its ACM certificate, or the secret
// of an issued certificate.
func (t Target) ID() string {
	if t.Issue != nil {
		return t.SecretArn
	}
	return t.CertificateArn
}

var (
	clusterRe = regexp.MustCompile(`^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/)?[A-Za-z0-9_-]{1,255}$`)
	serviceRe = regexp.MustCompile(`^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:service/[A-Za-z0-9_-]{1,255}/[A-Za-z0-9_-]{1,255}$`)
)

// ParseTargets reads the EnvTargets value: a JSON list of targets. Every
// certificate appears once and has a secret, a cluster and at least one
// service; errors name the entry and field.
func ParseTargets(raw string) ([]Target, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	var targets []Target
	if err := dec.Decode(&targets); err != nil {
		return nil, fmt.Errorf("%s: expected a JSON list of {certificateArn, secretArn, cluster, services}: %v", EnvTargets, err)
	}
	if dec.More() {
		return nil, errors.New(EnvTargets + ": expected one JSON list, got trailing data")
	}
	if len(targets) == 0 {
		return nil, errors.New(EnvTargets + ": expected at least one target")
	}
	seen := map[string]bool{}
	for i, t := range targets {
		where := fmt.Sprintf("%s[%d]", EnvTargets, i)
		switch {
		case t.Issue != nil && t.CertificateArn != "":
			return nil, fmt.Errorf("%s: certificateArn conflicts with issue: expected one of them", where)
		case t.Issue != nil:
			if err := t.Issue.Validate(where + ".issue"); err != nil {
				return nil, err
			}
		default:
			if err := mtlsexport.ValidateCertificateArn(where+".certificateArn", t.CertificateArn); err != nil {
				return nil, err
			}
		}
		if seen[t.ID()] {
			if t.Issue != nil {
				return nil, fmt.Errorf("%s.secretArn: expected each issued certificate's secret once, got %s again", where, t.ID())
			}
			return nil, fmt.Errorf("%s.certificateArn: expected each certificate once, got %s again", where, t.ID())
		}
		seen[t.ID()] = true
		if err := mtlsexport.ValidateSecretArn(where+".secretArn", t.SecretArn); err != nil {
			return nil, err
		}
		if !clusterRe.MatchString(t.Cluster) {
			return nil, fmt.Errorf("%s.cluster: expected an ECS cluster ARN or name, got %q", where, t.Cluster)
		}
		if len(t.Services) == 0 {
			return nil, fmt.Errorf("%s.services: expected at least one ECS service ARN", where)
		}
		for j, s := range t.Services {
			if !serviceRe.MatchString(s) {
				return nil, fmt.Errorf("%s.services[%d]: expected an ECS service ARN (arn:<partition>:ecs:<region>:<account>:service/<cluster>/<name>), got %q", where, j, s)
			}
		}
	}
	return targets, nil
}
