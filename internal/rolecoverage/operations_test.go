package rolecoverage_test

import (
	"strings"
	"testing"

	"github.com/securestacks/securestacks/internal/rolecoverage"
)

func TestHandlerOperationsFindsEveryWayToCallAnOperation(t *testing.T) {
	ready(t)
	// GIVEN a fixture handler that reaches S3 by a direct call, a presign
	// client, a paginator, a method value and an interface in another
	// package of the module, and declares one interface it never calls
	// WHEN its operations are derived
	got, err := rolecoverage.HandlerOperations(fx.moduleDir, "./internal/rolecoverage/testdata/handler")
	if err != nil {
		t.Fatal(err)
	}
	// THEN each reached operation is found once, and the uncalled one is not
	const pkg = "github.com/securestacks/securestacks/internal/rolecoverage/testdata/handler"
	var ops []string
	for _, u := range got[pkg] {
		ops = append(ops, u.String())
	}
	want := "s3.CopyObject s3.GetObject s3.HeadObject s3.ListObjectsV2 s3.PutObject sqs.SendMessage"
	if strings.Join(ops, " ") != want {
		t.Errorf("got %v, want %s", ops, want)
	}
}

func TestAStandInClientMustNameItsSDKService(t *testing.T) {
	ready(t)
	// GIVEN a fixture handler that calls AWS through awsjson in a package that
	// declares no SDKService constant
	// WHEN its operations are derived
	_, err := rolecoverage.HandlerOperations(fx.moduleDir, "./internal/rolecoverage/testdata/undeclared")
	// THEN the derivation fails and names the package and the constant, so its
	// operations cannot go unchecked
	if err == nil || !strings.Contains(err.Error(), "testdata/undeclared/queue") || !strings.Contains(err.Error(), "SDKService") {
		t.Errorf("err = %v, want one naming the queue package and SDKService", err)
	}
}
