// Command appstream-service-roles is the onEvent handler of the AppStream sandbox's service-roles
// custom resource (constructs/appstreamsandbox): it creates AmazonAppStreamServiceAccess and
// ApplicationAutoScalingForAmazonAppStreamAccess when they are missing and, on Delete, removes
// only the ones it created. Wiring only: the logic is in handler.go.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

func main() {
	logger := logging.New(os.Stderr)
	// One retry layer, the handler's: the SDK makes a single attempt per call.
	cfg := awsconfig.FromEnv(1)
	client := iam.NewFromConfig(cfg)
	lambda.Start(cfnresponse.Handler(&Roles{
		GetRole:                  client,
		CreateRole:               client,
		AttachRolePolicy:         client,
		ListAttachedRolePolicies: client,
		DetachRolePolicy:         client,
		ListRolePolicies:         client,
		DeleteRolePolicy:         client,
		DeleteRole:               client,
		Logger:                   logger,
	}, &cfnresponse.Options{Logger: logger}))
}
