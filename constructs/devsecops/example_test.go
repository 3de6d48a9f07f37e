package devsecops_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/devsecops"
)

// The second seed post's software factory on ECS: Dependency-Check and Semgrep in parallel, an
// image scanned by Trivy before it is pushed, a rolling ECS deploy to staging, a ZAP baseline
// scan of staging, an approval, and a production deploy, with findings at or above HIGH
// failing the build.
func Example() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	stack := awscdk.NewStack(app, jsii.String("Factory"), &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}})
	staging := awsecs.BaseService_FromServiceArnWithCluster(stack, jsii.String("Staging"),
		jsii.String("arn:aws:ecs:eu-west-1:123456789012:service/shop/shop-staging"))
	production := awsecs.BaseService_FromServiceArnWithCluster(stack, jsii.String("Production"),
		jsii.String("arn:aws:ecs:eu-west-1:123456789012:service/shop/shop-production"))

	p := devsecops.NewPipeline(stack, "Pipeline", &devsecops.PipelineProps{
		RepositoryName:     jsii.String("shop"),
		ScaTool:            devsecops.ScaDependencyCheck,
		NvdApiKeySecret:    awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("Nvd"), jsii.String("nvd-api-key")),
		Image:              &devsecops.ImageProps{ScanTool: devsecops.ImageTrivy, ContainerName: jsii.String("shop")},
		StagingDeploy:      devsecops.EcsDeploy(staging),
		DastTargetURL:      jsii.String("https://staging.shop.example.com"),
		ProductionDeploy:   devsecops.EcsDeploy(production),
		ApproverEmails:     []string{"release-manager@example.com"},
		NotificationEmails: []string{"security@example.com"},
	})
	for _, s := range *p.Pipeline.Stages() {
		fmt.Println(*s.StageName(), len(*s.Actions()))
	}
	// Output:
	// Source 1
	// Secrets 1
	// Analysis 2
	// Image 1
	// Staging 1
	// DAST 1
	// Approval 1
	// Production 1
}
