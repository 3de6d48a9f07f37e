package asymmetrickey_test

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/asymmetrickey"
	"github.com/securestacks/securestacks/internal/nag"
)

func TestPublicationDefaults(t *testing.T) {
	// GIVEN a SigningKey with its default publication
	stack := newStack()
	s := asymmetrickey.NewSigningKey(stack, "SigningKey", nil)
	tp, _ := synth(t, stack)
	p := s.Publication
	keyID, bucketID := id(stack, s.Key), id(stack, p.Bucket)

	// THEN the custom resource publishes this key to the new bucket and the derived parameter, retaining the copies
	cr := tp.props(t, id(stack, p.Resource))
	prefix := "public-keys/KeysTest/" + *awscdk.Names_UniqueId(p) + "/"
	param := "/securestacks/public-keys/KeysTest/" + *awscdk.Names_UniqueId(p)
	if tp.Resources[id(stack, p.Resource)].Type != asymmetrickey.PublicKeyResourceType || js(cr["KeyId"]) != keyArn(keyID) ||
		js(cr["BucketName"]) != `{"Ref":"`+bucketID+`"}` || cr["ObjectKeyPrefix"] != prefix || cr["ParameterName"] != param || cr["RemovalPolicy"] != "retain" {
		t.Errorf("custom resource %s", js(cr))
	}
	if *p.DERObjectKey != prefix+"public-key.der" || *p.PEMObjectKey != prefix+"public-key.pem" || *p.ParameterName != param {
		t.Errorf("fields %s %s %s", *p.DERObjectKey, *p.PEMObjectKey, *p.ParameterName)
	}
	// AND the bucket is SSE-S3-encrypted (AES256), versioned, TLS-only and logged: a reader of
	// an SSE-KMS object needs kms:Decrypt on its key
	// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html), and the
	// verifiers of a published public key must need no KMS access at all
	b := tp.props(t, bucketID)
	if !strings.Contains(js(b["BucketEncryption"]), `"SSEAlgorithm":"AES256"`) || strings.Contains(js(b["BucketEncryption"]), "kms") ||
		js(b["VersioningConfiguration"]) != `{"Status":"Enabled"}` || b["LoggingConfiguration"] == nil {
		t.Errorf("bucket %s", js(b))
	}
	if p.Bucket.EncryptionKey() != nil {
		t.Error("the public-key bucket has a KMS key")
	}
	tlsOnly := false
	for _, r := range tp.Resources {
		if r.Type == "AWS::S3::BucketPolicy" && strings.Contains(js(r.Properties["Bucket"]), bucketID) &&
			strings.Contains(js(r.Properties["PolicyDocument"]), `"aws:SecureTransport":"false"`) {
			tlsOnly = true
		}
	}
	if !tlsOnly {
		t.Error("bucket policy does not deny non-TLS requests")
	}
	// AND the publisher may read this key's public half and write exactly its two objects and one parameter
	got := tp.policyOf(t, id(stack, p.FunctionRole))
	sort.Slice(got, func(i, j int) bool { return got[i].Sid < got[j].Sid })
	objectArn := func(name string) string {
		return `{"Fn::Join":["",[{"Fn::GetAtt":["` + bucketID + `","Arn"]},"/` + prefix + name + `"]]}`
	}
	want := map[string][]string{
		"Logs":                 {"logs:CreateLogStream", "logs:PutLogEvents"},
		"ReadThePublicKey":     {"kms:GetPublicKey", keyArn(keyID)},
		"WriteTheKeyObjects":   {"s3:PutObject", objectArn("public-key.der"), objectArn("public-key.pem")},
		"WriteTheKeyParameter": {"ssm:PutParameter", `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ssm:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":parameter` + param + `"]]}`},
	}
	if len(got) != len(want) {
		t.Fatalf("publisher policy %s", js(got))
	}
	for _, st := range got {
		w := want[st.Sid]
		if st.Sid == "Logs" {
			if !reflect.DeepEqual(st.Action, w) {
				t.Errorf("Logs actions %v", st.Action)
			}
			continue
		}
		gotPairs := append(append([]string(nil), st.Action...), st.Resource...)
		wantSorted := append([]string{w[0]}, w[1:]...)
		sort.Strings(wantSorted[1:])
		if !reflect.DeepEqual(gotPairs, wantSorted) {
			t.Errorf("%s: %v, want %v", st.Sid, gotPairs, wantSorted)
		}
	}
}

func TestPublicationVariantsAndConflicts(t *testing.T) {
	// GIVEN an existing bucket, a prefix, a parameter and DESTROY
	stack := newStack()
	bucket := awss3.Bucket_FromBucketName(stack, jsii.String("Shared"), jsii.String("shared-public-keys"))
	e := asymmetrickey.NewEncryptionKey(stack, "K", &asymmetrickey.EncryptionKeyProps{NoDecryptFunction: true, Publication: &asymmetrickey.PublicationProps{
		ExistingBucket:  bucket,
		ObjectKeyPrefix: jsii.String("fle/"),
		ParameterName:   jsii.String("/fle/public-key"),
		RemovalPolicy:   awscdk.RemovalPolicy_DESTROY,
	}})
	tp, _ := synth(t, stack)
	cr := tp.props(t, id(stack, e.Publication.Resource))
	// THEN the copies go there and the publisher may also delete exactly them
	if cr["BucketName"] != "shared-public-keys" || cr["ObjectKeyPrefix"] != "fle/" || cr["ParameterName"] != "/fle/public-key" || cr["RemovalPolicy"] != "destroy" {
		t.Errorf("custom resource %s", js(cr))
	}
	actions := map[string][]string{}
	for _, st := range tp.policyOf(t, id(stack, e.Publication.FunctionRole)) {
		actions[st.Sid] = st.Action
	}
	if !reflect.DeepEqual(actions["WriteTheKeyObjects"], []string{"s3:DeleteObject", "s3:PutObject"}) ||
		!reflect.DeepEqual(actions["WriteTheKeyParameter"], []string{"ssm:DeleteParameter", "ssm:PutParameter"}) {
		t.Errorf("actions %v", actions)
	}
	// AND an imported bucket without a known key gets no KMS grant
	if _, ok := actions["EncryptTheKeyObjects"]; ok {
		t.Error("KMS grant for a bucket without a known key")
	}
	// AND no new bucket was made
	for _, r := range tp.Resources {
		if r.Type == "AWS::S3::Bucket" {
			t.Error("a bucket was created besides the existing one")
		}
	}

	cases := []struct {
		name  string
		props *asymmetrickey.PublicationProps
		want  string
	}{
		{"no key", &asymmetrickey.PublicationProps{}, "asymmetrickey: Publication needs Key"},
		{"bucket and bucket props", &asymmetrickey.PublicationProps{ExistingBucket: bucket, BucketProps: &awss3.BucketProps{}}, "ExistingBucket conflicts with BucketProps"},
		{"prefix without slash", &asymmetrickey.PublicationProps{ObjectKeyPrefix: jsii.String("keys")}, `ObjectKeyPrefix: expected empty or a key prefix ending in /, got "keys"`},
		{"bad parameter", &asymmetrickey.PublicationProps{ParameterName: jsii.String("a b")}, "ParameterName: expected a literal SSM parameter name"},
		{"snapshot", &asymmetrickey.PublicationProps{RemovalPolicy: awscdk.RemovalPolicy_SNAPSHOT}, "RemovalPolicy: expected RETAIN or DESTROY, got SNAPSHOT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN invalid publication props WHEN the publication is made THEN it panics with one line
			s := newStack()
			if tc.name != "no key" {
				tc.props.Key = asymmetrickey.NewSigningKey(s, "Key", nil).Key
			}
			msg := mustPanic(t, func() { asymmetrickey.NewPublication(s, "Pub", tc.props) })
			if !strings.Contains(msg, tc.want) {
				t.Errorf("panic %q, want %q", msg, tc.want)
			}
		})
	}
}

func TestGrantPublicKeyReadNeedsNoKMSPermissionOnTheKey(t *testing.T) {
	// GIVEN a role granted the published public key of a SigningKey
	stack := newStack()
	s := asymmetrickey.NewSigningKey(stack, "Key", nil)
	reader := awsiam.NewRole(stack, jsii.String("Reader"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	s.GrantPublicKeyRead(reader)
	tp, _ := synth(t, stack)
	// THEN it may read the two objects and the parameter, and needs no KMS permission at all:
	// neither on the signing key nor on the bucket (SSE-S3)
	var got []statement
	for _, r := range tp.Resources {
		if r.Type == "AWS::IAM::Policy" && strings.Contains(js(r.Properties["Roles"]), id(stack, reader)) {
			got = append(got, statements(t, r.Properties["PolicyDocument"])...)
		}
	}
	var actions []string
	for _, st := range got {
		actions = append(actions, st.Action...)
		if strings.Contains(js(st.Resource), id(stack, s.Key)) {
			t.Errorf("grant touches the signing key: %+v", st)
		}
	}
	sort.Strings(actions)
	if !reflect.DeepEqual(actions, []string{"s3:GetObject", "ssm:GetParameter"}) {
		t.Errorf("actions %v", actions)
	}
}

func TestBothKeysAreNagCleanAndGrantNoWildcards(t *testing.T) {
	// GIVEN both keys with defaults, under the three rule packs
	stack := newStack()
	asymmetrickey.NewSigningKey(stack, "SigningKey", nil)
	asymmetrickey.NewEncryptionKey(stack, "EncryptionKey", nil)
	nag.ApplyPacks(stack)
	tp, _ := synth(t, stack)
	// THEN there is no unsuppressed finding
	if errs := nag.Errors(stack); len(errs) > 0 {
		t.Errorf("cdk-nag errors:\n%s", strings.Join(errs, "\n"))
	}
	// AND no managed policy of ours grants a wildcard action, or "*" beyond the X-Ray statement
	for lid, r := range tp.Resources {
		if r.Type != "AWS::IAM::ManagedPolicy" {
			continue
		}
		for _, st := range statements(t, r.Properties["PolicyDocument"]) {
			for _, a := range st.Action {
				if strings.Contains(a, "*") {
					t.Errorf("%s: wildcard action %s", lid, a)
				}
			}
			for _, res := range st.Resource {
				if res == "*" && st.Sid != "Traces" {
					t.Errorf("%s: statement %s on *", lid, st.Sid)
				}
			}
		}
	}
}
