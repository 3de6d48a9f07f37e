package tenantisolation

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsopensearchservice"
)

// OpenSearchActions are the HTTP methods GrantOpenSearchIndex allows on the
// tenant's index.
var OpenSearchActions = []string{"es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"}

// OpenSearchIndex is the name of a tenant's index: the tenant ID itself
// (lower case letters and digits, which OpenSearch accepts as an index name).
func OpenSearchIndex(tenantID string) string { return tenantID }

// GrantOpenSearchIndex lets AccessRole call OpenSearchActions on the index
// named after the session's tenant and on the paths under it:
// domain/<name>/<tenant> and domain/<name>/<tenant>/*. The seed post's
// domain/<name>/${aws:PrincipalTag/TenantID}*/* matched every index whose
// name starts with the tenant ID, so tenant "ab" could read tenant "abc"'s;
// an exact name and the "/" delimiter close that, and so do comma-separated
// multi-index paths ("ab,abc/_search" matches neither pattern).
//
// Two things IAM does not see, which the domain must settle: its
// resource-based access policy must not grant these principals more, and
// the advanced option rest.action.multi.allow_explicit_index must be
// "false", otherwise a _bulk, _mget or _msearch on the tenant's own index can
// name other indices in its body
// (https://docs.aws.amazon.com/opensearch-service/latest/developerguide/ac.html).
// Cluster-wide paths (_bulk, _search, _cat at the root) are not granted.
func (t *TenantIsolation) GrantOpenSearchIndex(domain awsopensearchservice.IDomain) awsiam.Grant {
	arn := *domain.DomainArn()
	return t.grant(OpenSearchActions, []string{arn + "/" + TenantVariable, arn + "/" + TenantVariable + "/*"}, nil)
}
