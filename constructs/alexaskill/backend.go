package alexaskill

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/nag"
)

// checkBackendProps rejects endpoint props that contradict each other or take over what the
// construct must own.
func checkBackendProps(props *SkillProps) {
	switch {
	case props.Endpoint != nil && props.BackendEntry != nil:
		panic("alexaskill: Endpoint and BackendEntry are both set: expected at most one endpoint")
	case props.BackendFunctionProps != nil && props.BackendEntry == nil:
		panic("alexaskill: BackendFunctionProps is set without BackendEntry: expected BackendEntry to name the handler")
	case props.BackendFunctionProps == nil:
		return
	case props.BackendFunctionProps.Role != nil:
		panic("alexaskill: BackendFunctionProps.Role must be nil: the construct gives the backend a least-privilege role (add statements to Skill.BackendPolicy)")
	//lint:ignore SA1019 the deprecated field must still be rejected when a caller sets it
	case props.BackendFunctionProps.LogGroup != nil || props.BackendFunctionProps.LogRetention != "":
		panic("alexaskill: BackendFunctionProps.LogGroup and LogRetention must be unset: the construct creates the backend's encrypted log group")
	}
}

// newBackend builds BackendEntry: our defaults, then BackendFunctionProps, then what the
// construct requires (role, log group, the skill-id parameter variable).
func (s *Skill) newBackend(props *SkillProps, logsKey awskms.IKey) {
	fp := awslambda.FunctionProps{}
	if props.BackendFunctionProps != nil {
		fp = *props.BackendFunctionProps
	}
	if fp.Timeout == nil {
		fp.Timeout = awscdk.Duration_Seconds(jsii.Number(DefaultBackendTimeout))
	}
	if fp.MemorySize == nil {
		fp.MemorySize = jsii.Number(128)
	}
	if fp.Description == nil {
		fp.Description = jsii.String("Alexa skill backend")
	}
	env := map[string]*string{}
	if fp.Environment != nil {
		for k, v := range *fp.Environment {
			env[k] = v
		}
	}
	env[SkillIdParameterEnv] = s.SkillIdParameterName
	fp.Environment = &env

	logGroup := defaults.LogGroup(s, "BackendLogGroup", &awslogs.LogGroupProps{EncryptionKey: logsKey})
	s.BackendRole = awsiam.NewRole(s, jsii.String("BackendRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Alexa skill backend"),
	})
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("Logs"),
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources: jsii.Strings(*logGroup.LogGroupArn()),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadSkillId"),
			Actions:   jsii.Strings("ssm:GetParameter"),
			Resources: jsii.Strings(*s.SkillIdParameterArn),
		}),
	}
	traced := fp.Tracing != awslambda.Tracing_DISABLED
	if traced {
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("Traces"),
			Actions:   jsii.Strings("xray:PutTraceSegments", "xray:PutTelemetryRecords"),
			Resources: jsii.Strings("*"),
		}))
	}
	s.BackendPolicy = awsiam.NewManagedPolicy(s, jsii.String("BackendPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Alexa skill backend: its logs, its traces and the skill-id parameter"),
		Roles:       &[]awsiam.IRole{s.BackendRole},
		Statements:  &statements,
	})
	if traced {
		nag.Suppress(s.BackendPolicy, nag.Rule{
			ID:        "AwsSolutions-IAM5",
			Reason:    "X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions, and the backend keeps GoFunction's active tracing",
			AppliesTo: []string{"Resource::*"},
		})
	}
	// The policy above is the whole of the role's permissions: nothing may add an inline
	// policy behind it, and the function waits until it is attached.
	fp.Role = s.BackendRole.WithoutPolicyUpdates(nil)
	fp.LogGroup = logGroup
	s.Backend = gofunction.NewGoFunction(s, "Backend", &gofunction.GoFunctionProps{
		Entry:         props.BackendEntry,
		FunctionProps: &fp,
	})
	s.Backend.Node().AddDependency(s.BackendPolicy)

	const concurrency = "Only this one skill may invoke the backend (scoped permission); reserving concurrency would take it from the account pool, which new accounts cannot spare"
	const syncOnly = "Alexa invokes the backend synchronously and waits for the answer; a dead-letter queue applies to asynchronous invocations only"
	const vpc = "A skill backend answers Alexa and reads one SSM parameter, both public APIs; set BackendFunctionProps.Vpc when a backend needs VPC resources"
	nag.Suppress(s.Backend, slices.Concat(
		nag.NISTAndHIPAA("LambdaConcurrency", concurrency),
		nag.NISTAndHIPAA("LambdaDLQ", syncOnly),
		nag.NISTAndHIPAA("LambdaInsideVPC", vpc),
	)...)
}
