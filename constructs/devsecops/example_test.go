package devsecops_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
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

// The Kubernetes seed post's factory: Snyk for SCA and SAST, kubectl deploys to an EKS staging
// and, after approval, production cluster, ZAP against the private staging from inside its VPC,
// and Falco's runtime events in Security Hub.
func ExampleEksDeploy() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	stack := awscdk.NewStack(app, jsii.String("K8sFactory"), &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}})
	vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
		VpcId: jsii.String("vpc-0a1b2c3d4e5f60718"), AvailabilityZones: jsii.Strings("eu-west-1a"), PrivateSubnetIds: jsii.Strings("subnet-0a1b2c3d4e5f60718"),
	})
	p := devsecops.NewPipeline(stack, "Pipeline", &devsecops.PipelineProps{
		ScaTool:         devsecops.ScaSnyk,
		SastTool:        devsecops.SastSnyk,
		SnykTokenSecret: awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("Snyk"), jsii.String("snyk-token")),
		StagingDeploy:   devsecops.EksDeploy(&devsecops.EksDeployProps{ClusterName: jsii.String("shop-staging"), Namespace: jsii.String("shop")}),
		DastTargetURL:   jsii.String("https://staging.shop.internal"),
		DastVpc:         vpc,
		ProductionDeploy: devsecops.EksDeploy(&devsecops.EksDeployProps{ClusterName: jsii.String("shop-production"), Namespace: jsii.String("shop"),
			RolloutTimeout: awscdk.Duration_Minutes(jsii.Number(10))}),
		ApproverEmails:  []string{"release-manager@example.com"},
		RuntimeFindings: &devsecops.RuntimeFindingsProps{LogGroup: awslogs.LogGroup_FromLogGroupName(stack, jsii.String("Falco"), jsii.String("/eks/shop-staging/falco"))},
	})
	for _, s := range *p.Pipeline.Stages() {
		fmt.Println(*s.StageName(), *(*s.Actions())[0].ActionProperties().ActionName)
	}
	// Output:
	// Source Source
	// Secrets SecretsScan
	// Analysis SCA
	// Image BuildScanPush
	// Staging DeployToStaging
	// DAST ZAP
	// Approval ApproveProduction
	// Production DeployToProduction
}
