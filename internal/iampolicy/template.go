package iampolicy

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Kind says whose policy a document is, which decides what it must contain.
type Kind string

const (
	// Identity policies (AWS::IAM::Policy, ManagedPolicy, inline role policies).
	Identity Kind = "identity"
	// Trust is a role's AssumeRolePolicyDocument: no Resource.
	Trust Kind = "trust"
	// Resource policies (key, bucket, topic, queue, secret, VPC endpoint ...).
	Resource Kind = "resource"
)

// Document is one policy document found in a template.
type Document struct {
	LogicalID string
	Type      string // the CloudFormation resource type
	Where     string // the property path, e.g. Policies[0].PolicyDocument
	Kind      Kind
	Body      any // the decoded document, intrinsics unresolved
	// Types maps every logical id of the template to its resource type.
	Types map[string]string
}

// policyProperty names where a resource type keeps a policy document.
type policyProperty struct {
	path string
	kind Kind
}

// policyProperties lists every CloudFormation resource type that carries an
// IAM policy document, and where.
var policyProperties = map[string][]policyProperty{
	"AWS::IAM::Policy":                    {{"PolicyDocument", Identity}},
	"AWS::IAM::ManagedPolicy":             {{"PolicyDocument", Identity}},
	"AWS::IAM::RolePolicy":                {{"PolicyDocument", Identity}},
	"AWS::IAM::UserPolicy":                {{"PolicyDocument", Identity}},
	"AWS::IAM::GroupPolicy":               {{"PolicyDocument", Identity}},
	"AWS::IAM::Role":                      {{"AssumeRolePolicyDocument", Trust}, {"Policies", Identity}},
	"AWS::IAM::User":                      {{"Policies", Identity}},
	"AWS::IAM::Group":                     {{"Policies", Identity}},
	"AWS::KMS::Key":                       {{"KeyPolicy", Resource}},
	"AWS::KMS::ReplicaKey":                {{"KeyPolicy", Resource}},
	"AWS::S3::BucketPolicy":               {{"PolicyDocument", Resource}},
	"AWS::S3::AccessPoint":                {{"Policy", Resource}},
	"AWS::SNS::TopicPolicy":               {{"PolicyDocument", Resource}},
	"AWS::SNS::TopicInlinePolicy":         {{"PolicyDocument", Resource}},
	"AWS::SQS::QueuePolicy":               {{"PolicyDocument", Resource}},
	"AWS::SQS::QueueInlinePolicy":         {{"PolicyDocument", Resource}},
	"AWS::SecretsManager::ResourcePolicy": {{"ResourcePolicy", Resource}},
	"AWS::EC2::VPCEndpoint":               {{"PolicyDocument", Resource}},
	"AWS::ECR::Repository":                {{"RepositoryPolicyText", Resource}},
	"AWS::Logs::ResourcePolicy":           {{"PolicyDocument", Resource}},
	"AWS::Events::EventBusPolicy":         {{"Statement", Resource}},
	"AWS::Lambda::Permission":             {{"Action", Resource}},
	"AWS::ACMPCA::Permission":             {{"Actions", Resource}},
}

// TemplateDocuments returns every policy document of a CloudFormation
// template, in logical-id order. A Lambda or ACM PCA permission becomes a
// one-statement document of its actions; an EventBridge bus policy statement,
// a one-statement document.
func TemplateDocuments(template []byte) ([]Document, error) {
	var t struct {
		Resources map[string]struct {
			Type       string         `json:"Type"`
			Properties map[string]any `json:"Properties"`
		} `json:"Resources"`
	}
	if err := json.Unmarshal(template, &t); err != nil {
		return nil, fmt.Errorf("reading template: %w", err)
	}
	types := map[string]string{}
	for id, res := range t.Resources {
		types[id] = res.Type
	}
	var docs []Document
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		res := t.Resources[id]
		for _, prop := range policyProperties[res.Type] {
			v, ok := res.Properties[prop.path]
			if !ok {
				continue
			}
			doc := Document{LogicalID: id, Type: res.Type, Where: prop.path, Kind: prop.kind, Body: decodeString(v), Types: types}
			switch {
			case prop.path == "Policies":
				list, _ := v.([]any)
				for i, p := range list {
					m, _ := p.(map[string]any)
					d := doc
					d.Where, d.Body = fmt.Sprintf("Policies[%d].PolicyDocument", i), decodeString(m["PolicyDocument"])
					docs = append(docs, d)
				}
				continue
			case res.Type == "AWS::Lambda::Permission":
				doc.Body = map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Action": v}}}
			case res.Type == "AWS::ACMPCA::Permission":
				// Actions are named without the acm-pca: prefix.
				var actions []any
				list, _ := v.([]any)
				for _, a := range list {
					if s, ok := a.(string); ok {
						actions = append(actions, "acm-pca:"+s)
					}
				}
				doc.Body = map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Action": actions}}}
			case res.Type == "AWS::Events::EventBusPolicy":
				doc.Body = map[string]any{"Statement": []any{v}}
			}
			docs = append(docs, doc)
		}
	}
	return docs, nil
}

// decodeString decodes a policy given as a JSON string (AWS::Logs::ResourcePolicy,
// ECR repository policies may be written so); anything else is returned as is.
func decodeString(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	var out any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return v
	}
	return out
}

// TemplateFinding is a finding located in a template.
type TemplateFinding struct {
	LogicalID string
	// Where is the property holding the document, for resource types with
	// more than one (a role's trust policy and inline policies); else "".
	Where string
	Finding
}

func (f TemplateFinding) String() string {
	action := f.Action
	if action == "" {
		action = "-"
	}
	id := f.LogicalID
	if f.Where != "" {
		id += "/" + f.Where
	}
	return fmt.Sprintf("%s %s %s: %s: %s", id, f.Statement, action, f.Check, f.Message)
}

// CheckTemplate checks every policy document of a CloudFormation template and
// returns the findings and the number of documents checked.
func (r *Reference) CheckTemplate(template []byte) ([]TemplateFinding, int, error) {
	docs, err := TemplateDocuments(template)
	if err != nil {
		return nil, 0, err
	}
	var out []TemplateFinding
	for _, d := range docs {
		found, err := r.Check(d)
		if err != nil {
			return nil, 0, err
		}
		where := ""
		if len(policyProperties[d.Type]) > 1 || strings.HasPrefix(d.Where, "Policies[") {
			where = d.Where
		}
		for _, f := range found {
			out = append(out, TemplateFinding{LogicalID: d.LogicalID, Where: where, Finding: f})
		}
	}
	return out, len(docs), nil
}
