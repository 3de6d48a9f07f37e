package devsecops

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
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
	productArn := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("securityhub"), Resource: jsii.String("product"),
		ResourceName: jsii.String(*stack.Account() + "/default"),
	})
	p.IngestRole = awsiam.NewRole(p, jsii.String("IngestRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("asff-ingest: stores scan reports and imports their findings into Security Hub"),
	})
	statement := func(sid string, resources []*string, conditions map[string]any, actions ...string) awsiam.PolicyStatement {
		ps := &awsiam.PolicyStatementProps{Sid: jsii.String(sid), Actions: jsii.Strings(actions...), Resources: &resources}
		if conditions != nil {
			ps.Conditions = &conditions
		}
		return awsiam.NewPolicyStatement(ps)
	}
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
			Environment: &map[string]*string{
				"REPORT_BUCKET":  bucket.BucketName(),
				"REPORT_KEY_ARN": p.Key.KeyArn(),
				"PARTITION":      awscdk.Aws_PARTITION(),
				"ACCOUNT_ID":     awscdk.Aws_ACCOUNT_ID(),
				"URL_SUFFIX":     awscdk.Aws_URL_SUFFIX(),
			},
		},
	})
	p.IngestFunction.Node().AddDependency(policy)
	const sync = "Scan builds invoke the ingestion function synchronously and read its answer"
	const noVPC = "The function calls only the S3 and Security Hub public APIs and reaches no VPC resource; a VPC would add endpoints or NAT and no isolation"
	if p.props.IngestReservedConcurrency == nil {
		const shared = "Reserved concurrency is opt-in (IngestReservedConcurrency): Lambda refuses a reservation that leaves the account under 100 unreserved executions, which fails the deploy in new accounts"
		nag.Suppress(p.IngestFunction,
			nag.Rule{ID: "NIST.800.53.R5-LambdaConcurrency", Reason: shared},
			nag.Rule{ID: "HIPAA.Security-LambdaConcurrency", Reason: shared},
		)
	}
	nag.Suppress(p.IngestFunction,
		nag.Rule{ID: "NIST.800.53.R5-LambdaDLQ", Reason: sync + "; a dead-letter queue applies to asynchronous invocations only"},
		nag.Rule{ID: "HIPAA.Security-LambdaDLQ", Reason: sync + "; a dead-letter queue applies to asynchronous invocations only"},
		nag.Rule{ID: "NIST.800.53.R5-LambdaInsideVPC", Reason: noVPC},
		nag.Rule{ID: "HIPAA.Security-LambdaInsideVPC", Reason: noVPC},
	)
}
