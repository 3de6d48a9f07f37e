package main_test

import (
	"testing"

	main "github.com/securestacks/securestacks/lambda-src/alexa-skill-permission"
)

// FuzzParsePolicy feeds arbitrary documents to the policy parser that decides which
// statements the custom resource removes. Properties: no panic; a statement is never both
// unscoped and scoped to a skill; a failed parse returns no statements.
func FuzzParsePolicy(f *testing.F) {
	for _, seed := range []string{
		``,
		`{}`,
		`{"Statement":null}`,
		`{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"a","Effect":"Allow","Principal":{"Service":"alexa-appkit.amazon.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:eu-west-1:123456789012:function:f"}]}`,
		`{"Statement":[{"Sid":"b","Effect":"Allow","Principal":{"Service":["alexa-appkit.amazon.com","s3.amazonaws.com"]},"Action":["lambda:InvokeFunction"],"Condition":{"StringEquals":{"lambda:EventSourceToken":"amzn1.ask.skill.x"}}}]}`,
		`{"Statement":[{"Sid":"c","Effect":"Allow","Principal":"*","Action":"lambda:*","Condition":{"StringEquals":{"lambda:EventSourceToken":["a","b"]}}}]}`,
		`{"Statement":[{"Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":7}]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		statements, err := main.ParsePolicy(doc)
		if err != nil {
			if statements != nil {
				t.Fatalf("error %v with statements %v", err, statements)
			}
			return
		}
		for _, s := range statements {
			if main.IsUnscopedAlexa(s) && main.GrantsOnlySkill(s, "amzn1.ask.skill.x") {
				t.Fatalf("statement %+v is both unscoped and scoped", s)
			}
		}
	})
}
