package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/asymmetrickey"
	"github.com/securestacks/securestacks/constructs/fieldencryption"
)

// SeedFields are the seed's sensitive field names, the default of
// asymmetricKeys.fieldEncryption.fields.
var SeedFields = []string{"fname", "lname", "email", "ssn", "dob", "phone"}

// FieldEncryptionConfig is the "asymmetricKeys.fieldEncryption" section: the
// seed's edge system (CloudFront, the Lambda@Edge encrypter, the storing
// origin) in front of this environment's field-encryption key. Absent: off.
type FieldEncryptionConfig struct {
	// PublicKeyPem is the PEM of the encryption key's public key, embedded
	// in the edge function (Lambda@Edge has no environment variables).
	// Required: deploy <Env>-AsymmetricKeys without this section first, then
	// securestacks kms public-key --key-id <EncryptionKeyArn> gives it.
	PublicKeyPem string `json:"publicKeyPem"`
	// Fields are member names encrypted at any depth (and form field names).
	// Default: the seed's fname, lname, email, ssn, dob, phone.
	Fields []string `json:"fields,omitempty"`
	// Paths are JSON paths encrypted besides Fields: $.a.b, $[*].c,
	// $.items[2].d, $["e-mail"]. Default none.
	Paths []string `json:"paths,omitempty"`
	// Methods whose bodies are encrypted. Default POST, PUT, PATCH.
	Methods []string `json:"methods,omitempty"`
	// ContentTypes accepted. Default application/json and
	// application/x-www-form-urlencoded.
	ContentTypes []string `json:"contentTypes,omitempty"`
	// WebAclArn attaches a WAF web ACL (CLOUDFRONT scope, us-east-1).
	// Default none.
	WebAclArn string `json:"webAclArn,omitempty"`
}

func (c *FieldEncryptionConfig) edge() fieldencryption.EdgeConfig {
	e := fieldencryption.EdgeConfig{
		Keys:    map[string]string{fieldencryption.DefaultKeyID: c.PublicKeyPem},
		Methods: c.Methods, ContentTypes: c.ContentTypes,
	}
	fields := c.Fields
	if fields == nil {
		fields = SeedFields
	}
	for _, f := range fields {
		e.Fields = append(e.Fields, fieldencryption.EdgeField{Name: f})
	}
	for _, p := range c.Paths {
		e.Fields = append(e.Fields, fieldencryption.EdgeField{Path: p})
	}
	return e
}

// validate checks the section; key is its dotted path. A nil section is valid.
func (c *FieldEncryptionConfig) validate(key string) error {
	if c == nil {
		return nil
	}
	if c.PublicKeyPem == "" {
		return errorf(key+".publicKeyPem", "expected the PEM public key of the encryption key (deploy without fieldEncryption first, then: securestacks kms public-key --key-id <EncryptionKeyArn>)")
	}
	for i, f := range c.Fields {
		if f == "" {
			return errorf(fmt.Sprintf("%s.fields[%d]", key, i), "expected a field name, got an empty string")
		}
	}
	edge := c.edge()
	if err := edge.Validate(); err != nil {
		// The construct names its own fields; say them as config keys.
		first := strings.Split(err.Error(), "\n")[0]
		field, expected, _ := strings.Cut(strings.TrimPrefix(first, "fieldencryption: "), ": ")
		n := len(edge.Fields) - len(c.Paths)
		var i int
		switch {
		case field == "Keys[01]":
			field = "publicKeyPem"
		case strings.HasPrefix(field, "Fields[") && strings.HasSuffix(field, "].Path"):
			fmt.Sscanf(field, "Fields[%d]", &i)
			field = fmt.Sprintf("paths[%d]", i-n)
		case strings.HasPrefix(field, "Methods["), strings.HasPrefix(field, "ContentTypes["):
			field = strings.ToLower(field[:1]) + field[1:]
		}
		return errorf(key+"."+field, "%s", expected)
	}
	return nil
}

// addFieldEncryption builds the section's system into the AsymmetricKeys
// stack, in front of fields, and its outputs.
func addFieldEncryption(stack awscdk.Stack, fields *asymmetrickey.EncryptionKey, c *FieldEncryptionConfig) {
	props := &fieldencryption.FieldEncryptionProps{EncryptionKey: fields, Edge: c.edge()}
	if c.WebAclArn != "" {
		props.WebAclId = jsii.String(c.WebAclArn)
	}
	f := fieldencryption.NewFieldEncryption(stack, "FieldEncryption", props)
	awscdk.NewCfnOutput(stack, jsii.String("FieldEncryptionUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("POST or PUT bodies here: chosen fields are encrypted at the edge"),
		Value:       awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://"), f.Distribution.DistributionDomainName()}),
	})
	awscdk.NewCfnOutput(stack, jsii.String("ProtectedBodiesBucketName"), &awscdk.CfnOutputProps{
		Description: jsii.String("Bucket of the stored, field-encrypted bodies (records/)"),
		Value:       f.Bucket.BucketName(),
	})
}
