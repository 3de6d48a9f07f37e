package appstreamsandbox

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/nag"
)

// The validator's environment variables (read by lambda-src/appstream-session-validator).
const (
	EnvHomeBucket      = "HOME_FOLDER_BUCKET"
	EnvBucketOwner     = "HOME_FOLDER_BUCKET_OWNER"
	EnvStackName       = "APPSTREAM_STACK_NAME"
	EnvFleetName       = "APPSTREAM_FLEET_NAME"
	EnvNotebookName    = "NOTEBOOK_INSTANCE_NAME"
	EnvSessionExpiry   = "SESSION_EXPIRY_SECONDS"
	EnvMetricNamespace = "METRIC_NAMESPACE"
)

// The validator's security metrics and their dimension (the AppStream stack name).
const (
	MetricSpoofAttempts   = "SpoofAttempts"
	MetricInvalidSessions = "InvalidSessions"
	MetricDimension       = "AppStreamStack"
)

// SessionKeyPrefix starts every home-folder key that triggers the validator:
// user/<type>/<hash>/<AppStream stack>/session.json.
const SessionKeyPrefix = "user/"

// SessionKeySuffix ends the home-folder keys that trigger the validator of the AppStream stack
// named appStreamStack: "/<appStreamStack>/session.json". Every sandbox of an account and region
// shares AppStream's one home-folder bucket, and S3 refuses a notification whose prefix and
// suffix both overlap another's for the same event; the session script writes into a folder
// named after its stack, so each sandbox's suffix is its own (AppStream stack names hold no
// "/", so no suffix ends another).
func SessionKeySuffix(appStreamStack string) string { return "/" + appStreamStack + "/session.json" }

func (s *Sandbox) validator(r resolved, props *SandboxProps) {
	stack := awscdk.Stack_Of(s)
	account := stack.Account()
	homeBucket := s.HomeFolderBucketName()
	homeBucketArn := jsii.String("arn:" + *stack.Partition() + ":s3:::" + *homeBucket)
	onlyThisAccount := &map[string]any{"StringEquals": map[string]any{"s3:ResourceAccount": account}}
	sessionFiles := *homeBucketArn + "/" + SessionKeyPrefix + "*" + SessionKeySuffix(*s.AppStreamStackName)
	answers := *homeBucketArn + "/" + SessionKeyPrefix + "*/" + *s.AppStreamStackName + "/session_url.txt"

	s.ValidatorSecurityGroup = s.egressOnlyGroup("ValidatorSecurityGroup", "AppStream session validator")

	dlqKey := defaults.Key(s, "ValidatorDeadLetterKey", &awskms.KeyProps{Description: jsii.String("Encrypts the session validator's dead-letter queue")})
	s.ValidatorDeadLetterQueue = awssqs.NewQueue(s, jsii.String("ValidatorDeadLetterQueue"), &awssqs.QueueProps{
		Encryption:          awssqs.QueueEncryption_KMS,
		EncryptionMasterKey: dlqKey,
		EnforceSSL:          jsii.Bool(true),
		RetentionPeriod:     awscdk.Duration_Days(jsii.Number(14)),
		// Declares the queue a dead-letter queue (of the validator function, which is no queue).
		RedriveAllowPolicy: &awssqs.RedriveAllowPolicy{RedrivePermission: awssqs.RedrivePermission_ALLOW_ALL},
	})
	const isDLQ = "This queue is the session validator's dead-letter queue; a queue behind it would only move the question"
	nag.Suppress(s.ValidatorDeadLetterQueue, nag.Rule{ID: "AwsSolutions-SQS3", Reason: isDLQ})

	logGroup := defaults.LogGroup(s, "ValidatorLogGroup", &awslogs.LogGroupProps{EncryptionKey: s.LogsKey})
	s.ValidatorRole = awsiam.NewRole(s, jsii.String("ValidatorRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("AppStream sandbox session validator"),
	})
	s.ValidatorPolicy = awsiam.NewManagedPolicy(s, jsii.String("ValidatorPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Validate AppStream sessions and hand out presigned notebook URLs"),
		Roles:       &[]awsiam.IRole{s.ValidatorRole},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("Logs"),
				Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
				Resources: jsii.Strings(*logGroup.LogGroupArn()),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("ReadSessionFiles"),
				Actions:    jsii.Strings("s3:GetObject"),
				Resources:  jsii.Strings(sessionFiles),
				Conditions: onlyThisAccount,
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("WriteAnswers"),
				Actions:    jsii.Strings("s3:PutObject"),
				Resources:  jsii.Strings(answers),
				Conditions: onlyThisAccount,
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("DescribeThisStacksSessions"),
				Actions:   jsii.Strings("appstream:DescribeSessions"),
				Resources: jsii.Strings(*s.arn("appstream", "stack", *s.AppStreamStackName), *s.arn("appstream", "fleet", *s.FleetName)),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				// SageMaker evaluates this policy again for every request made with the URL, so
				// the URL works only through the sandbox's own endpoints: a leaked URL is
				// useless outside the sandbox.
				Sid:       jsii.String("PresignThisNotebookInsideTheSandbox"),
				Actions:   jsii.Strings("sagemaker:CreatePresignedNotebookInstanceUrl"),
				Resources: jsii.Strings(*s.arn("sagemaker", "notebook-instance", lower(*s.NotebookName))),
				Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceVpce": []*string{
					s.InterfaceEndpoints["sagemaker-api"].VpcEndpointId(),
					s.InterfaceEndpoints["sagemaker-notebook"].VpcEndpointId(),
				}}},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("DeadLetters"),
				Actions:   jsii.Strings("sqs:SendMessage"),
				Resources: jsii.Strings(*s.ValidatorDeadLetterQueue.QueueArn()),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("DeadLetterKey"),
				Actions:   jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
				Resources: jsii.Strings(*dlqKey.KeyArn()),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("VpcNetworkInterfaces"),
				// AWS's own set for Lambda in a VPC: AWSLambdaVPCAccessExecutionRole v3
				// (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html).
				Actions: jsii.Strings("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
					"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"),
				Resources: jsii.Strings("*"),
			}),
		},
	})
	nag.Suppress(s.ValidatorPolicy, nag.Rule{
		ID: "AwsSolutions-IAM5",
		Reason: "Lambda's VPC networking needs the ENI actions on * (the interfaces do not exist before Lambda creates them); " +
			"the session files are read and answered in any user's home folder, whose names are SHA-256 hashes known only at run time",
		AppliesTo: []string{
			"Resource::*",
			"Resource::" + nagString(jsii.String(sessionFiles)),
			"Resource::" + nagString(jsii.String(answers)),
		},
	})

	s.Validator = gofunction.NewGoFunction(s, "Validator", &gofunction.GoFunctionProps{
		Entry: jsii.String(ValidatorEntry),
		FunctionProps: &awslambda.FunctionProps{
			Description:     jsii.String("AppStream sandbox session validator: presigned notebook URL for confirmed sessions only"),
			Role:            s.ValidatorRole.WithoutPolicyUpdates(nil),
			LogGroup:        logGroup,
			Timeout:         awscdk.Duration_Seconds(jsii.Number(60)),
			MemorySize:      jsii.Number(256),
			Vpc:             s.Vpc,
			VpcSubnets:      &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
			SecurityGroups:  &[]awsec2.ISecurityGroup{s.ValidatorSecurityGroup},
			DeadLetterQueue: s.ValidatorDeadLetterQueue,
			// Traces would need an X-Ray endpoint in the VPC and a grant on "*".
			Tracing: awslambda.Tracing_DISABLED,
			Environment: &map[string]*string{
				EnvHomeBucket:      homeBucket,
				EnvBucketOwner:     account,
				EnvStackName:       s.AppStreamStackName,
				EnvFleetName:       s.FleetName,
				EnvNotebookName:    s.NotebookName,
				EnvSessionExpiry:   jsii.String(fmt.Sprint(r.sessionSeconds)),
				EnvMetricNamespace: jsii.String(r.namespace),
			},
		},
	})
	s.Validator.Node().AddDependency(s.ValidatorPolicy)
	const concurrency = "The validator runs once per session start; reserving concurrency would take it from the account pool, which new accounts cannot spare"
	nag.Suppress(s.Validator,
		nag.Rule{ID: "NIST.800.53.R5-LambdaConcurrency", Reason: concurrency},
		nag.Rule{ID: "HIPAA.Security-LambdaConcurrency", Reason: concurrency},
	)

	s.HomeFolderPermission = awslambda.NewCfnPermission(s, jsii.String("HomeFolderPermission"), &awslambda.CfnPermissionProps{
		Action:        jsii.String("lambda:InvokeFunction"),
		FunctionName:  s.Validator.FunctionArn(),
		Principal:     jsii.String("s3.amazonaws.com"),
		SourceAccount: account,
		SourceArn:     homeBucketArn,
	})

	s.HomeFolderNotification = s.customResource(customResourceSpec{
		id: "HomeFolderNotification", entry: HomeFolderNotifierEntry, resourceType: HomeFolderResourceType,
		description: "Merges the session validator's notification into the AppStream home-folder bucket",
		timeout:     awscdk.Duration_Minutes(jsii.Number(12)),
		statements: []awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("HomeFolderBucketNotifications"),
			Actions:    jsii.Strings("s3:GetBucketNotification", "s3:PutBucketNotification"),
			Resources:  jsii.Strings(*homeBucketArn),
			Conditions: onlyThisAccount,
		})},
		properties: map[string]any{
			"BucketName":        homeBucket,
			"BucketOwner":       account,
			"FunctionArn":       s.Validator.FunctionArn(),
			"Prefix":            SessionKeyPrefix,
			"Suffix":            SessionKeySuffix(*s.AppStreamStackName),
			"BucketWaitSeconds": "600",
		},
		vpcReason: "Runs only during deploys and calls only the S3 API; outside the VPC its ENIs cannot delay deleting the VPC",
	})
	// AppStream creates the bucket when the stack enables home folders; S3 checks the
	// permission when the notification is written.
	s.HomeFolderNotification.Resource.Node().AddDependency(s.Stack, s.HomeFolderPermission)

	s.alarms(r, props)
}

// AlarmNamePrefix starts the names of the sandbox's alarms, "<AppStream stack name>-": unique
// per account and region, so that the alarm topic and its key can name exactly these alarms.
func (s *Sandbox) AlarmNamePrefix() string { return *s.AppStreamStackName + "-" }

// alarms creates the two security alarms and, on the topic the construct creates, what
// CloudWatch needs to notify through it: a topic-policy statement for cloudwatch.amazonaws.com
// (the topic policy that enforces TLS replaces SNS's default policy), limited to these alarms
// (aws:SourceArn) of this account, and a key-policy statement for its data keys.
func (s *Sandbox) alarms(r resolved, props *SandboxProps) {
	stack := awscdk.Stack_Of(s)
	theseAlarms := &map[string]any{
		"ArnLike": map[string]any{"aws:SourceArn": stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"), ResourceName: jsii.String(s.AlarmNamePrefix() + "*"),
			ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})},
		"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
	}
	cloudwatch := &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)}
	if props != nil && props.AlarmTopic != nil {
		s.AlarmTopic = props.AlarmTopic
	} else {
		key := defaults.Key(s, "AlarmTopicKey", &awskms.KeyProps{Description: jsii.String("Encrypts the AppStream sandbox's security alarm topic")})
		// The statement Amazon SNS documents for AWS event sources, without condition: AWS
		// documents none that reaches KMS on this path, and one that does not would drop
		// every alarm. The topic policy below limits who may publish.
		key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("CloudWatchAlarmsPublish"),
			Principals: cloudwatch,
			Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
			Resources:  jsii.Strings("*"),
		}), jsii.Bool(true))
		topic := awssns.NewTopic(s, jsii.String("AlarmTopic"), &awssns.TopicProps{
			DisplayName: jsii.String("AppStream sandbox security alarms"),
			MasterKey:   key,
			EnforceSSL:  jsii.Bool(true),
		})
		topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("CloudWatchAlarmsPublish"),
			Principals: cloudwatch,
			Actions:    jsii.Strings("sns:Publish"),
			Resources:  jsii.Strings(*topic.TopicArn()),
			Conditions: theseAlarms,
		}))
		s.AlarmTopic = topic
	}
	alarm := func(id, metric, what string) awscloudwatch.Alarm {
		a := awscloudwatch.NewAlarm(s, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmName:        jsii.String(s.AlarmNamePrefix() + metric),
			AlarmDescription: jsii.String(what + " on AppStream stack " + *s.AppStreamStackName + "; see the validator's session_denied log events"),
			Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace:     jsii.String(r.namespace),
				MetricName:    jsii.String(metric),
				DimensionsMap: &map[string]*string{MetricDimension: s.AppStreamStackName},
				Statistic:     jsii.String("Sum"),
				Period:        awscdk.Duration_Minutes(jsii.Number(5)),
			}),
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(awscloudwatchactions.NewSnsAction(s.AlarmTopic))
		return a
	}
	s.SpoofAttemptsAlarm = alarm("SpoofAttemptsAlarm", MetricSpoofAttempts, "A session claimed another user, session, stack or fleet")
	s.InvalidSessionsAlarm = alarm("InvalidSessionsAlarm", MetricInvalidSessions, "A session could not be validated")
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// nagString renders a string that may hold pseudo-parameter tokens the way cdk-nag writes it
// in AppliesTo findings: AWS::Partition as <AWS::Partition>, and so on. A stack with a pinned
// environment has literal values instead, which stay as they are.
func nagString(s *string) string {
	out := *s
	for token, name := range map[*string]string{
		awscdk.Aws_PARTITION(): "<AWS::Partition>", awscdk.Aws_REGION(): "<AWS::Region>",
		awscdk.Aws_ACCOUNT_ID(): "<AWS::AccountId>", awscdk.Aws_URL_SUFFIX(): "<AWS::URLSuffix>",
	} {
		out = strings.ReplaceAll(out, *token, name)
	}
	return out
}
