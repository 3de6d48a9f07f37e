package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func rangesPath(name string) string {
	return filepath.Join("..", "..", "internal", "originupdate", "testdata", name)
}

func TestOriginPlan(t *testing.T) {
	// GIVEN the base document and an empty target WHEN origin plan runs THEN it prints one
	// ModifyManagedPrefixList per address family and the token, and changes nothing anywhere.
	code, stdout, stderr := cli(t, "origin", "plan", "--ip-ranges", rangesPath("base.json"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"4 IPv4 and 2 IPv6 ranges", "1. ModifyManagedPrefixList pl-ipv4 at version 0: add 4", "2. ModifyManagedPrefixList pl-ipv6", "3. CreateTags pl-ipv4"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}

	// GIVEN a current state that already holds the base ranges WHEN the added document is
	// planned for security groups THEN one authorize and the token.
	state := `{"syncToken":"1700000000","securityGroups":[{"id":"sg-1","rules":[
		{"port":443,"cidr":"130.176.0.0/18"},{"port":443,"cidr":"15.158.0.0/16"},{"port":443,"cidr":"64.252.64.0/18"},
		{"port":443,"cidr":"205.251.218.0/24"},{"port":443,"cidr":"2600:9000:2000::/36"},{"port":443,"cidr":"2600:9000:1000::/36"}]}]}`
	cur := filepath.Join(t.TempDir(), "current.json")
	if err := os.WriteFile(cur, []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = cli(t, "origin", "plan", "--ip-ranges", rangesPath("added.json"), "--target", "security-groups", "--current", cur)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "1. AuthorizeSecurityGroupIngress sg-1: 1 rules: 52.46.0.0/18 tcp/443\n2. CreateTags sg-1") || strings.Contains(stdout, "3.") {
		t.Errorf("stdout:\n%s", stdout)
	}

	// An empty service is one line naming it.
	code, _, stderr = cli(t, "origin", "plan", "--ip-ranges", rangesPath("empty-service.json"))
	if code == 0 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "CLOUDFRONT_ORIGIN_FACING") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
