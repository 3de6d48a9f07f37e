package rolecoverage_test

import (
	"sort"
	"strings"
	"testing"

	// The SDK clients the handlers use, linked here only so that `go test
	// ./...` compiles them before this test runs: HandlerOperations then
	// finds their export data in the build cache instead of compiling them a
	// second time in its own go list (minutes for sagemaker on a fresh
	// machine).
	_ "github.com/aws/aws-sdk-go-v2/service/acm"
	_ "github.com/aws/aws-sdk-go-v2/service/acmpca"
	_ "github.com/aws/aws-sdk-go-v2/service/appstream"
	_ "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	_ "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	_ "github.com/aws/aws-sdk-go-v2/service/ec2"
	_ "github.com/aws/aws-sdk-go-v2/service/ecs"
	_ "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	_ "github.com/aws/aws-sdk-go-v2/service/iam"
	_ "github.com/aws/aws-sdk-go-v2/service/kms"
	_ "github.com/aws/aws-sdk-go-v2/service/lambda"
	_ "github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	_ "github.com/aws/aws-sdk-go-v2/service/securityhub"
	_ "github.com/aws/aws-sdk-go-v2/service/sns"
	_ "github.com/aws/aws-sdk-go-v2/service/ssm"
	_ "github.com/aws/aws-sdk-go-v2/service/sts"
)

// prebuilt lists the services imported above.
var prebuilt = []string{"acm", "acmpca", "appstream", "autoscaling", "dynamodb", "ec2", "ecs", "elasticloadbalancingv2", "iam", "kms", "lambda", "s3", "secretsmanager", "securityhub", "sns", "ssm", "sts"}

func TestEveryHandlerServiceIsPrebuilt(t *testing.T) {
	ready(t)
	// GIVEN the SDK services the handlers' operations belong to
	found := map[string]bool{}
	for pkg, uses := range fx.operations {
		if strings.HasPrefix(pkg, handlerPrefix) {
			for _, u := range uses {
				// A stand-in client links no SDK service package.
				if u.StandIn == "" {
					found[u.Service] = true
				}
			}
		}
	}
	// THEN each is imported above, and nothing else is
	var services []string
	for s := range found {
		services = append(services, s)
	}
	sort.Strings(services)
	if strings.Join(services, " ") != strings.Join(prebuilt, " ") {
		t.Errorf("handlers use the SDK services %v; prebuilt_test.go imports %v: make its imports and prebuilt list the handlers' services", services, prebuilt)
	}
}
