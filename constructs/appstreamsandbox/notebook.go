package appstreamsandbox

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssagemaker"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/nag"
)

// NotebookLogGroup is the log group SageMaker writes notebook instance logs to.
const NotebookLogGroup = "/aws/sagemaker/NotebookInstances"

func (s *Sandbox) notebook(r resolved) {
	s.NotebookKey = defaults.Key(s, "NotebookKey", &awskms.KeyProps{Description: jsii.String("Encrypts the AppStream sandbox notebook's volume")})

	s.NotebookSecurityGroup = awsec2.NewSecurityGroup(s, jsii.String("NotebookSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              s.Vpc,
		Description:      jsii.String("Sandbox notebook: HTTPS from the AppStream fleet only, HTTPS out to the VPC endpoints"),
		AllowAllOutbound: jsii.Bool(false),
	})
	s.NotebookSecurityGroup.AddIngressRule(s.FleetSecurityGroup, awsec2.Port_Tcp(jsii.Number(443)),
		jsii.String("HTTPS from AppStream fleet instances only"), nil)
	s.NotebookSecurityGroup.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)),
		jsii.String("HTTPS; the isolated route tables reach only the VPC endpoints and the S3 gateway endpoint"), nil)

	s.NotebookRole = awsiam.NewRole(s, jsii.String("NotebookRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("sagemaker.amazonaws.com"), nil),
		Description: jsii.String("AppStream sandbox notebook: its own logs and volume key, no data access by default"),
	})
	logsArn := func(name string) *string {
		return awscdk.Stack_Of(s).FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("logs"), Resource: jsii.String("log-group"), ResourceName: jsii.String(name),
			ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})
	}
	// CloudWatch Logs authorizes every log-group action but tagging on the ARN
	// with a trailing ":*", never on the bare log-group ARN:
	// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html
	logGroupArn := logsArn(NotebookLogGroup + ":*")
	streamsArn := logsArn(NotebookLogGroup + ":log-stream:" + *s.NotebookName + "/*")
	policy := awsiam.NewManagedPolicy(s, jsii.String("NotebookPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Write the sandbox notebook's logs and use its volume key"),
		Roles:       &[]awsiam.IRole{s.NotebookRole},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("NotebookLogGroup"),
				Actions:   jsii.Strings("logs:CreateLogGroup", "logs:DescribeLogStreams"),
				Resources: jsii.Strings(*logGroupArn),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("NotebookLogStreams"),
				Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
				Resources: jsii.Strings(*streamsArn),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("VolumeKey"),
				Actions:   jsii.Strings("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey"),
				Resources: jsii.Strings(*s.NotebookKey.KeyArn()),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("VolumeKeyGrantsForAwsResources"),
				Actions:    jsii.Strings("kms:CreateGrant"),
				Resources:  jsii.Strings(*s.NotebookKey.KeyArn()),
				Conditions: &map[string]any{"Bool": map[string]any{"kms:GrantIsForAWSResource": "true"}},
			}),
		},
	})
	nag.Suppress(policy, nag.Rule{
		ID: "AwsSolutions-IAM5",
		Reason: "SageMaker names the notebook's log streams <notebook>/<file> at run time; the grant covers this notebook's streams only. " +
			"The log group's ':*' is the ARN form CloudWatch Logs authorizes log-group actions on, not a wildcard over groups. " +
			"The key actions are KMS's data-key family on one key",
		AppliesTo: []string{
			"Resource::" + nagString(logGroupArn),
			"Resource::" + nagString(streamsArn),
			"Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*",
		},
	})

	isolated := s.Vpc.SelectSubnets(&awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED})
	s.Notebook = awssagemaker.NewCfnNotebookInstance(s, jsii.String("Notebook"), &awssagemaker.CfnNotebookInstanceProps{
		NotebookInstanceName: s.NotebookName,
		InstanceType:         jsii.String(r.notebookType),
		RoleArn:              s.NotebookRole.RoleArn(),
		SubnetId:             (*isolated.SubnetIds)[0],
		SecurityGroupIds:     jsii.Strings(*s.NotebookSecurityGroup.SecurityGroupId()),
		DirectInternetAccess: jsii.String("Disabled"),
		RootAccess:           jsii.String("Disabled"),
		KmsKeyId:             s.NotebookKey.KeyId(),
		VolumeSizeInGb:       jsii.Number(r.notebookVolume),
		InstanceMetadataServiceConfiguration: &awssagemaker.CfnNotebookInstance_InstanceMetadataServiceConfigurationProperty{
			MinimumInstanceMetadataServiceVersion: jsii.String("2"),
		},
	})
	s.Notebook.Node().AddDependency(policy)
	awscdk.Tags_Of(s.Notebook).Add(jsii.String("securestacks:appstream-stack"), s.AppStreamStackName, nil)
}
