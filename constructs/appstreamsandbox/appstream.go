package appstreamsandbox

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsappstream"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/internal/nag"
)

// The resource types of the construct's custom resources.
const (
	ServiceRolesResourceType   = "Custom::AppStreamServiceRoles"
	FleetLifecycleResourceType = "Custom::AppStreamFleetLifecycle"
	UsageReportsResourceType   = "Custom::AppStreamUsageReports"
	HomeFolderResourceType     = "Custom::AppStreamHomeFolderNotification"
)

// UsageReportsBucketAttribute is the attribute (Fn::GetAtt) of UsageReports.Resource naming the
// bucket AppStream writes the usage reports to.
const UsageReportsBucketAttribute = "S3BucketName"

// ServiceRoleNames are the account-wide roles AppStream expects. The construct finds them at any
// path and creates the missing ones under /service-role/, as the AppStream console does.
var ServiceRoleNames = []string{"AmazonAppStreamServiceAccess", "ApplicationAutoScalingForAmazonAppStreamAccess"}

// OwnerTag is the tag the service-roles custom resource puts on a role it creates; only roles
// carrying it may be deleted.
const OwnerTag = "securestacks:owner"

// The stack's user settings. Only pasting into the session is configurable.
const (
	ActionPasteFromLocal = "CLIPBOARD_COPY_FROM_LOCAL_DEVICE"
	ActionCopyToLocal    = "CLIPBOARD_COPY_TO_LOCAL_DEVICE"
	ActionFileUpload     = "FILE_UPLOAD"
	ActionFileDownload   = "FILE_DOWNLOAD"
	ActionPrintToLocal   = "PRINTING_TO_LOCAL_DEVICE"
)

func (s *Sandbox) arn(service, resource, name string) *string {
	return awscdk.Stack_Of(s).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String(service), Resource: jsii.String(resource), ResourceName: jsii.String(name),
	})
}

func (s *Sandbox) globalArn(service, resource, name string) *string {
	return awscdk.Stack_Of(s).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String(service), Region: jsii.String(""), Resource: jsii.String(resource), ResourceName: jsii.String(name),
	})
}

func (s *Sandbox) appStream(r resolved) {
	stackArn := s.arn("appstream", "stack", *s.AppStreamStackName)
	fleetArn := s.arn("appstream", "fleet", *s.FleetName)
	partition := awscdk.Aws_PARTITION()

	// Service roles first: AppStream refuses to create a fleet without them.
	// roleArns are where the handler creates (and so may delete) a role; anyPathArns are where
	// an existing role of the same name may be: an account can hold it at another path, and
	// GetRole, which takes a name, must not be denied there. Path "/" has no slash before the
	// name, hence two patterns per role instead of one "*Name" that would match other names too.
	var roleArns, anyPathArns, policyArns []*string
	for _, name := range ServiceRoleNames {
		roleArns = append(roleArns, s.globalArn("iam", "role", "service-role/"+name))
		anyPathArns = append(anyPathArns, s.globalArn("iam", "role", name), s.globalArn("iam", "role", "*/"+name))
		policyArns = append(policyArns, jsii.String(fmt.Sprintf("arn:%s:iam::aws:policy/service-role/%s", *partition, name)))
	}
	s.ServiceRoles = s.customResource(customResourceSpec{
		id: "ServiceRoles", entry: ServiceRolesEntry, resourceType: ServiceRolesResourceType,
		description: "Creates the AppStream service roles when they are missing; deletes only those it created",
		timeout:     awscdk.Duration_Minutes(jsii.Number(2)),
		statements: []awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("FindServiceRolesAtAnyPath"),
				Actions:   jsii.Strings("iam:GetRole"),
				Resources: &anyPathArns,
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				// The List calls serve only emptying a role before deleting it: a role this
				// resource created, so under /service-role/.
				Sid:       jsii.String("CreateAndListServiceRoles"),
				Actions:   jsii.Strings("iam:CreateRole", "iam:TagRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies"),
				Resources: &roleArns,
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("AttachOnlyTheServicePolicies"),
				Actions:    jsii.Strings("iam:AttachRolePolicy"),
				Resources:  &roleArns,
				Conditions: &map[string]any{"ArnEquals": map[string]any{"iam:PolicyARN": policyArns}},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				// IAM itself enforces "never delete a role it did not create": only roles
				// carrying the owner tag can be emptied and deleted.
				Sid:        jsii.String("DeleteOnlyTaggedServiceRoles"),
				Actions:    jsii.Strings("iam:DetachRolePolicy", "iam:DeleteRolePolicy", "iam:DeleteRole"),
				Resources:  &roleArns,
				Conditions: &map[string]any{"Null": map[string]any{"aws:ResourceTag/" + OwnerTag: "false"}},
			}),
		},
		properties: map[string]any{
			"Partition":      partition,
			"RetainOnDelete": fmt.Sprint(r.retainRoles),
		},
		vpcReason: "Calls IAM, which has no VPC endpoint, and runs only during deploys; the sandbox VPC has no other way out",
	})
	// As cdk-nag writes the resources: a token as <Pseudo::Parameter>, a pinned value as is.
	stack := awscdk.Stack_Of(s)
	nagText := func(v *string, pseudo string) string {
		if *awscdk.Token_IsUnresolved(v) {
			return "<" + pseudo + ">"
		}
		return *v
	}
	var anyPath []string
	for _, name := range ServiceRoleNames {
		anyPath = append(anyPath, "Resource::arn:"+nagText(stack.Partition(), "AWS::Partition")+":iam::"+
			nagText(stack.Account(), "AWS::AccountId")+":role/*/"+name)
	}
	nag.Suppress(s.ServiceRoles.Policy, nag.Rule{
		ID: "AwsSolutions-IAM5",
		Reason: "iam:GetRole only, on the two AppStream service role names at any path: an account may hold them " +
			"outside /service-role/, and IAM role names are unique whatever the path. Every write stays on /service-role/",
		AppliesTo: anyPath,
	})

	// The fleet's role: what a user's session can do with AWS credentials of its own.
	s.FleetRole = awsiam.NewRole(s, jsii.String("FleetRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("appstream.amazonaws.com"), nil),
		Description: jsii.String("AppStream sandbox fleet instances: read the session scripts, nothing else"),
	})
	s.FleetPolicy = awsiam.NewManagedPolicy(s, jsii.String("FleetPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Read the sandbox session scripts and the parameter naming their bucket"),
		Roles:       &[]awsiam.IRole{s.FleetRole},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadSessionScripts"),
				Actions:   jsii.Strings("s3:GetObject"),
				Resources: jsii.Strings(*s.ScriptsBucket.ArnForObjects(jsii.String(ScriptsPrefix + "*"))),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("DecryptSessionScripts"),
				Actions:   jsii.Strings("kms:Decrypt"),
				Resources: jsii.Strings(*s.ScriptsBucket.EncryptionKey().KeyArn()),
				Conditions: &map[string]any{"StringEquals": map[string]any{
					"kms:ViaService": "s3." + *awscdk.Aws_REGION() + "." + *awscdk.Aws_URL_SUFFIX(),
				}},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadScriptsBucketParameter"),
				Actions:   jsii.Strings("ssm:GetParameter"),
				Resources: jsii.Strings(*s.ScriptsBucketParameter.ParameterArn()),
			}),
		},
	})
	nag.Suppress(s.FleetPolicy, nag.Rule{
		ID:        "AwsSolutions-IAM5",
		Reason:    "The fleet reads every object under the session-scripts prefix of its own bucket, and only that prefix",
		AppliesTo: []string{"Resource::<" + logicalIDPath(s.ScriptsBucket) + ".Arn>/" + ScriptsPrefix + "*"},
	})

	isolated := s.Vpc.SelectSubnets(&awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED})
	s.Fleet = awsappstream.NewCfnFleet(s, jsii.String("Fleet"), &awsappstream.CfnFleetProps{
		Name:            s.FleetName,
		Description:     jsii.String("securestacks AppStream sandbox fleet"),
		ImageName:       jsii.String(r.image),
		InstanceType:    jsii.String(r.instanceType),
		FleetType:       jsii.String(r.fleetType),
		ComputeCapacity: &awsappstream.CfnFleet_ComputeCapacityProperty{DesiredInstances: jsii.Number(r.desired)},
		VpcConfig: &awsappstream.CfnFleet_VpcConfigProperty{
			SubnetIds:        isolated.SubnetIds,
			SecurityGroupIds: jsii.Strings(*s.FleetSecurityGroup.SecurityGroupId()),
		},
		EnableDefaultInternetAccess:    jsii.Bool(false),
		IamRoleArn:                     s.FleetRole.RoleArn(),
		MaxUserDurationInSeconds:       jsii.Number(r.maxDuration),
		DisconnectTimeoutInSeconds:     jsii.Number(r.disconnect),
		IdleDisconnectTimeoutInSeconds: jsii.Number(r.idle),
		StreamView:                     jsii.String("APP"),
	})
	s.Fleet.Node().AddDependency(s.ServiceRoles.Resource, s.FleetPolicy)

	paste := "DISABLED"
	if r.pasteFromLocal {
		paste = "ENABLED"
	}
	setting := func(action, permission string) *awsappstream.CfnStack_UserSettingProperty {
		return &awsappstream.CfnStack_UserSettingProperty{Action: jsii.String(action), Permission: jsii.String(permission)}
	}
	stackProps := &awsappstream.CfnStackProps{
		Name:              s.AppStreamStackName,
		Description:       jsii.String("securestacks AppStream sandbox stack"),
		StorageConnectors: &[]*awsappstream.CfnStack_StorageConnectorProperty{{ConnectorType: jsii.String("HOMEFOLDERS")}},
		UserSettings: &[]*awsappstream.CfnStack_UserSettingProperty{
			setting(ActionPasteFromLocal, paste),
			setting(ActionCopyToLocal, "DISABLED"),
			setting(ActionFileUpload, "DISABLED"),
			setting(ActionFileDownload, "DISABLED"),
			setting(ActionPrintToLocal, "DISABLED"),
		},
		ApplicationSettings: &awsappstream.CfnStack_ApplicationSettingsProperty{Enabled: jsii.Bool(false)},
	}
	if ep, ok := s.InterfaceEndpoints["appstream-streaming"]; ok {
		stackProps.AccessEndpoints = &[]*awsappstream.CfnStack_AccessEndpointProperty{{
			EndpointType: jsii.String("STREAMING"),
			VpceId:       ep.VpcEndpointId(),
		}}
	}
	s.Stack = awsappstream.NewCfnStack(s, jsii.String("Stack"), stackProps)
	s.Stack.Node().AddDependency(s.ServiceRoles.Resource)

	s.StackFleetAssociation = awsappstream.NewCfnStackFleetAssociation(s, jsii.String("StackFleetAssociation"), &awsappstream.CfnStackFleetAssociationProps{
		FleetName: s.Fleet.Ref(),
		StackName: s.Stack.Ref(),
	})

	// Created after the association and so deleted before it: the fleet is stopped before
	// CloudFormation disassociates and deletes it.
	s.FleetLifecycle = s.customResource(customResourceSpec{
		id: "FleetLifecycle", entry: FleetLifecycleEntry, resourceType: FleetLifecycleResourceType,
		description: "Starts the sandbox fleet on create; stops it, waiting boundedly, on delete",
		timeout:     awscdk.Duration_Seconds(jsii.Number(r.stopTimeoutSeconds + 60)),
		statements: []awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("StartStopThisFleet"),
				Actions:   jsii.Strings("appstream:StartFleet", "appstream:StopFleet"),
				Resources: jsii.Strings(*fleetArn),
			}),
			// DescribeFleets supports no resource-level permissions: on the fleet's ARN
			// the statement would never grant it.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("DescribeFleets"),
				Actions:   jsii.Strings("appstream:DescribeFleets"),
				Resources: jsii.Strings("*"),
			}),
		},
		properties: map[string]any{
			"FleetName":          s.Fleet.Ref(),
			"StopTimeoutSeconds": fmt.Sprint(r.stopTimeoutSeconds),
		},
		vpcReason: "Runs only during deploys and calls only the AppStream API; outside the VPC its ENIs cannot delay deleting the VPC",
	})
	s.FleetLifecycle.Resource.Node().AddDependency(s.StackFleetAssociation)
	nag.Suppress(s.FleetLifecycle.Policy, nag.Rule{
		ID:        "AwsSolutions-IAM5",
		Reason:    "appstream:DescribeFleets supports no resource-level permissions and reads fleet state only; starting and stopping stay on this fleet's ARN",
		AppliesTo: []string{"Resource::*"},
	})

	s.UsageReports = s.customResource(customResourceSpec{
		id: "UsageReports", entry: UsageReportsEntry, resourceType: UsageReportsResourceType,
		description: "Turns AppStream usage reports on; turns them off only if it turned them on",
		timeout:     awscdk.Duration_Minutes(jsii.Number(2)),
		statements: []awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("UsageReportSubscription"),
			Actions:   jsii.Strings("appstream:DescribeUsageReportSubscriptions", "appstream:CreateUsageReportSubscription", "appstream:DeleteUsageReportSubscription"),
			Resources: jsii.Strings("*"),
		})},
		properties: map[string]any{"RetainOnDelete": fmt.Sprint(r.retainReports)},
		vpcReason:  "Runs only during deploys and calls only the AppStream API; outside the VPC its ENIs cannot delay deleting the VPC",
	})
	nag.Suppress(s.UsageReports.Policy, nag.Rule{
		ID:        "AwsSolutions-IAM5",
		Reason:    "The usage-report subscription actions support no resource-level permissions: the subscription is one per account and region",
		AppliesTo: []string{"Resource::*"},
	})
	// AppStream writes the reports with its service role.
	s.UsageReports.Resource.Node().AddDependency(s.ServiceRoles.Resource)

	if r.idpName != nil {
		s.samlRole(r, stackArn)
	}
}

// samlRole lets the SAML provider's users assume a role that can stream from this stack, as
// themselves (appstream:userId must be their SAML subject), and do nothing else.
func (s *Sandbox) samlRole(r resolved, stackArn *string) {
	audience := r.samlAudience
	if audience == nil {
		m := awscdk.NewCfnMapping(s, jsii.String("SamlAudience"), &awscdk.CfnMappingProps{
			Mapping: &map[string]*map[string]any{
				"aws":        {"audience": "https://signin.aws.amazon.com/saml"},
				"aws-cn":     {"audience": "https://signin.amazonaws.cn/saml"},
				"aws-us-gov": {"audience": "https://signin.amazonaws-us-gov.com/saml"},
			},
		})
		audience = m.FindInMap(awscdk.Aws_PARTITION(), jsii.String("audience"), nil)
	}
	provider := s.globalArn("iam", "saml-provider", *r.idpName)
	s.SamlRole = awsiam.NewRole(s, jsii.String("SamlRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewFederatedPrincipal(provider, &map[string]any{
			"StringEquals": map[string]any{"SAML:aud": audience},
		}, jsii.String("sts:AssumeRoleWithSAML")),
		Description: jsii.String("SAML users of " + *r.idpName + ": stream from the sandbox stack only"),
	})
	awsiam.NewManagedPolicy(s, jsii.String("SamlPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Stream from the sandbox stack, as the SAML subject"),
		Roles:       &[]awsiam.IRole{s.SamlRole},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("StreamThisStackAsYourself"),
			Actions:    jsii.Strings("appstream:Stream"),
			Resources:  jsii.Strings(*stackArn),
			Conditions: &map[string]any{"StringEquals": map[string]any{"appstream:userId": "${saml:sub}"}},
		})},
	})
}

// logicalIDPath is the logical id of c's CloudFormation resource, as cdk-nag writes it in
// AppliesTo findings ("Resource::<LogicalId.Arn>/...").
func logicalIDPath(c interface{ Node() constructs.Node }) string {
	return *awscdk.Stack_Of(c.Node().DefaultChild()).GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
}
