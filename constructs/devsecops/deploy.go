package devsecops

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseks"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/internal/defaults"
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

// Defaults of EksDeployProps.
const (
	DefaultManifests = "k8s"
	// DefaultRolloutTimeoutMinutes is how long every Deployment may take to roll out.
	DefaultRolloutTimeoutMinutes = 5
	// EksAccessPolicy is the EKS access policy EksDeploy grants, scoped to the namespace: create,
	// update and roll back workloads there, and nothing cluster-wide
	// (https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html).
	EksAccessPolicy = "AmazonEKSEditPolicy"
)

// EksDeployProps point EksDeploy at an existing cluster.
type EksDeployProps struct {
	// ClusterName is the existing EKS cluster. Required. Its authentication mode must be API
	// or API_AND_CONFIG_MAP, since access goes through an access entry.
	ClusterName *string
	// Namespace is the Kubernetes namespace the manifests are applied to, and the only scope
	// of the deploy role's access policy. Required; it must exist.
	Namespace *string
	// Manifests is the directory of the repository with the manifests, applied recursively;
	// every "${IMAGE_URI}" in them is replaced by the image the image stage pushed. Default
	// "k8s".
	Manifests *string
	// RolloutTimeout bounds the rollout of each Deployment; a rollout that does not finish in
	// time is undone and fails the action. Default 5 minutes.
	RolloutTimeout awscdk.Duration
}

// EksDeploy deploys the image built by the image stage to an existing EKS cluster, as the
// Kubernetes seed post does: a CodeBuild action runs the pinned, checksummed kubectl, applies
// the repository's manifests to the namespace, waits for every Deployment's rollout and rolls
// back a rollout that fails. The action's CodeBuild role reaches the cluster only through an
// EKS access entry with EksAccessPolicy scoped to the namespace (never the aws-auth ConfigMap,
// never cluster-admin), and its IAM permissions on EKS are eks:DescribeCluster on that cluster.
// Bad props panic with a "devsecops:" message; so does a pipeline without the image stage.
func EksDeploy(props *EksDeployProps) DeployActionFactory {
	if props == nil || props.ClusterName == nil || strings.TrimSpace(*props.ClusterName) == "" {
		panic("devsecops: EksDeploy needs ClusterName, the existing EKS cluster")
	}
	if props.Namespace == nil || strings.TrimSpace(*props.Namespace) == "" {
		panic("devsecops: EksDeploy needs Namespace, the Kubernetes namespace to deploy to")
	}
	manifests := deref(props.Manifests, DefaultManifests)
	if strings.HasPrefix(manifests, "/") || strings.Contains(manifests, "..") {
		panic(fmt.Sprintf("devsecops: EksDeploy Manifests %q: expected a directory relative to the repository root", manifests))
	}
	timeout := props.RolloutTimeout
	if timeout == nil {
		timeout = awscdk.Duration_Minutes(jsii.Number(DefaultRolloutTimeoutMinutes))
	}
	return func(scope constructs.Construct, ctx DeployContext) awscodepipeline.IAction {
		if ctx.ImageDefinitions == nil {
			panic("devsecops: EksDeploy needs the image stage (imagedefinitions.json); remove NoImageStage")
		}
		p, ok := scope.(*Pipeline)
		if !ok {
			panic("devsecops: EksDeploy must be used as a PipelineProps deploy factory")
		}
		stack := awscdk.Stack_Of(scope)
		id := "EksDeploy" + ctx.Stage
		logGroup := defaults.LogGroup(p, id+"Logs", &awslogs.LogGroupProps{EncryptionKey: p.Key})
		spec := buildSpec(deployScript(), nil, nil)
		proj := awscodebuild.NewPipelineProject(p, jsii.String(id), &awscodebuild.PipelineProjectProps{
			Description:   jsii.String("kubectl deploy to EKS " + *props.ClusterName + "/" + *props.Namespace + " (" + ctx.Stage + ")"),
			BuildSpec:     awscodebuild.BuildSpec_FromObjectToYaml(&spec),
			EncryptionKey: p.Key,
			Environment:   &awscodebuild.BuildEnvironment{BuildImage: awscodebuild.LinuxBuildImage_STANDARD_7_0(), ComputeType: awscodebuild.ComputeType_SMALL},
			EnvironmentVariables: &map[string]*awscodebuild.BuildEnvironmentVariable{
				envEksCluster:    plainVar(props.ClusterName),
				envK8sNamespace:  plainVar(props.Namespace),
				envK8sManifests:  plainVar(jsii.String(manifests)),
				envRollout:       plainVar(jsii.String(fmt.Sprint(*timeout.ToSeconds(nil)))),
				envContainerName: plainVar(jsii.String(p.props.container)),
			},
			Logging: &awscodebuild.LoggingOptions{CloudWatch: &awscodebuild.CloudWatchLoggingOptions{LogGroup: logGroup}},
			Timeout: awscdk.Duration_Minutes(jsii.Number(*timeout.ToMinutes(nil) + 15)),
		})
		cluster := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("eks"), Resource: jsii.String("cluster"),
			ResourceName: props.ClusterName, ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME})
		proj.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("WriteTheKubeconfig"),
			Actions: jsii.Strings("eks:DescribeCluster"), Resources: jsii.Strings(*cluster)}))
		awseks.NewCfnAccessEntry(p, jsii.String(id+"Access"), &awseks.CfnAccessEntryProps{
			ClusterName:  props.ClusterName,
			PrincipalArn: proj.Role().RoleArn(),
			Type:         jsii.String("STANDARD"),
			AccessPolicies: &[]any{&awseks.CfnAccessEntry_AccessPolicyProperty{
				PolicyArn:   jsii.String("arn:" + *awscdk.Aws_PARTITION() + ":eks::aws:cluster-access-policy/" + EksAccessPolicy),
				AccessScope: &awseks.CfnAccessEntry_AccessScopeProperty{Type: jsii.String("namespace"), Namespaces: jsii.Strings(*props.Namespace)},
			}},
		})
		p.suppressProjectRole(proj)
		nag.Suppress(proj, nag.Rule{ID: "HIPAA.Security-CodeBuildProjectSourceRepoUrl",
			Reason: "The project's source is the pipeline artifact (type CODEPIPELINE), not a GitHub or Bitbucket URL, so there is no repository credential to carry by OAuth or otherwise"})
		return awscodepipelineactions.NewCodeBuildAction(&awscodepipelineactions.CodeBuildActionProps{
			ActionName:  jsii.String("DeployTo" + ctx.Stage),
			Project:     proj,
			Input:       ctx.Source,
			ExtraInputs: &[]awscodepipeline.Artifact{ctx.ImageDefinitions},
		})
	}
}
