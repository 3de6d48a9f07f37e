package devsecops

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/internal/nag"
)

// ElasticBeanstalkDeploy deploys the source bundle to an Elastic Beanstalk environment, as the
// first seed post does. CodePipeline's action role gets the AWS managed policy
// AdministratorAccess-AWSElasticBeanstalk, which Elastic Beanstalk deployments need.
func ElasticBeanstalkDeploy(applicationName, environmentName string) DeployActionFactory {
	return func(scope constructs.Construct, ctx DeployContext) awscodepipeline.IAction {
		return awscodepipelineactions.NewElasticBeanstalkDeployAction(&awscodepipelineactions.ElasticBeanstalkDeployActionProps{
			ActionName:      jsii.String("DeployTo" + ctx.Stage),
			ApplicationName: jsii.String(applicationName),
			EnvironmentName: jsii.String(environmentName),
			Input:           ctx.Source,
		})
	}
}

// EcsDeploy is a rolling deploy of the image built by the image stage to an ECS service (the
// container named ImageProps.ContainerName). The action gets its own role with least
// privilege: CDK's default role would put every ECS action on "*", where only
// RegisterTaskDefinition and DescribeTaskDefinition need it. Panics without an image stage.
func EcsDeploy(service awsecs.IBaseService) DeployActionFactory {
	return func(scope constructs.Construct, ctx DeployContext) awscodepipeline.IAction {
		if ctx.ImageDefinitions == nil {
			panic("devsecops: EcsDeploy needs the image stage (imagedefinitions.json); remove NoImageStage")
		}
		p, ok := scope.(*Pipeline)
		if !ok {
			panic("devsecops: EcsDeploy must be used as a PipelineProps deploy factory")
		}
		stack := awscdk.Stack_Of(scope)
		id := "EcsDeploy" + ctx.Stage
		role := awsiam.NewRole(scope, jsii.String(id+"Role"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewAccountRootPrincipal(),
			Description: jsii.String("CodePipeline ECS deploy action (" + ctx.Stage + ")"),
		})
		cluster := service.Cluster().ClusterArn()
		tasks := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ecs"), Resource: jsii.String("task"),
			ResourceName: jsii.String(*service.Cluster().ClusterName() + "/*"), ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME})
		policy := awsiam.NewManagedPolicy(scope, jsii.String(id+"Policy"), &awsiam.ManagedPolicyProps{
			Description: jsii.String("CodePipeline ECS deploy action (" + ctx.Stage + "): one service"),
			Roles:       &[]awsiam.IRole{role},
			Statements: &[]awsiam.PolicyStatement{
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("UpdateTheService"),
					Actions: jsii.Strings("ecs:DescribeServices", "ecs:UpdateService"), Resources: jsii.Strings(*service.ServiceArn())}),
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("WatchTheRollout"),
					Actions: jsii.Strings("ecs:DescribeTasks", "ecs:ListTasks"), Resources: jsii.Strings(*cluster, *tasks)}),
				// RegisterTaskDefinition and DescribeTaskDefinition support no resource-level permissions.
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("NewTaskDefinitionRevision"),
					Actions: jsii.Strings("ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"), Resources: jsii.Strings("*")}),
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("TagTheRevision"),
					Actions: jsii.Strings("ecs:TagResource"), Resources: jsii.Strings(*stack.FormatArn(&awscdk.ArnComponents{
						Service: jsii.String("ecs"), Resource: jsii.String("task-definition"), ResourceName: jsii.String("*"), ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME}))}),
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("PassTaskRolesToEcs"),
					Actions: jsii.Strings("iam:PassRole"), Resources: jsii.Strings(*stack.FormatArn(&awscdk.ArnComponents{
						Service: jsii.String("iam"), Region: jsii.String(""), Resource: jsii.String("role"), ResourceName: jsii.String("*")})),
					Conditions: &map[string]any{"StringEqualsIfExists": map[string]any{"iam:PassedToService": "ecs-tasks.amazonaws.com"}}}),
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("ReadTheImageDefinitions"),
					Actions: jsii.Strings("s3:GetObject", "s3:GetObjectVersion"), Resources: jsii.Strings(*p.ArtifactBucket.ArnForObjects(jsii.String("*")))}),
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("DecryptTheArtifacts"),
					Actions: jsii.Strings("kms:Decrypt", "kms:DescribeKey"), Resources: jsii.Strings(*p.Key.KeyArn())}),
			},
		})
		nag.Suppress(policy, nag.Rule{ID: "AwsSolutions-IAM5",
			Reason: "Task ARNs of the cluster, task-definition revisions, the task roles ECS receives (only for ecs-tasks) and pipeline artifacts are only known by prefix; RegisterTaskDefinition and DescribeTaskDefinition support no resource-level permissions"})
		return awscodepipelineactions.NewEcsDeployAction(&awscodepipelineactions.EcsDeployActionProps{
			ActionName:        jsii.String("DeployTo" + ctx.Stage),
			Service:           service,
			Input:             ctx.ImageDefinitions,
			DeploymentTimeout: awscdk.Duration_Minutes(jsii.Number(30)),
			// The managed policy above is the whole of the role's permissions.
			Role: role.WithoutPolicyUpdates(nil),
		})
	}
}
