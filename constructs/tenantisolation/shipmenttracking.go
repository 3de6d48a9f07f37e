package tenantisolation

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsopensearchservice"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/nag"
)

// ShipmentTrackingHandlerEntry is the Go import path of the sample handler.
const ShipmentTrackingHandlerEntry = "github.com/securestacks/securestacks/lambda-src/tenant-shipment-tracking"

// TenantAttribute is the Cognito custom attribute that names a user's
// tenant; its claim in the ID token is "custom:" + TenantAttribute.
const TenantAttribute = "tenant_id"

// The sample's routes (HTTP API route keys the handler serves).
const (
	ShipmentRoute = "/tenants/{tenantId}/shipments/{shipmentId}"
	DocumentRoute = ShipmentRoute + "/document"
)

// ShipmentTrackingProps configures ShipmentTracking. Nil means all defaults.
type ShipmentTrackingProps struct {
	// Tenants are onboarded with a tenant KMS key each (NewTenantKey). Each
	// must have the TenantIDPattern format. Default none: a tenant key costs
	// a monthly fee.
	Tenants []string
	// ExistingOpenSearchDomain, when set, gets GrantOpenSearchIndex (an index
	// per tenant). Default nil: no OpenSearch access (a domain is a fixed
	// monthly cost; see the package example for one set up for it).
	ExistingOpenSearchDomain awsopensearchservice.IDomain
	// GoFunctionProps override the handler's defaults (GoFunction's). Entry,
	// Role and LogGroup are forced.
	GoFunctionProps *gofunction.GoFunctionProps
}

// ShipmentTracking is the seed post's sample: a tracking service whose
// function (ServiceRole) reads a pooled DynamoDB table and per-tenant S3
// prefixes encrypted under tenant keys, all through the tenant's session of
// Isolation.AccessRole, behind an HTTP API whose JWT authorizer accepts the
// ID tokens of UserPool.
type ShipmentTracking struct {
	constructs.Construct
	// Table is the pooled table: partition key TenantID, sort key ShipmentID.
	Table awsdynamodb.Table
	// TableKey encrypts Table.
	TableKey awskms.Key
	// Bucket holds shipment documents under <tenant>/.
	Bucket awss3.Bucket
	// TenantKeys are the onboarded tenants' keys, by tenant ID.
	TenantKeys map[string]awskms.Key
	// ServiceRole is the function's role; its only policy is ServicePolicy.
	ServiceRole awsiam.Role
	// ServicePolicy allows the function's logs and traces and assuming
	// AccessRole with the tenant tag, nothing else: no data access.
	ServicePolicy awsiam.ManagedPolicy
	// Isolation is the access role and its grants.
	Isolation *TenantIsolation
	// Function is the tenant-shipment-tracking handler.
	Function *gofunction.GoFunction
	// UserPool holds the users; each has the immutable tenant attribute,
	// which only an administrator sets (no self sign-up, no client writes it).
	UserPool awscognito.UserPool
	// UserPoolClient is the public client whose ID tokens the API accepts.
	UserPoolClient awscognito.UserPoolClient
	// Api is the HTTP API; every route needs a valid ID token.
	Api awsapigatewayv2.HttpApi
}

// NewShipmentTracking defines the sample at scope/id. An invalid tenant ID
// panics with a one-line message.
func NewShipmentTracking(scope constructs.Construct, id string, props *ShipmentTrackingProps) *ShipmentTracking {
	if props == nil {
		props = &ShipmentTrackingProps{}
	}
	for _, tenant := range props.Tenants {
		if err := ValidateTenantID(tenant); err != nil {
			panic("tenantisolation: ShipmentTrackingProps.Tenants: " + err.Error())
		}
	}
	s := &ShipmentTracking{TenantKeys: map[string]awskms.Key{}}
	constructs.NewConstruct_Override(s, scope, jsii.String(id))

	s.TableKey = defaults.Key(s, "TableKey", &awskms.KeyProps{Description: jsii.String("Encrypts the pooled shipments table")})
	s.Table = awsdynamodb.NewTable(s, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:  &awsdynamodb.Attribute{Name: jsii.String("TenantID"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:       &awsdynamodb.Attribute{Name: jsii.String("ShipmentID"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:   awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:    awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey: s.TableKey,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		DeletionProtection: jsii.Bool(true),
		RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
	})
	nag.Suppress(s.Table, nag.NISTAndHIPAA("DynamoDBInBackupPlan",
		"Point-in-time recovery is on and the table is retained and deletion-protected; an AWS Backup plan is an organisation-level choice")...)
	s.Bucket = defaults.Bucket(s, "Documents", nil)
	for _, tenant := range props.Tenants {
		s.OnboardTenant(tenant)
	}

	logGroup := defaults.LogGroup(s, "FunctionLogGroup", nil)
	s.ServiceRole = awsiam.NewRole(s, jsii.String("ServiceRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Shipment tracking service: no data access of its own; assumes the tenant access role"),
	})
	// The role's one policy is managed, written here; TenantIsolation gets the
	// role without policy updates, so its own grant on the role adds nothing.
	s.Isolation = NewTenantIsolation(s, "Isolation", &TenantIsolationProps{ExistingServiceRole: s.ServiceRole.WithoutPolicyUpdates(nil)})
	s.ServicePolicy = awsiam.NewManagedPolicy(s, jsii.String("ServicePolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Shipment tracking service: its logs, its traces and assuming the tenant access role"),
		Roles:       &[]awsiam.IRole{s.ServiceRole},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("Logs"),
				Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
				Resources: jsii.Strings(*logGroup.LogGroupArn()),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("Traces"),
				Actions:   jsii.Strings("xray:PutTraceSegments", "xray:PutTelemetryRecords"),
				Resources: jsii.Strings("*"),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("AssumeTenantAccessRole"),
				Actions:   jsii.Strings("sts:AssumeRole", "sts:TagSession"),
				Resources: jsii.Strings(*s.Isolation.AccessRole.RoleArn()),
			}),
		},
	})
	nag.Suppress(s.ServicePolicy, nag.Rule{
		ID:        "AwsSolutions-IAM5",
		Reason:    "X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions, and the function keeps GoFunction's active tracing",
		AppliesTo: []string{"Resource::*"},
	})
	s.Isolation.GrantTableRead(s.Table)
	s.Isolation.GrantBucketRead(s.Bucket)
	s.Isolation.GrantTenantKeysDecrypt()
	if props.ExistingOpenSearchDomain != nil {
		s.Isolation.GrantOpenSearchIndex(props.ExistingOpenSearchDomain)
	}

	gp := gofunction.GoFunctionProps{}
	if props.GoFunctionProps != nil {
		gp = *props.GoFunctionProps
	}
	fp := awslambda.FunctionProps{}
	if gp.FunctionProps != nil {
		fp = *gp.FunctionProps
	}
	if fp.Description == nil {
		fp.Description = jsii.String("Shipment tracking sample: reads tenant data with the tenant's session only")
	}
	if fp.Timeout == nil {
		fp.Timeout = awscdk.Duration_Seconds(jsii.Number(10))
	}
	env := map[string]*string{}
	if fp.Environment != nil {
		for k, v := range *fp.Environment {
			env[k] = v
		}
	}
	env["TABLE_NAME"] = s.Table.TableName()
	env["BUCKET_NAME"] = s.Bucket.BucketName()
	env["ACCESS_ROLE_ARN"] = s.Isolation.AccessRole.RoleArn()
	env["TENANT_CLAIM"] = jsii.String("custom:" + TenantAttribute)
	fp.Environment = &env
	fp.Role, fp.LogGroup = s.ServiceRole.WithoutPolicyUpdates(nil), logGroup
	gp.FunctionProps, gp.Entry = &fp, jsii.String(ShipmentTrackingHandlerEntry)
	s.Function = gofunction.NewGoFunction(s, "Function", &gp)
	s.Function.Node().AddDependency(s.ServicePolicy)
	nag.Suppress(s.Function, slices.Concat(
		nag.NISTAndHIPAA("LambdaConcurrency", "The API invokes the function on demand; reserving concurrency would take it from the account pool, which new accounts cannot spare"),
		nag.NISTAndHIPAA("LambdaDLQ", "API Gateway invokes the function synchronously and returns its answer; a dead-letter queue applies to asynchronous invocations only"),
		nag.NISTAndHIPAA("LambdaInsideVPC", "The function calls only public AWS APIs (STS, DynamoDB, S3); no VPC resource is involved"),
	)...)

	s.newUserPool()
	s.newApi()
	return s
}

// OnboardTenant creates tenantID's KMS key (NewTenantKey) and records it in
// TenantKeys. No IAM change is needed: the access role reaches the key by its
// tag. Users of the tenant are created in UserPool by an administrator, with
// the custom attribute TenantAttribute. An invalid or repeated tenant ID
// panics with a one-line message.
func (s *ShipmentTracking) OnboardTenant(tenantID string) awskms.Key {
	if _, dup := s.TenantKeys[tenantID]; dup {
		panic("tenantisolation: OnboardTenant: tenant " + tenantID + " is already onboarded")
	}
	key := NewTenantKey(s, "TenantKey-"+tenantID, &TenantKeyProps{TenantID: tenantID})
	s.TenantKeys[tenantID] = key
	return key
}

func (s *ShipmentTracking) newUserPool() {
	s.UserPool = awscognito.NewUserPool(s, jsii.String("UserPool"), &awscognito.UserPoolProps{
		// Users cannot choose their tenant: only an administrator creates them.
		SelfSignUpEnabled: jsii.Bool(false),
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
		CustomAttributes: &map[string]awscognito.ICustomAttribute{
			TenantAttribute: awscognito.NewStringAttribute(&awscognito.StringAttributeProps{
				MinLen: jsii.Number(1), MaxLen: jsii.Number(26), Mutable: jsii.Bool(false),
			}),
		},
		Mfa:             awscognito.Mfa_REQUIRED,
		MfaSecondFactor: &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength: jsii.Number(12), RequireDigits: jsii.Bool(true), RequireLowercase: jsii.Bool(true),
			RequireUppercase: jsii.Bool(true), RequireSymbols: jsii.Bool(true),
		},
		AccountRecovery:    awscognito.AccountRecovery_EMAIL_ONLY,
		DeletionProtection: jsii.Bool(true),
		RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
	})
	const freeTier = "Threat protection needs the Cognito Plus feature plan, billed per active user; the sample stays on the free tier, with MFA required and no self sign-up"
	nag.Suppress(s.UserPool, nag.Rule{ID: "AwsSolutions-COG3", Reason: freeTier}, nag.Rule{ID: "AwsSolutions-COG8", Reason: freeTier})
	s.UserPoolClient = s.UserPool.AddClient(jsii.String("Client"), &awscognito.UserPoolClientOptions{
		AuthFlows:      &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		GenerateSecret: jsii.Bool(false),
		// The client reads the tenant claim but can never write it.
		ReadAttributes: awscognito.NewClientAttributes().WithStandardAttributes(&awscognito.StandardAttributesMask{Email: jsii.Bool(true)}).
			WithCustomAttributes(jsii.String(TenantAttribute)),
		WriteAttributes:            awscognito.NewClientAttributes().WithStandardAttributes(&awscognito.StandardAttributesMask{Email: jsii.Bool(false)}),
		IdTokenValidity:            awscdk.Duration_Minutes(jsii.Number(60)),
		PreventUserExistenceErrors: jsii.Bool(true),
	})
}

func (s *ShipmentTracking) newApi() {
	authorizer := awsapigatewayv2authorizers.NewHttpUserPoolAuthorizer(jsii.String("IdToken"), s.UserPool, &awsapigatewayv2authorizers.HttpUserPoolAuthorizerProps{
		UserPoolClients: &[]awscognito.IUserPoolClient{s.UserPoolClient},
	})
	s.Api = awsapigatewayv2.NewHttpApi(s, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		Description:       jsii.String("Shipment tracking sample (tenant isolation)"),
		DefaultAuthorizer: authorizer,
	})
	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("Tracking"), s.Function, nil)
	for _, path := range []string{ShipmentRoute, DocumentRoute} {
		routes := s.Api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET},
			Integration: integration,
		})
		// The integration's invoke permission names the API by SourceArn; the
		// account too, so no other account's API can match it (Control Tower
		// lambda_function_public_access_prohibited_check).
		for _, r := range *routes {
			for _, c := range *r.Node().FindAll(constructs.ConstructOrder_PREORDER) {
				if res, ok := c.(awscdk.CfnResource); ok && *res.CfnResourceType() == "AWS::Lambda::Permission" {
					res.AddPropertyOverride(jsii.String("SourceAccount"), awscdk.Stack_Of(s).Account())
				}
			}
		}
	}
	accessLogs := defaults.LogGroup(s, "ApiAccessLogs", nil)
	stage := s.Api.DefaultStage().Node().DefaultChild().(awsapigatewayv2.CfnStage)
	stage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format: jsii.String(`{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",` +
			`"routeKey":"$context.routeKey","status":"$context.status","sub":"$context.authorizer.claims.sub","error":"$context.authorizer.error"}`),
	})
	stage.SetDefaultRouteSettings(&awsapigatewayv2.CfnStage_RouteSettingsProperty{
		ThrottlingBurstLimit: jsii.Number(50), ThrottlingRateLimit: jsii.Number(25),
	})
}
