package devsecops

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudtrail"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsconfig"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecurityhub"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/nag"
)

// AlarmNamespace is the CloudWatch namespace of the pipeline-tampering metrics.
const AlarmNamespace = "securestacks/DevSecOps"

// watchedEvents are the CloudTrail events the alarms watch, as in the seed posts: someone
// changing or deleting the pipeline, or creating or deleting build projects, may be trying to
// bypass the scans.
var watchedEvents = []struct {
	id, source string
	events     []string
}{
	{"PipelineChanges", "codepipeline.amazonaws.com", []string{"UpdatePipeline", "DeletePipeline"}},
	{"ProjectChanges", "codebuild.amazonaws.com", []string{"CreateProject", "DeleteProject"}},
}

func (p *Pipeline) addGovernance() {
	g := p.props.governance
	if g.trail {
		p.addTrail()
	}
	if g.alarms {
		p.addAlarms()
	}
	if g.recorder {
		p.addRecorder()
	}
	if g.rules {
		for _, rule := range []struct {
			id         string
			identifier *string
			scope      awsconfig.RuleScope
		}{
			{"CodeBuildEnvVarAwsCredCheck", awsconfig.ManagedRuleIdentifiers_CODEBUILD_PROJECT_ENVVAR_AWSCRED_CHECK(), awsconfig.RuleScope_FromResources(&[]awsconfig.ResourceType{awsconfig.ResourceType_CODEBUILD_PROJECT()})},
			{"CodeBuildSourceRepoUrlCheck", awsconfig.ManagedRuleIdentifiers_CODEBUILD_PROJECT_SOURCE_REPO_URL_CHECK(), awsconfig.RuleScope_FromResources(&[]awsconfig.ResourceType{awsconfig.ResourceType_CODEBUILD_PROJECT()})},
			{"CloudTrailLogFileValidation", awsconfig.ManagedRuleIdentifiers_CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED(), nil},
		} {
			r := awsconfig.NewManagedRule(p, jsii.String(rule.id), &awsconfig.ManagedRuleProps{Identifier: rule.identifier, RuleScope: rule.scope})
			if g.recorder {
				r.Node().AddDependency(p.recorder)
			}
			p.ConfigRules = append(p.ConfigRules, r)
		}
	}
	if g.events {
		awsevents.NewRule(p, jsii.String("PipelineStateChanges"), &awsevents.RuleProps{
			Description: jsii.String("DevSecOps pipeline and stage state changes to the notification topic"),
			EventPattern: &awsevents.EventPattern{
				Source:     jsii.Strings("aws.codepipeline"),
				DetailType: jsii.Strings("CodePipeline Pipeline Execution State Change", "CodePipeline Stage Execution State Change"),
				Resources:  jsii.Strings(*p.Pipeline.PipelineArn()),
			},
			Targets: &[]awsevents.IRuleTarget{awseventstargets.NewSnsTopic(p.NotificationTopic, nil)},
		})
	}
	if g.hub {
		p.SecurityHub = awssecurityhub.NewCfnHub(p, jsii.String("SecurityHub"), &awssecurityhub.CfnHubProps{})
	}
}

// physicalPrefix starts the names the construct gives the trail and the alarms: unique per
// stack and construct path, so that several environments fit in one account and region, and
// known at synth, so that the key and topic policies can name exactly those resources.
func (p *Pipeline) physicalPrefix() string {
	return *awscdk.Names_UniqueResourceName(p, &awscdk.UniqueResourceNameOptions{MaxLength: jsii.Number(100), Separator: jsii.String("-")})
}

// TrailName is the name of the construct's trail (Governance.CloudTrail).
func (p *Pipeline) TrailName() string { return p.physicalPrefix() + "-Trail" }

// AlarmNamePrefix starts the name of every alarm of the construct (Governance.PipelineAlarms).
func (p *Pipeline) AlarmNamePrefix() string { return p.physicalPrefix() + "-" }

// addTrail creates the trail with the key-policy statements CloudTrail's documentation
// requires ("Configure AWS KMS key policies for CloudTrail"): encrypt (GenerateDataKey* for
// this account's trail encryption context), describe the key, and, because the trail bucket
// uses an S3 Bucket Key, decrypt; each limited to this trail by aws:SourceArn.
func (p *Pipeline) addTrail() {
	trailArn := defaults.AllowCloudTrail(p, p.Key, p.TrailName())
	bucket, bucketRef := defaults.CloudTrailBucket(p, "TrailBucket", &awss3.BucketProps{EncryptionKey: p.Key, ServerAccessLogsBucket: p.AccessLogsBucket}, trailArn)
	p.TrailLogGroup = defaults.LogGroup(p, "TrailLogs", &awslogs.LogGroupProps{EncryptionKey: p.Key})
	p.Trail = awscloudtrail.NewTrail(p, jsii.String("Trail"), &awscloudtrail.TrailProps{
		TrailName: jsii.String(p.TrailName()),
		// The trail sees the bucket through a reference, so that it adds none of its own
		// bucket-policy statements, which lack aws:SourceArn: CloudTrailBucket writes them.
		Bucket:                     bucketRef,
		EncryptionKey:              p.Key,
		EnableFileValidation:       jsii.Bool(true),
		IsMultiRegionTrail:         jsii.Bool(true),
		IncludeGlobalServiceEvents: jsii.Bool(true),
		SendToCloudWatchLogs:       jsii.Bool(true),
		CloudWatchLogGroup:         p.TrailLogGroup,
		ManagementEvents:           awscloudtrail.ReadWriteType_ALL,
	})
	// The key and bucket policies are written before the trail is created, so that CloudTrail
	// finds them.
	p.Trail.Node().AddDependency(bucket.Policy())
	if key, ok := p.Key.(awskms.Key); ok {
		p.Trail.Node().AddDependency(key)
	}
	generated := "CloudTrail's generated log-delivery role gets its one grant (write to the trail's log group) as CDK's inline default policy"
	nag.SuppressTree(p.Trail,
		nag.Rule{ID: "NIST.800.53.R5-IAMNoInlinePolicy", Reason: generated},
		nag.Rule{ID: "HIPAA.Security-IAMNoInlinePolicy", Reason: generated},
	)
}

// addAlarms creates the tampering alarms and what CloudWatch needs to notify through the
// KMS-encrypted topic: a topic-policy statement for cloudwatch.amazonaws.com, limited to these
// alarms (aws:SourceArn) of this account, and the key-policy statement for its data keys that
// Amazon SNS documents for AWS event sources ("Enable compatibility between event sources from
// AWS services and encrypted topics"). That statement has no condition: AWS documents no
// condition key that reaches KMS on this path, and one that does not would drop every alarm.
func (p *Pipeline) addAlarms() {
	stack := awscdk.Stack_Of(p)
	alarmArns := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"), ResourceName: jsii.String(p.AlarmNamePrefix() + "*"),
		ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	theseAlarms := &map[string]any{
		"ArnLike":      map[string]any{"aws:SourceArn": alarmArns},
		"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
	}
	cloudwatch := &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)}
	p.NotificationTopic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("AllowPipelineAlarmsToPublish"), Principals: cloudwatch,
		Actions: jsii.Strings("sns:Publish"), Resources: jsii.Strings(*p.NotificationTopic.TopicArn()),
		Conditions: theseAlarms,
	}))
	p.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("AllowPipelineAlarmsToEncryptedTopic"), Principals: cloudwatch,
		Actions: jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"), Resources: jsii.Strings("*"),
	}), jsii.Bool(true))
	for _, w := range watchedEvents {
		pattern := `{ ($.eventSource = "` + w.source + `") && (($.eventName = "` + w.events[0] + `") || ($.eventName = "` + w.events[1] + `")) }`
		filter := awslogs.NewMetricFilter(p, jsii.String(w.id+"Filter"), &awslogs.MetricFilterProps{
			LogGroup:        p.TrailLogGroup,
			FilterPattern:   awslogs.FilterPattern_Literal(jsii.String(pattern)),
			MetricNamespace: jsii.String(AlarmNamespace),
			// Per construct: every environment's trail sees every environment's changes, and
			// one shared metric would count each change once per trail.
			MetricName:  jsii.String(p.physicalPrefix() + "-" + w.id),
			MetricValue: jsii.String("1"),
		})
		alarm := awscloudwatch.NewAlarm(p, jsii.String(w.id+"Alarm"), &awscloudwatch.AlarmProps{
			AlarmName:          jsii.String(p.AlarmNamePrefix() + w.id),
			AlarmDescription:   jsii.String(w.events[0] + " or " + w.events[1] + " was called: review the change to the DevSecOps pipeline"),
			Metric:             filter.Metric(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(5))}),
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
			ActionsEnabled:     jsii.Bool(true),
		})
		alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(p.NotificationTopic))
		p.Alarms = append(p.Alarms, alarm)
	}
}

// addRecorder creates the account's AWS Config recorder and its delivery channel, writing to a
// bucket of its own (KMS, versioned, access-logged) from this account only.
//
// AWS Config delivers to a bucket of its own account as the recorder's IAM role ("Permissions
// for the Amazon S3 Bucket": "it assumes the IAM role that you assigned"), and as the service
// principal only to another account's bucket or with the service-linked role. So the role gets
// the S3 and KMS statements of "Permissions for the IAM Role Assigned to AWS Config", and the
// bucket and key keep the service-principal statements for the other cases.
func (p *Pipeline) addRecorder() {
	stack := awscdk.Stack_Of(p)
	service := awsiam.NewServicePrincipal(jsii.String("config.amazonaws.com"), nil)
	sameAccount := map[string]any{"aws:SourceAccount": stack.Account()}
	deliveryPrefix := "AWSLogs/" + *stack.Account() + "/Config/*"
	bucket := defaults.Bucket(p, "ConfigBucket", &awss3.BucketProps{EncryptionKey: p.Key, ServerAccessLogsBucket: p.AccessLogsBucket})
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("AWSConfigBucketCheck"), Principals: &[]awsiam.IPrincipal{service},
		Actions: jsii.Strings("s3:GetBucketAcl", "s3:ListBucket"), Resources: jsii.Strings(*bucket.BucketArn()),
		Conditions: &map[string]any{"StringEquals": sameAccount},
	}))
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("AWSConfigBucketDelivery"), Principals: &[]awsiam.IPrincipal{service},
		Actions:   jsii.Strings("s3:PutObject"),
		Resources: jsii.Strings(*bucket.ArnForObjects(jsii.String(deliveryPrefix))),
		Conditions: &map[string]any{"StringEquals": map[string]any{
			"aws:SourceAccount": stack.Account(), "s3:x-amz-acl": "bucket-owner-full-control",
		}},
	}))
	p.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("AllowConfigDelivery"), Principals: &[]awsiam.IPrincipal{service},
		Actions: jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"), Resources: jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": sameAccount},
	}), jsii.Bool(true))
	role := awsiam.NewRole(p, jsii.String("ConfigRecorderRole"), &awsiam.RoleProps{
		AssumedBy:       awsiam.NewServicePrincipal(jsii.String("config.amazonaws.com"), &awsiam.ServicePrincipalOpts{Conditions: &map[string]any{"StringEquals": sameAccount}}),
		Description:     jsii.String("AWS Config recorder"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AWS_ConfigRole"))},
	})
	nag.Suppress(role, nag.Rule{ID: "AwsSolutions-IAM4",
		Reason:    "AWS_ConfigRole is the policy AWS maintains so that the recorder can read the configuration of every resource type it supports",
		AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWS_ConfigRole"}})
	delivery := awsiam.NewManagedPolicy(p, jsii.String("ConfigDeliveryPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("AWS Config delivers configuration history and snapshots to its bucket"),
		Roles:       &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("ConfigBucketDelivery"), Actions: jsii.Strings("s3:PutObject", "s3:PutObjectAcl"),
				Resources:  jsii.Strings(*bucket.ArnForObjects(jsii.String(deliveryPrefix))),
				Conditions: &map[string]any{"StringLike": map[string]any{"s3:x-amz-acl": "bucket-owner-full-control"}},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("ConfigBucketCheck"), Actions: jsii.Strings("s3:GetBucketAcl"), Resources: jsii.Strings(*bucket.BucketArn()),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("ConfigDeliveryKey"), Actions: jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"), Resources: jsii.Strings(*p.Key.KeyArn()),
			}),
		},
	})
	account := "<AWS::AccountId>" // as cdk-nag prints it in an environment-agnostic stack
	if !*awscdk.Token_IsUnresolved(stack.Account()) {
		account = *stack.Account()
	}
	nag.Suppress(delivery, nag.Rule{ID: "AwsSolutions-IAM5",
		Reason:    "AWS Config names each delivered object itself, under the AWSLogs/<account>/Config/ prefix AWS documents for it",
		AppliesTo: []string{"Resource::<" + logicalID(bucket) + ".Arn>/AWSLogs/" + account + "/Config/*"}})
	recorder := awsconfig.NewCfnConfigurationRecorder(p, jsii.String("ConfigRecorder"), &awsconfig.CfnConfigurationRecorderProps{
		RoleArn: role.RoleArn(),
		RecordingGroup: &awsconfig.CfnConfigurationRecorder_RecordingGroupProperty{
			AllSupported: jsii.Bool(true), IncludeGlobalResourceTypes: jsii.Bool(true),
		},
	})
	channel := awsconfig.NewCfnDeliveryChannel(p, jsii.String("ConfigDeliveryChannel"), &awsconfig.CfnDeliveryChannelProps{
		S3BucketName: bucket.BucketName(), S3KmsKeyArn: p.Key.KeyArn(),
	})
	// AWS Config checks that the role may write when the channel is created.
	channel.Node().AddDependency(recorder, delivery)
	p.recorder = channel
}
