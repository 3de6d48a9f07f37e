// Package tenantid is the one tenant-ID format of securestacks' tenant
// isolation (constructs/tenantisolation): the construct checks IDs at
// onboarding, the token vending library (internal/tenantsession) before it
// calls STS, and the sample handler when it reads the JWT claim. All three
// call Validate, so the format cannot drift.
//
// # Format
//
// A tenant ID is 1 to MaxLen characters, each a lower-case ASCII letter or a
// digit: ^[a-z0-9]{1,26}$ (a lower-case ULID fits).
//
// # Why this format
//
// The access role's policies put the ID into resource patterns through the
// policy variable ${aws:PrincipalTag/TenantID}
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
// A session tag value may hold letters, digits, spaces and _ . : / = + - @
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_Tag.html); every
// one of those punctuation characters is a delimiter somewhere (/ in S3 keys
// and OpenSearch paths, : in ARNs), so an ID holding one could reach into
// another tenant's space: tenant "ab/x" under the pattern "${TenantID}/*"
// is a prefix of tenant "ab"'s objects, and tenant "ab" would reach "ab/x"'s.
// With letters and digits only, each pattern that follows the variable with a
// delimiter ("/" for S3 and OpenSearch) or ends right after it (DynamoDB
// leading keys, KMS tags, the OpenSearch index name) matches exactly one
// tenant: no ID followed by the delimiter is a prefix of another such string.
// Upper case is excluded because OpenSearch index names must be lower case
// and so that no two IDs differ only in case. The length keeps the role
// session name (tenant, "@", a 36-character request ID) within STS's 64
// characters.
package tenantid

import (
	"fmt"
)

// MaxLen is the longest tenant ID.
const MaxLen = 26

// TagKey is the session tag, and the KMS key tag, that carries the tenant ID.
const TagKey = "TenantID"

// Pattern is the format as a regular expression, for documentation and for
// checks written in other languages.
const Pattern = "^[a-z0-9]{1,26}$"

// Validate returns nil when id is a tenant ID, otherwise a one-line error
// naming what was expected.
func Validate(id string) error {
	if id == "" || len(id) > MaxLen {
		return fmt.Errorf("tenant ID %q: expected 1 to %d lower-case letters or digits (%s)", id, MaxLen, Pattern)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return fmt.Errorf("tenant ID %q: expected only lower-case letters a-z and digits 0-9 (%s), got %q at position %d", id, Pattern, c, i)
		}
	}
	return nil
}
