package rolecoverage

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/securestacks/securestacks/internal/iamsim"
)

// Function is one Lambda function of a Template, with what its handler can
// learn at run time: its environment and the properties of the custom
// resources it serves.
type Function struct {
	T  *Template
	ID string
	// Role is the logical id of the execution role; RoleARN its ARN.
	Role, RoleARN string
	// Env is the resolved environment.
	Env map[string]string
	// CustomResources are the resolved properties (without ServiceToken) of
	// each custom resource whose provider invokes this function, sorted by
	// logical id.
	CustomResources []map[string]any
	props           map[string]any
}

// ConstructID is the logical id without the 8-hex-digit hash CDK appends,
// which is the same in every environment.
func ConstructID(logicalID string) string {
	if len(logicalID) > 8 && hashSuffix.MatchString(logicalID[len(logicalID)-8:]) {
		return logicalID[:len(logicalID)-8]
	}
	return logicalID
}

var hashSuffix = regexp.MustCompile(`^[0-9A-F]{8}$`)

// Functions returns the template's Lambda functions whose Runtime is
// runtime, sorted by logical id.
func (t *Template) Functions(runtime string) ([]*Function, error) {
	var out []*Function
	for _, id := range t.IDs("AWS::Lambda::Function") {
		r := t.Resources[id]
		if rt, _ := r.Properties["Runtime"].(string); rt != runtime {
			continue
		}
		f := &Function{T: t, ID: id, Env: map[string]string{}, props: r.Properties}
		roleRef, _ := r.Properties["Role"].(map[string]any)
		att, _ := roleRef["Fn::GetAtt"].([]any)
		if len(att) != 2 {
			return nil, fmt.Errorf("rolecoverage: %s/%s: Role is not a role of this template", t.Stack, id)
		}
		f.Role, _ = att[0].(string)
		var err error
		if f.RoleARN, err = t.String(roleRef); err != nil {
			return nil, err
		}
		vars, _ := r.Properties["Environment"].(map[string]any)
		variables, _ := vars["Variables"].(map[string]any)
		for k, v := range variables {
			if f.Env[k], err = t.String(v); err != nil {
				return nil, fmt.Errorf("rolecoverage: %s/%s: environment %s: %w", t.Stack, id, k, err)
			}
		}
		out = append(out, f)
	}
	byID := map[string]*Function{}
	for _, f := range out {
		byID[f.ID] = f
	}
	for _, id := range t.sortedIDs() {
		r := t.Resources[id]
		if !strings.HasPrefix(r.Type, "Custom::") && r.Type != "AWS::CloudFormation::CustomResource" {
			continue
		}
		target := t.invokedFunction(r.Properties["ServiceToken"])
		f, ok := byID[target]
		if !ok {
			continue
		}
		props := map[string]any{}
		for k, v := range r.Properties {
			if k == "ServiceToken" {
				continue
			}
			rv, err := t.Resolve(v)
			if err != nil {
				return nil, fmt.Errorf("rolecoverage: %s/%s: %s: %w", t.Stack, id, k, err)
			}
			props[k] = rv
		}
		f.CustomResources = append(f.CustomResources, props)
	}
	return out, nil
}

func (t *Template) sortedIDs() []string {
	ids := make([]string, 0, len(t.Resources))
	for id := range t.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// invokedFunction follows a ServiceToken to the function that runs the
// custom resource: the function itself, or the user function of a CDK
// Provider framework (its USER_ON_EVENT_FUNCTION_ARN).
func (t *Template) invokedFunction(token any) string {
	id := getAttID(token)
	r, ok := t.Resources[id]
	if !ok {
		return ""
	}
	vars, _ := r.Properties["Environment"].(map[string]any)
	env, _ := vars["Variables"].(map[string]any)
	if user := getAttID(env["USER_ON_EVENT_FUNCTION_ARN"]); user != "" {
		return user
	}
	return id
}

func getAttID(v any) string {
	m, _ := v.(map[string]any)
	att, _ := m["Fn::GetAtt"].([]any)
	if len(att) != 2 {
		return ""
	}
	id, _ := att[0].(string)
	return id
}

// Prop returns the resolved function property name (nil when unset).
func (f *Function) Prop(name string) (any, error) {
	v, ok := f.props[name]
	if !ok {
		return nil, nil
	}
	return f.T.Resolve(v)
}

// IdentityPolicies returns the resolved policies attached to the role:
// inline Policies, AWS::IAM::Policy and AWS::IAM::ManagedPolicy resources
// that name it. A managed policy from outside the template is an error:
// its document is not known here.
func (f *Function) IdentityPolicies() ([]iamsim.Policy, error) {
	t := f.T
	role := t.Resources[f.Role]
	var out []iamsim.Policy
	add := func(name string, doc any) error {
		rd, err := t.Resolve(doc)
		if err != nil {
			return fmt.Errorf("rolecoverage: %s: policy %s: %w", t.Stack, name, err)
		}
		out = append(out, iamsim.Policy{Name: name, Document: rd})
		return nil
	}
	inline, _ := role.Properties["Policies"].([]any)
	for i, p := range inline {
		m, _ := p.(map[string]any)
		name, _ := m["PolicyName"].(string)
		if name == "" {
			name = fmt.Sprintf("%s.Policies[%d]", f.Role, i)
		}
		if err := add(name, m["PolicyDocument"]); err != nil {
			return nil, err
		}
	}
	managed, _ := role.Properties["ManagedPolicyArns"].([]any)
	for _, m := range managed {
		id := ""
		if ref, ok := m.(map[string]any); ok {
			id, _ = ref["Ref"].(string)
		}
		if r, ok := t.Resources[id]; !ok || r.Type != "AWS::IAM::ManagedPolicy" {
			return nil, fmt.Errorf("rolecoverage: %s: role %s has managed policy %v from outside the template", t.Stack, f.Role, m)
		}
	}
	for _, id := range t.sortedIDs() {
		r := t.Resources[id]
		if r.Type != "AWS::IAM::Policy" && r.Type != "AWS::IAM::ManagedPolicy" {
			continue
		}
		attached := refsTo(r.Properties["Roles"], f.Role)
		if r.Type == "AWS::IAM::ManagedPolicy" {
			attached = attached || refsTo(role.Properties["ManagedPolicyArns"], id)
		}
		if attached {
			if err := add(id, r.Properties["PolicyDocument"]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// refsTo reports whether list holds {"Ref": id}.
func refsTo(list any, id string) bool {
	l, _ := list.([]any)
	for _, e := range l {
		if m, ok := e.(map[string]any); ok && m["Ref"] == id {
			return true
		}
	}
	return false
}

// ResourcePolicy returns the resolved resource policy that governs arn
// (a key policy, bucket policy, secret policy, queue or topic policy), or
// nil when the template holds none for it.
func (t *Template) ResourcePolicy(arn string) (any, error) {
	id, err := t.Owner(arn)
	if err != nil || id == "" {
		return nil, err
	}
	r := t.Resources[id]
	if r.Type == "AWS::KMS::Key" {
		return t.Resolve(r.Properties["KeyPolicy"])
	}
	policyOf := map[string][2]string{
		"AWS::S3::Bucket":             {"AWS::S3::BucketPolicy", "Bucket"},
		"AWS::SecretsManager::Secret": {"AWS::SecretsManager::ResourcePolicy", "SecretId"},
		"AWS::SQS::Queue":             {"AWS::SQS::QueuePolicy", "Queues"},
		"AWS::SNS::Topic":             {"AWS::SNS::TopicPolicy", "Topics"},
	}
	pol, ok := policyOf[r.Type]
	if !ok {
		return nil, nil
	}
	for _, pid := range t.IDs(pol[0]) {
		p := t.Resources[pid]
		target := p.Properties[pol[1]]
		if m, ok := target.(map[string]any); ok && m["Ref"] == id || refsTo(target, id) {
			doc := p.Properties["PolicyDocument"]
			if pol[0] == "AWS::SecretsManager::ResourcePolicy" {
				doc = p.Properties["ResourcePolicy"]
			}
			return t.Resolve(doc)
		}
	}
	return nil, nil
}

// ownedTypes are the resource types whose ARN Owner looks up.
var ownedTypes = []string{"AWS::S3::Bucket", "AWS::KMS::Key", "AWS::SecretsManager::Secret", "AWS::SQS::Queue", "AWS::SNS::Topic"}

// Owner returns the logical id of the template resource arn names (an S3
// object's bucket), or "" when the resource is not in the template.
func (t *Template) Owner(arn string) (string, error) {
	for _, typ := range ownedTypes {
		for _, id := range t.IDs(typ) {
			own, err := t.String(map[string]any{"Fn::GetAtt": []any{id, "Arn"}})
			if err != nil {
				return "", err
			}
			if arn == own || typ == "AWS::S3::Bucket" && strings.HasPrefix(arn, own+"/") {
				return id, nil
			}
		}
	}
	return "", nil
}

// KMSKeyOf returns the ARN of the customer managed key that encrypts the
// template resource id (bucket default encryption, secret, queue), or "".
// bucketKey reports an S3 Bucket Key.
func (t *Template) KMSKeyOf(id string) (key string, bucketKey bool, err error) {
	r := t.Resources[id]
	var v any
	switch r.Type {
	case "AWS::S3::Bucket":
		enc, _ := r.Properties["BucketEncryption"].(map[string]any)
		rules, _ := enc["ServerSideEncryptionConfiguration"].([]any)
		for _, rule := range rules {
			m, _ := rule.(map[string]any)
			def, _ := m["ServerSideEncryptionByDefault"].(map[string]any)
			if alg, _ := def["SSEAlgorithm"].(string); strings.HasPrefix(alg, "aws:kms") {
				v = def["KMSMasterKeyID"]
				bucketKey, _ = m["BucketKeyEnabled"].(bool)
			}
		}
	case "AWS::SecretsManager::Secret":
		v = r.Properties["KmsKeyId"]
	case "AWS::SQS::Queue":
		v = r.Properties["KmsMasterKeyId"]
	case "AWS::SNS::Topic":
		v = r.Properties["KmsMasterKeyId"]
	}
	if v == nil {
		return "", false, nil
	}
	key, err = t.String(v)
	if err != nil {
		return "", false, err
	}
	if !strings.HasPrefix(key, "arn:") || strings.Contains(key, ":alias/") {
		if strings.HasPrefix(key, "alias/aws/") {
			return "", false, nil // an AWS managed key: its policy allows the account's principals through the service
		}
		return "", false, fmt.Errorf("rolecoverage: %s/%s: KMS key %q is not a key ARN of this template", t.Stack, id, key)
	}
	return key, bucketKey, nil
}

// VPCEndpoints returns, for a function with a VpcConfig, the template's
// VPC endpoints in that VPC by the service name suffix they serve (e.g.
// "s3", "sagemaker.api"), each with its resolved policy (nil: the default
// full-access policy).
func (f *Function) VPCEndpoints() (map[string]Endpoint, error) {
	vpcCfg, _ := f.props["VpcConfig"].(map[string]any)
	if vpcCfg == nil {
		return nil, nil
	}
	t := f.T
	subnets, err := t.Resolve(vpcCfg["SubnetIds"])
	if err != nil {
		return nil, err
	}
	var vpc string
	for _, s := range subnets.([]any) {
		for _, id := range t.IDs("AWS::EC2::Subnet") {
			if ref, _ := t.ref(id); ref == s {
				vpc, _ = t.String(t.Resources[id].Properties["VpcId"])
			}
		}
	}
	out := map[string]Endpoint{}
	for _, id := range t.IDs("AWS::EC2::VPCEndpoint") {
		r := t.Resources[id]
		if v, _ := t.String(r.Properties["VpcId"]); v != vpc {
			continue
		}
		svc, err := t.String(r.Properties["ServiceName"])
		if err != nil {
			return nil, err
		}
		// Other forms (aws.sagemaker.<region>.notebook) keep their full name.
		name, _ := strings.CutPrefix(svc, "com.amazonaws."+t.Env.Region+".")
		e := Endpoint{ID: "vpce-" + strings.ToLower(id), VPC: vpc}
		if doc, ok := r.Properties["PolicyDocument"]; ok {
			if e.Policy, err = t.Resolve(doc); err != nil {
				return nil, err
			}
		}
		out[name] = e
	}
	return out, nil
}

// Endpoint is one VPC endpoint.
type Endpoint struct {
	ID, VPC string
	Policy  any
}

// MarshalIndent is for failure messages.
func MarshalIndent(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
