package devsecops

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogsdestinations"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/nag"
)

// IngestHandlerEntry is the Go import path of the findings ingestion Lambda, built by
// GoFunction in the app's module.
const IngestHandlerEntry = "github.com/securestacks/securestacks/lambda-src/asff-ingest"

// IngestConcurrency is the reserved concurrency the seed gave the ingestion function, a good
// value for PipelineProps.IngestReservedConcurrency: scans of one pipeline run at most a few at
// a time, and Security Hub accepts 10 BatchImportFindings calls per second.
const IngestConcurrency = 5

// newIngestFunction defines the asff-ingest Lambda with a role that can do exactly its job:
// write raw envelopes (reports/) and state (state/), read reports sent by reference (scans/)
// and state, use the pipeline key for those objects, and import findings into this account's
// default Security Hub product.
func (p *Pipeline) newIngestFunction() {
	stack := awscdk.Stack_Of(p)
	logGroup := defaults.LogGroup(p, "IngestFunctionLogs", &awslogs.LogGroupProps{EncryptionKey: p.Key})
	bucket := p.ArtifactBucket
	productArn := defaultProductArn(stack)
	p.IngestRole = awsiam.NewRole(p, jsii.String("IngestRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("asff-ingest: stores scan reports and imports their findings into Security Hub"),
	})
	policy := awsiam.NewManagedPolicy(p, jsii.String("IngestPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("asff-ingest Lambda: reports bucket prefixes, pipeline key, Security Hub import"),
		Roles:       &[]awsiam.IRole{p.IngestRole},
		Statements: &[]awsiam.PolicyStatement{
			statement("StoreRawReportsAndState", []*string{bucket.ArnForObjects(jsii.String("reports/*")), bucket.ArnForObjects(jsii.String("state/*"))}, nil, "s3:PutObject"),
			statement("ReadReportsByReferenceAndState", []*string{bucket.ArnForObjects(jsii.String("scans/*")), bucket.ArnForObjects(jsii.String("state/*"))}, nil, "s3:GetObject"),
			// ListBucket makes a missing state object a 404 (first scan) instead of a 403.
			statement("ListState", []*string{bucket.BucketArn()}, map[string]any{"StringLike": map[string]any{"s3:prefix": "state/*"}}, "s3:ListBucket"),
			statement("UseThePipelineKey", []*string{p.Key.KeyArn()}, nil, "kms:GenerateDataKey", "kms:Decrypt"),
			statement("ImportFindings", []*string{productArn}, nil, "securityhub:BatchImportFindings"),
			statement("Logs", []*string{logGroup.LogGroupArn()}, nil, "logs:CreateLogStream", "logs:PutLogEvents"),
			// X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions.
			statement("Traces", []*string{jsii.String("*")}, nil, "xray:PutTraceSegments", "xray:PutTelemetryRecords"),
		},
	})
	nag.Suppress(policy, nag.Rule{ID: "AwsSolutions-IAM5",
		Reason: "The function writes only under reports/ and state/ and reads only under scans/ and state/ of the artifact bucket (object prefixes end in /*); X-Ray tracing supports no resource-level permissions",
		AppliesTo: []string{
			"Resource::<" + p.bucketLogicalID() + ".Arn>/reports/*", "Resource::<" + p.bucketLogicalID() + ".Arn>/state/*",
			"Resource::<" + p.bucketLogicalID() + ".Arn>/scans/*", "Resource::*",
		}})

	p.IngestFunction = gofunction.NewGoFunction(p, "IngestFunction", &gofunction.GoFunctionProps{
		Entry: jsii.String(IngestHandlerEntry),
		FunctionProps: &awslambda.FunctionProps{
			Description:                  jsii.String("Stores scan reports and imports their findings into Security Hub as ASFF, 100 per call"),
			MemorySize:                   jsii.Number(1024),
			Timeout:                      awscdk.Duration_Minutes(jsii.Number(5)),
			ReservedConcurrentExecutions: p.props.IngestReservedConcurrency,
			LogGroup:                     logGroup,
			Role:                         p.IngestRole.WithoutPolicyUpdates(nil),
			Environment:                  p.ingestEnvironment(),
		},
	})
	p.IngestFunction.Node().AddDependency(policy)
	p.suppressIngestFunction(p.IngestFunction)
	const sync = "Scan builds invoke the ingestion function synchronously and read its answer"
	nag.Suppress(p.IngestFunction,
		nag.Rule{ID: "NIST.800.53.R5-LambdaDLQ", Reason: sync + "; a dead-letter queue applies to asynchronous invocations only"},
		nag.Rule{ID: "HIPAA.Security-LambdaDLQ", Reason: sync + "; a dead-letter queue applies to asynchronous invocations only"},
	)
}

// suppressIngestFunction records the choices every ingestion function shares: no VPC, and
// reserved concurrency only where IngestReservedConcurrency asks for it.
func (p *Pipeline) suppressIngestFunction(fn *gofunction.GoFunction) {
	const noVPC = "The function calls only the S3 and Security Hub public APIs and reaches no VPC resource; a VPC would add endpoints or NAT and no isolation"
	if p.props.IngestReservedConcurrency == nil {
		const shared = "Reserved concurrency is opt-in (IngestReservedConcurrency): Lambda refuses a reservation that leaves the account under 100 unreserved executions, which fails the deploy in new accounts"
		nag.Suppress(fn,
			nag.Rule{ID: "NIST.800.53.R5-LambdaConcurrency", Reason: shared},
			nag.Rule{ID: "HIPAA.Security-LambdaConcurrency", Reason: shared},
		)
	}
	nag.Suppress(fn,
		nag.Rule{ID: "NIST.800.53.R5-LambdaInsideVPC", Reason: noVPC},
		nag.Rule{ID: "HIPAA.Security-LambdaInsideVPC", Reason: noVPC},
	)
}

// ingestEnvironment is the environment of every ingestion function (lambda-src/internal/
// reportstore.EnvFromOS).
func (p *Pipeline) ingestEnvironment() *map[string]*string {
	return &map[string]*string{
		"REPORT_BUCKET":  p.ArtifactBucket.BucketName(),
		"REPORT_KEY_ARN": p.Key.KeyArn(),
		"PARTITION":      awscdk.Aws_PARTITION(),
		"ACCOUNT_ID":     awscdk.Aws_ACCOUNT_ID(),
		"URL_SUFFIX":     awscdk.Aws_URL_SUFFIX(),
	}
}

// defaultProductArn is the account's default Security Hub product, the one BatchImportFindings
// accepts from the account itself.
func defaultProductArn(stack awscdk.Stack) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("securityhub"), Resource: jsii.String("product"),
		ResourceName: jsii.String(*stack.Account() + "/default"),
	})
}

func statement(sid string, resources []*string, conditions map[string]any, actions ...string) awsiam.PolicyStatement {
	ps := &awsiam.PolicyStatementProps{Sid: jsii.String(sid), Actions: jsii.Strings(actions...), Resources: &resources}
	if conditions != nil {
		ps.Conditions = &conditions
	}
	return awsiam.NewPolicyStatement(ps)
}

// RuntimeHandlerEntry is the Go import path of the Falco runtime findings Lambda.
const RuntimeHandlerEntry = "github.com/securestacks/securestacks/lambda-src/falco-ingest"

// RuntimePrefix is where the runtime function stores the raw events it receives.
const RuntimePrefix = "runtime/"

// newRuntimeFunction subscribes the falco-ingest Lambda to RuntimeFindings.LogGroup. Its role
// can store raw events under runtime/ with the pipeline key, import into this account's
// default Security Hub product, and write its own logs; nothing else.
func (p *Pipeline) newRuntimeFunction() {
	rf := p.props.RuntimeFindings
	if rf == nil {
		return
	}
	stack := awscdk.Stack_Of(p)
	logGroup := defaults.LogGroup(p, "RuntimeFunctionLogs", &awslogs.LogGroupProps{EncryptionKey: p.Key})
	p.RuntimeRole = awsiam.NewRole(p, jsii.String("RuntimeRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("falco-ingest: stores Falco events and imports them into Security Hub"),
	})
	policy := awsiam.NewManagedPolicy(p, jsii.String("RuntimePolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("falco-ingest Lambda: runtime/ prefix of the reports bucket, pipeline key, Security Hub import"),
		Roles:       &[]awsiam.IRole{p.RuntimeRole},
		Statements: &[]awsiam.PolicyStatement{
			statement("StoreRawEvents", []*string{p.ArtifactBucket.ArnForObjects(jsii.String(RuntimePrefix + "*"))}, nil, "s3:PutObject"),
			statement("EncryptWithThePipelineKey", []*string{p.Key.KeyArn()}, nil, "kms:GenerateDataKey"),
			statement("ImportFindings", []*string{defaultProductArn(stack)}, nil, "securityhub:BatchImportFindings"),
			statement("Logs", []*string{logGroup.LogGroupArn()}, nil, "logs:CreateLogStream", "logs:PutLogEvents"),
			// X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions.
			statement("Traces", []*string{jsii.String("*")}, nil, "xray:PutTraceSegments", "xray:PutTelemetryRecords"),
		},
	})
	nag.Suppress(policy, nag.Rule{ID: "AwsSolutions-IAM5",
		Reason:    "The function writes only objects under runtime/ of the artifact bucket (an object prefix ends in /*); X-Ray tracing supports no resource-level permissions",
		AppliesTo: []string{"Resource::<" + p.bucketLogicalID() + ".Arn>/runtime/*", "Resource::*"}})
	p.RuntimeFunction = gofunction.NewGoFunction(p, "RuntimeFunction", &gofunction.GoFunctionProps{
		Entry: jsii.String(RuntimeHandlerEntry),
		FunctionProps: &awslambda.FunctionProps{
			Description:                  jsii.String("Imports Falco runtime events from CloudWatch Logs into Security Hub as ASFF, 100 per call"),
			MemorySize:                   jsii.Number(512),
			Timeout:                      awscdk.Duration_Minutes(jsii.Number(2)),
			ReservedConcurrentExecutions: p.props.IngestReservedConcurrency,
			LogGroup:                     logGroup,
			Role:                         p.RuntimeRole.WithoutPolicyUpdates(nil),
			Environment:                  p.ingestEnvironment(),
		},
	})
	p.RuntimeFunction.Node().AddDependency(policy)
	p.suppressIngestFunction(p.RuntimeFunction)
	const async = "CloudWatch Logs invokes the function asynchronously and the function stores every delivery in the artifact bucket (runtime/) before parsing it; Lambda retries a failed invocation twice, and a delivery that still fails is kept there to be re-driven, so a dead-letter queue would hold a second copy"
	nag.Suppress(p.RuntimeFunction,
		nag.Rule{ID: "NIST.800.53.R5-LambdaDLQ", Reason: async},
		nag.Rule{ID: "HIPAA.Security-LambdaDLQ", Reason: async},
	)
	p.RuntimeSubscription = awslogs.NewSubscriptionFilter(p, jsii.String("RuntimeSubscription"), &awslogs.SubscriptionFilterProps{
		LogGroup:      rf.LogGroup,
		Destination:   awslogsdestinations.NewLambdaDestination(p.RuntimeFunction, nil),
		FilterPattern: awslogs.FilterPattern_AllEvents(),
	})
}
