// Package mtls provides MutualTls: two or more endpoints (a public gateway,
// a backend and optional additional backends) that talk mutual TLS with ACM private certificates from their own
// AWS Private CA hierarchies, the automation that exports those certificates
// into Secrets Manager and keeps them renewed, and the data plane that uses
// them: a self-managed Envoy on ECS Fargate (the default) or the App Mesh
// design of the walkthrough (opt-in; App Mesh reached end of support).
package mtls

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsacmpca"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsappmesh"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsservicediscovery"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/constructs/internal/customresource"
	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/constructs/internal/pullthrough"
	"github.com/securestacks/securestacks/constructs/privateca"
	"github.com/securestacks/securestacks/internal/mtlssecret"
	"github.com/securestacks/securestacks/internal/nag"
)

// Handler entries, by Go import path (see constructs/gofunction).
const (
	ExportHandlerEntry = "github.com/securestacks/securestacks/lambda-src/mtls-cert-export"
	RenewHandlerEntry  = "github.com/securestacks/securestacks/lambda-src/mtls-cert-renew"
)

// ExportResourceType is the CloudFormation type of the export custom resource.
const ExportResourceType = "Custom::MtlsCertificateExport"

// DockerHubWarning is the synth warning for default images pulled from Docker
// Hub without DockerHubCredentials; DockerHubWarningId identifies it.
const (
	DockerHubWarning   = "DockerHubCredentials is not set: the tasks pull the Envoy and application images from Docker Hub anonymously through the NAT gateway, which Docker Hub limits to about 10 pulls an hour per IP address (a crash loop or a scale-out can exhaust it); set it to pull them once through an ECR pull-through cache"
	DockerHubWarningId = "securestacks:mtls-docker-hub-anonymous"
)

// defaultImage is ref, a Docker Hub reference, through the cache when there is one.
func (t *MutualTls) defaultImage(ref string) awsecs.ContainerImage {
	if t.cache != nil {
		ref = t.cache.Registry() + ref
	}
	return awsecs.ContainerImage_FromRegistry(jsii.String(ref), nil)
}

// AppMeshEndOfSupportWarning is the synth warning of PlaneAppMesh.
const AppMeshEndOfSupportWarning = "AWS App Mesh reached end of support on 2026-09-30; this plane cannot be deployed to new resources"

// AppMeshWarningId identifies that warning (acknowledge it with
// awscdk.Annotations_Of(scope).AcknowledgeWarning).
const AppMeshWarningId = "securestacks:mtls:AppMeshEndOfSupport"

// Endpoint is one side of the mTLS connection and everything that serves it.
type Endpoint struct {
	// Name is the DNS label; DnsName is Name + "." + Domain.
	Name    string
	DnsName string
	// Domain is the endpoint's domain and private DNS namespace.
	Domain string
	// CaHierarchy issues Certificate.
	CaHierarchy *privateca.CaHierarchy
	// Certificate is the endpoint's ACM private certificate (exportable).
	// Nil for the gateway: ACM issues no certificate with the clientAuth
	// extended key usage since 2025-06-11, so the gateway's client
	// certificate is issued by its CaHierarchy directly (ClientCertificate).
	Certificate awscertificatemanager.PrivateCertificate
	// ClientCertificate is what the gateway's Export asks AWS Private CA to
	// issue (template ClientCertificateTemplate) for a key the export
	// function generates; nil for the backends.
	ClientCertificate *ClientCertificateSpec
	// Secret holds the exported certificate (package internal/mtlssecret).
	// Only ReaderRoles (the task execution role of the endpoint, when it
	// reads the secret) and the renew function may read it.
	Secret awssecretsmanager.Secret
	// Export is the custom resource that fills Secret.
	Export awscdk.CustomResource
	// TaskDefinition, ExecutionRole and Service run the endpoint.
	TaskDefinition awsecs.FargateTaskDefinition
	ExecutionRole  awsiam.Role
	Service        awsecs.FargateService
	// SecurityGroup of Service.
	SecurityGroup awsec2.SecurityGroup
	// LogGroup receives the containers' logs.
	LogGroup awslogs.LogGroup
	// Bootstrap is the rendered Envoy bootstrap YAML (PlaneEnvoy only).
	Bootstrap string

	scope      constructs.Construct
	taskPolicy awsiam.ManagedPolicy
	discovery  awsservicediscovery.Service
	// appText is what the endpoint's application answers (backends only).
	appText string
}

// MutualTls is the whole system. Fields of the plane not chosen are nil.
type MutualTls struct {
	constructs.Construct

	// Plane is the data plane in use.
	Plane Plane
	// Gateway is the public entry and mTLS client; Backend the mTLS server
	// of every request not routed to one of AdditionalBackends.
	Gateway, Backend *Endpoint
	// AdditionalBackends are the further mTLS servers, in props order; nil
	// without MutualTlsProps.AdditionalBackends.
	AdditionalBackends []*Endpoint
	// Vpc is the network of the services (the given one or the new one).
	Vpc awsec2.IVpc
	// FlowLog records the new VPC's traffic; nil when Vpc was given.
	FlowLog awsec2.FlowLog
	// Cluster runs both services.
	Cluster awsecs.ICluster
	// Namespace is the private DNS namespace of Domain, where the backends
	// register.
	Namespace awsservicediscovery.PrivateDnsNamespace
	// Namespaces are all the namespaces by domain: Namespace and one per
	// other domain of AdditionalBackends.
	Namespaces map[string]awsservicediscovery.PrivateDnsNamespace
	// LoadBalancer is the public entry, forwarding TCP 80 to the gateway.
	LoadBalancer awselasticloadbalancingv2.NetworkLoadBalancer
	// SecretsKey encrypts the secrets; LogsKey the log groups.
	SecretsKey awskms.IKey
	LogsKey    awskms.IKey
	// PullThroughCache is the ECR pull-through cache rule for Docker Hub,
	// with MutualTlsProps.DockerHubCredentials; nil otherwise.
	PullThroughCache awsecr.CfnPullThroughCacheRule

	// ExportFunction and ExportProvider run the export custom resources.
	ExportFunction *gofunction.GoFunction
	ExportProvider customresources.Provider
	// RenewFunction keeps the secrets in step with ACM.
	RenewFunction *gofunction.GoFunction
	// RenewOnExpiry and RenewDaily invoke RenewFunction.
	RenewOnExpiry, RenewDaily awsevents.Rule
	// RenewDeadLetterQueue keeps failed asynchronous invocations.
	RenewDeadLetterQueue awssqs.Queue
	// RenewErrorsAlarm and RenewDeadLetterAlarm notify AlarmTopic.
	RenewErrorsAlarm, RenewDeadLetterAlarm awscloudwatch.Alarm
	// IssuingCaExpiryAlarms notify AlarmTopic when an issuing CA has less
	// than IssuingCaAlarmDays left, one per distinct issuing CA (the renew
	// function's daily run reports its days left). From one certificate
	// validity before its end, a CA can issue and renew nothing; the alarm
	// leaves CaRenewalMarginDays to renew it (constructs/privateca/README.md).
	IssuingCaExpiryAlarms []awscloudwatch.Alarm
	// AlarmTopic receives every alarm: MutualTlsProps.AlarmTopic or the new
	// topic.
	AlarmTopic awssns.ITopic

	// App Mesh plane.
	Mesh           awsappmesh.Mesh
	VirtualGateway awsappmesh.VirtualGateway
	VirtualNode    awsappmesh.VirtualNode
	VirtualService awsappmesh.VirtualService
	GatewayRoute   awsappmesh.GatewayRoute

	secretReaders map[*Endpoint]map[*string]struct{}
	// cache is the Docker Hub pull-through cache, with DockerHubCredentials.
	cache *pullthrough.Cache
}

// Backends returns Backend followed by AdditionalBackends.
func (t *MutualTls) Backends() []*Endpoint {
	return append([]*Endpoint{t.Backend}, t.AdditionalBackends...)
}

// Endpoints returns Gateway followed by Backends().
func (t *MutualTls) Endpoints() []*Endpoint {
	return append([]*Endpoint{t.Gateway}, t.Backends()...)
}

// NewMutualTls creates the system at scope/id. nil props means all defaults
// (see MutualTlsProps). Invalid or conflicting
// props panic with a message starting "mtls:".
func NewMutualTls(scope constructs.Construct, id string, props *MutualTlsProps) *MutualTls {
	var p MutualTlsProps
	if props != nil {
		p = *props
	}
	if p.Vpc != nil && p.NatGateways != nil {
		panic("mtls: NatGateways conflicts with Vpc: NatGateways configures the VPC this construct creates when Vpc is nil")
	}
	plane := p.Plane
	if plane == "" {
		plane = PlaneEnvoy
	}
	if plane != PlaneEnvoy && plane != PlaneAppMesh {
		panic(fmt.Sprintf("mtls: Plane %q: expected PlaneEnvoy (\"envoy\") or PlaneAppMesh (\"appmesh\")", plane))
	}
	if plane == PlaneEnvoy && p.AppMeshEnvoyImage != nil {
		panic("mtls: AppMeshEnvoyImage conflicts with PlaneEnvoy: expected Plane = PlaneAppMesh")
	}
	if sec := p.DockerHubCredentials; sec != nil && !pullthrough.ValidSecretArn(sec.SecretArn()) {
		panic(fmt.Sprintf("mtls: DockerHubCredentials %s: expected a secret whose name starts with %s, as ECR pull-through cache requires", *sec.SecretArn(), pullthrough.SecretNamePrefix))
	}
	if p.DockerHubCredentials != nil && p.EnvoyImage != nil && p.AppImage != nil {
		panic("mtls: DockerHubCredentials conflicts with giving both EnvoyImage and AppImage: the cache serves only the default Docker Hub images")
	}
	if plane == PlaneAppMesh && len(p.AdditionalBackends) > 0 {
		panic("mtls: AdditionalBackends conflicts with PlaneAppMesh: the end-of-support App Mesh plane keeps the walkthrough's two endpoints; expected Plane = PlaneEnvoy")
	}
	domain := DefaultDomain
	if p.Domain != nil {
		domain = strings.ToLower(*p.Domain)
	}
	renewDays := renewBeforeDays(p.RenewBefore)

	t := &MutualTls{Plane: plane}
	constructs.NewConstruct_Override(t, scope, jsii.String(id))

	t.LogsKey = p.LogsKey
	if t.LogsKey == nil {
		t.LogsKey = defaults.LogsKey(t, "LogsKey")
	}
	t.SecretsKey = p.SecretsKey
	if t.SecretsKey == nil {
		t.SecretsKey = defaults.Key(t, "SecretsKey", &awskms.KeyProps{Description: jsii.String("Encrypts the exported mTLS certificates and keys")})
	}
	if p.Vpc == nil {
		p.Vpc = t.newVpc(&p, plane)
	}
	t.Vpc = p.Vpc
	t.Cluster = p.Cluster
	if t.Cluster == nil {
		t.Cluster = awsecs.NewCluster(t, jsii.String("Cluster"), &awsecs.ClusterProps{
			Vpc: p.Vpc,
			// "enabled" rather than "enhanced": the Control Tower rule
			// CT.ECS.PR.2, run by cfn-guard over cdk.out, accepts only it.
			ContainerInsightsV2: awsecs.ContainerInsights_ENABLED,
		})
	}
	t.Namespace = t.namespace(p.Vpc, domain, domain)
	if p.DockerHubCredentials != nil {
		t.cache = pullthrough.New(t, "DockerHubCache", p.DockerHubCredentials)
		t.PullThroughCache = t.cache.Rule
	} else if p.EnvoyImage == nil || p.AppImage == nil {
		awscdk.Annotations_Of(t).AddWarningV2(jsii.String(DockerHubWarningId), jsii.String(DockerHubWarning), nil)
	}

	t.Gateway = t.newEndpoint("Gateway", "Gateway", p.Gateway, DefaultGatewayName, domain, false, renewDays)
	t.Backend = t.newEndpoint("Backend", "Backend", p.Backend, DefaultBackendName, domain, false, renewDays)
	if t.Gateway.Name == t.Backend.Name {
		panic(fmt.Sprintf("mtls: Gateway.Name and Backend.Name are both %q: expected two different names", t.Gateway.Name))
	}
	t.Backend.appText = DefaultBackendText
	if p.BackendText != nil {
		t.Backend.appText = *p.BackendText
	}
	names := map[string]string{t.Gateway.Name: "Gateway.Name", t.Backend.Name: "Backend.Name"}
	for i, ep := range p.AdditionalBackends {
		field := fmt.Sprintf("AdditionalBackends[%d]", i)
		if ep == nil || ep.Name == nil {
			panic(fmt.Sprintf("mtls: %s.Name: expected the backend's DNS label, such as colorteller-blue", field))
		}
		if other, ok := names[*ep.Name]; ok {
			panic(fmt.Sprintf("mtls: %s.Name %q is also %s: expected a name no other endpoint has", field, *ep.Name, other))
		}
		names[*ep.Name] = field + ".Name"
		d := domain
		if ep.Domain != nil {
			d = strings.ToLower(*ep.Domain)
		}
		e := t.newEndpoint("AdditionalBackend-"+*ep.Name, field, ep, "", d, true, renewDays)
		e.appText = e.Name
		t.namespace(p.Vpc, domain, d)
		t.AdditionalBackends = append(t.AdditionalBackends, e)
	}
	t.newExport()

	switch plane {
	case PlaneEnvoy:
		t.newEnvoyPlane(&p)
	case PlaneAppMesh:
		t.newAppMeshPlane(&p)
	}
	t.newRenewal(&p, renewDays)
	t.restrictSecrets()
	return t
}

// GrantSecretRead lets grantee read endpoint's secret: an IAM grant and an
// entry in the secret's resource policy, which otherwise denies everyone but
// the endpoint's own task execution role and the renew function.
func (t *MutualTls) GrantSecretRead(endpoint *Endpoint, grantee awsiam.IRole) {
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("secretsmanager:GetSecretValue"),
		ResourceArns: jsii.Strings(*endpoint.Secret.SecretArn()),
	})
	t.readers(endpoint)[grantee.RoleArn()] = struct{}{}
}

// namespace returns the private DNS namespace of domain, created on first
// use; the one of the system's own domain keeps the id "Namespace".
func (t *MutualTls) namespace(vpc awsec2.IVpc, systemDomain, domain string) awsservicediscovery.PrivateDnsNamespace {
	if ns, ok := t.Namespaces[domain]; ok {
		return ns
	}
	id := "Namespace"
	if domain != systemDomain {
		id = "Namespace-" + domain
	}
	ns := awsservicediscovery.NewPrivateDnsNamespace(t, jsii.String(id), &awsservicediscovery.PrivateDnsNamespaceProps{
		Name:        jsii.String(domain),
		Vpc:         vpc,
		Description: jsii.String("Private names of the mTLS services"),
	})
	if t.Namespaces == nil {
		t.Namespaces = map[string]awsservicediscovery.PrivateDnsNamespace{}
	}
	t.Namespaces[domain] = ns
	return ns
}

// newEndpoint creates the endpoint's hierarchy, certificate and secret
// under the construct id; field names its props in panics. Only an
// additional backend may set Domain. renewDays is RenewBefore in days.
func (t *MutualTls) newEndpoint(id, field string, ep *EndpointProps, defaultName, domain string, additional bool, renewDays float64) *Endpoint {
	var e EndpointProps
	if ep != nil {
		e = *ep
	}
	if e.CaHierarchy != nil && e.CaHierarchyProps != nil {
		panic(fmt.Sprintf("mtls: %s.CaHierarchy conflicts with %s.CaHierarchyProps: pass one or the other", field, field))
	}
	if e.Domain != nil && !additional {
		panic(fmt.Sprintf("mtls: %s.Domain conflicts with MutualTlsProps.Domain: only AdditionalBackends may have their own domain", field))
	}
	name := defaultName
	if e.Name != nil {
		name = *e.Name
	}
	dns := name + "." + domain
	if err := checkDNS(strings.ToLower(id), dns); err != nil || strings.Contains(name, ".") {
		panic(fmt.Sprintf("mtls: %s.Name %q with Domain %q: expected a DNS label and a domain that form a lower-case name such as colorteller.mtls.internal", field, name, domain))
	}
	scope := constructs.NewConstruct(t, jsii.String(id))
	h := e.CaHierarchy
	if h == nil {
		caProps := e.CaHierarchyProps
		if caProps == nil {
			// One root CA per endpoint, as the walkthrough: two CAs for the
			// default system instead of four.
			caProps = &privateca.CaHierarchyProps{Flat: true}
		}
		if caProps.Subject == nil {
			cp := *caProps
			cp.Subject = &awsacmpca.CfnCertificateAuthority_SubjectProperty{CommonName: jsii.String(name + " Root CA")}
			caProps = &cp
		}
		h = privateca.NewCaHierarchy(scope, "Ca", caProps)
	}
	if !h.Activated {
		panic(fmt.Sprintf("mtls: %s.CaHierarchy is waiting for its external root's signature and can issue no certificate yet: deploy the hierarchy first, then add MutualTls", field))
	}
	checkIssuingCaValidity(field, h, renewDays)
	keyAlg := e.KeyAlgorithm
	if keyAlg == nil {
		keyAlg = awscertificatemanager.KeyAlgorithm_RSA_2048()
	}
	out := &Endpoint{Name: name, DnsName: dns, Domain: domain, CaHierarchy: h, scope: scope}
	if id == "Gateway" {
		out.issueClientCertificate(keyAlg)
	} else {
		out.Certificate = awscertificatemanager.NewPrivateCertificate(scope, jsii.String("Certificate"), &awscertificatemanager.PrivateCertificateProps{
			DomainName:           jsii.String(dns),
			CertificateAuthority: h.IssuingCa,
			KeyAlgorithm:         keyAlg,
			// A private certificate requested through CloudFormation without an
			// export preference cannot be exported; the walkthrough predates that.
			AllowExport: jsii.Bool(true),
		})
		h.WaitFor(out.Certificate)
	}

	secret := awssecretsmanager.NewSecret(scope, jsii.String("Secret"), &awssecretsmanager.SecretProps{
		Description:   jsii.String("Exported ACM private certificate of " + dns + " (written by the export and renew functions)"),
		EncryptionKey: t.SecretsKey,
		// The content is an export of an ACM certificate, which outlives the
		// stack; a retained copy would be a private key nobody owns.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	// An empty secret: the L2 would generate a random value, which no proxy
	// could parse. The export custom resource writes the first version.
	secret.Node().DefaultChild().(awssecretsmanager.CfnSecret).AddPropertyDeletionOverride(jsii.String("GenerateSecretString"))
	const rotation = "The secret holds an ACM export; it changes when ACM renews the certificate, which the renew function follows (EventBridge and daily), so Secrets Manager rotation has nothing to rotate"
	nag.Suppress(secret,
		nag.Rule{ID: "AwsSolutions-SMG4", Reason: rotation},
		nag.Rule{ID: "NIST.800.53.R5-SecretsManagerRotationEnabled", Reason: rotation},
		nag.Rule{ID: "HIPAA.Security-SecretsManagerRotationEnabled", Reason: rotation},
	)
	out.Secret = secret
	return out
}

// ClientCertificateTemplate is the AWS Private CA template of the gateway's
// client certificate: extended key usage clientAuth only. "Starting June
// 11, 2025, AWS Certificate Manager no longer issues certificates with the
// TLS Web Client Authentication (ClientAuth) Extended Key Usage"
// (https://docs.aws.amazon.com/acm/latest/userguide/acm-concepts.html); AWS
// points mTLS clients to AWS Private CA templates with it
// (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/origin-certificate-management-certificate-manager.html).
const ClientCertificateTemplate = mtlssecret.ClientAuthTemplate

// ClientCertificateSpec is the certificate the gateway's Export issues: the
// custom resource's Issue property (lambda-src/internal/mtlsexport.IssueSpec).
type ClientCertificateSpec struct {
	TemplateArn      *string
	SigningAlgorithm string
	ValidityDays     int
	KeyAlgorithm     string
}

// issueClientCertificate makes e (the gateway) get the client certificate
// its hierarchy issues instead of an ACM certificate.
func (e *Endpoint) issueClientCertificate(keyAlg awscertificatemanager.KeyAlgorithm) {
	stack := awscdk.Stack_Of(e.scope)
	e.ClientCertificate = &ClientCertificateSpec{
		TemplateArn:      jsii.String("arn:" + *stack.Partition() + ":acm-pca:::template/" + ClientCertificateTemplate),
		SigningAlgorithm: e.CaHierarchy.SigningAlgorithm,
		ValidityDays:     CertificateValidityDays,
		KeyAlgorithm:     *keyAlg.Name(),
	}
}

// newExport creates the export function, its provider and one export
// resource per endpoint.
func (t *MutualTls) newExport() {
	logGroup := defaults.LogGroup(t, "ExportFunctionLogGroup", &awslogs.LogGroupProps{EncryptionKey: t.LogsKey})
	role := awsiam.NewRole(t, jsii.String("ExportFunctionRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Exports the mTLS endpoint certificates into their secrets"),
	})
	endpoints := t.Endpoints()
	policy := awsiam.NewManagedPolicy(t, jsii.String("ExportFunctionPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Export the mTLS certificates and write them to their secrets"),
		Roles:       &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{
			statement("ExportCertificates", []string{"acm:ExportCertificate"}, certArns(endpoints)),
			t.Gateway.issueStatement(),
			statement("GetClientCertificate", []string{"acm-pca:GetCertificate"}, []*string{t.Gateway.CaHierarchy.IssuingCaArn}),
			statement("WriteSecrets", []string{"secretsmanager:PutSecretValue"}, secretArns(endpoints)),
			statement("Passphrase", []string{"secretsmanager:GetRandomPassword"}, []*string{jsii.String("*")}),
			// PutSecretValue needs kms:Decrypt too: a retry that writes an existing
			// version again makes Secrets Manager decrypt it to compare
			// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html#security-encryption-authz).
			statement("EncryptSecrets", []string{"kms:Decrypt", "kms:GenerateDataKey"}, []*string{t.SecretsKey.KeyArn()}),
			statement("Logs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, []*string{logGroup.LogGroupArn()}),
		},
	})
	nag.Suppress(policy, nag.Rule{ID: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*"},
		Reason: "secretsmanager:GetRandomPassword has no resource type; it reads and writes nothing and only returns a random string"})

	t.ExportFunction = gofunction.NewGoFunction(t, "ExportFunction", &gofunction.GoFunctionProps{
		Entry: jsii.String(ExportHandlerEntry),
		FunctionProps: &awslambda.FunctionProps{
			Description: jsii.String("mTLS certificate export custom resource"),
			Role:        role.WithoutPolicyUpdates(nil),
			LogGroup:    logGroup,
			Timeout:     awscdk.Duration_Minutes(jsii.Number(2)),
			MemorySize:  jsii.Number(256),
			// A deploy-time function: traces would add an X-Ray grant on "*".
			Tracing: awslambda.Tracing_DISABLED,
		},
	})
	t.ExportFunction.Node().AddDependency(policy)
	customresource.SuppressHandler(t.ExportFunction, "Calls only the ACM and Secrets Manager public APIs and reaches no VPC resource; a VPC would add endpoints and no isolation")
	t.ExportProvider = customresource.NewProvider(t, "ExportProvider", t.ExportFunction, t.LogsKey)

	for _, e := range endpoints {
		props := map[string]any{"SecretArn": e.Secret.SecretArn()}
		if e.ClientCertificate != nil {
			// A plain map with the handler's JSON names (the ARN stays a token
			// string, which CloudFormation resolves).
			raw, err := json.Marshal(e.issueSpec())
			if err != nil {
				panic(fmt.Sprintf("mtls: encoding the gateway's certificate request: %v", err))
			}
			var issue map[string]any
			_ = json.Unmarshal(raw, &issue)
			props["Issue"] = issue
		} else {
			props["CertificateArn"] = e.Certificate.CertificateArn()
		}
		e.Export = awscdk.NewCustomResource(e.scope, jsii.String("Export"), &awscdk.CustomResourceProps{
			ServiceToken: t.ExportProvider.ServiceToken(),
			ResourceType: jsii.String(ExportResourceType),
			Properties:   &props,
		})
		e.Export.Node().AddDependency(policy)
		if e.Certificate != nil {
			e.Export.Node().AddDependency(e.Certificate)
		} else {
			e.CaHierarchy.WaitFor(e.Export)
		}
	}
}

// newRenewal creates the renew function, its two triggers, its dead-letter
// queue and the alarms.
func (t *MutualTls) newRenewal(p *MutualTlsProps, renewDays float64) {
	endpoints := t.Endpoints()
	queueKey := defaults.Key(t, "RenewQueueKey", &awskms.KeyProps{Description: jsii.String("Encrypts the mTLS renewal dead-letter queue and alarm topic")})
	queueKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		// The statement AWS documents for CloudWatch alarms publishing to an
		// encrypted topic, without a condition: AWS documents none that
		// reaches KMS on this path, and an alarm whose publish fails is lost
		// (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
		// The topic policy keeps aws:SourceAccount and aws:SourceArn.
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
	}), jsii.Bool(true))
	queueKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("EventBridgeDeadLetters"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Stack_Of(t).Account()}},
	}), jsii.Bool(true))
	t.RenewDeadLetterQueue = awssqs.NewQueue(t, jsii.String("RenewDeadLetterQueue"), &awssqs.QueueProps{
		Encryption:          awssqs.QueueEncryption_KMS,
		EncryptionMasterKey: queueKey,
		EnforceSSL:          jsii.Bool(true),
		RetentionPeriod:     awscdk.Duration_Days(jsii.Number(14)),
		// Marks the queue as a dead-letter queue (Control Tower CT.SQS.PR.1).
		RedriveAllowPolicy: &awssqs.RedriveAllowPolicy{RedrivePermission: awssqs.RedrivePermission_ALLOW_ALL},
	})
	nag.Suppress(t.RenewDeadLetterQueue, nag.Rule{ID: "AwsSolutions-SQS3",
		Reason: "This queue is the dead-letter queue of the renew function and of its EventBridge targets; a queue behind it would only move the question"})

	logGroup := defaults.LogGroup(t, "RenewFunctionLogGroup", &awslogs.LogGroupProps{EncryptionKey: t.LogsKey})
	role := awsiam.NewRole(t, jsii.String("RenewFunctionRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Renews the mTLS certificates, re-exports them and redeploys their services"),
	})
	var services []*string
	for _, e := range endpoints {
		services = append(services, e.Service.ServiceArn())
	}
	issuingCas := t.issuingCaArns()
	casJSON, err := json.Marshal(issuingCas)
	if err != nil {
		panic(fmt.Sprintf("mtls: encoding the issuing CAs: %v", err))
	}
	policy := awsiam.NewManagedPolicy(t, jsii.String("RenewFunctionPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Renew, export and redeploy exactly the mTLS certificates and services of this system"),
		Roles:       &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{
			statement("Certificates", []string{"acm:DescribeCertificate", "acm:RenewCertificate", "acm:ExportCertificate"}, certArns(endpoints)),
			t.Gateway.issueStatement(),
			statement("GetClientCertificate", []string{"acm-pca:GetCertificate"}, []*string{t.Gateway.CaHierarchy.IssuingCaArn}),
			statement("Secrets", []string{"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"}, secretArns(endpoints)),
			statement("Passphrase", []string{"secretsmanager:GetRandomPassword"}, []*string{jsii.String("*")}),
			statement("SecretsKey", []string{"kms:Decrypt", "kms:GenerateDataKey"}, []*string{t.SecretsKey.KeyArn()}),
			statement("Redeploy", []string{"ecs:UpdateService"}, services),
			statement("IssuingCaExpiry", []string{"acm-pca:DescribeCertificateAuthority"}, issuingCas),
			statement("DeadLetters", []string{"sqs:SendMessage"}, []*string{t.RenewDeadLetterQueue.QueueArn()}),
			statement("DeadLettersKey", []string{"kms:GenerateDataKey", "kms:Decrypt"}, []*string{queueKey.KeyArn()}),
			statement("Logs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, []*string{logGroup.LogGroupArn()}),
		},
	})
	nag.Suppress(policy, nag.Rule{ID: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*"},
		Reason: "secretsmanager:GetRandomPassword has no resource type; it reads and writes nothing and only returns a random string"})

	type renewTarget struct {
		CertificateArn string                `json:"certificateArn,omitempty"`
		Issue          *mtlssecret.IssueSpec `json:"issue,omitempty"`
		SecretArn      string                `json:"secretArn"`
		Cluster        string                `json:"cluster"`
		Services       []string              `json:"services"`
	}
	targets := make([]renewTarget, 0, len(endpoints))
	for _, e := range endpoints {
		rt := renewTarget{
			SecretArn: *e.Secret.SecretArn(),
			Cluster:   *t.Cluster.ClusterArn(),
			// Exactly the service whose tasks read this certificate's secret.
			Services: []string{*e.Service.ServiceArn()},
		}
		if c := e.ClientCertificate; c != nil {
			rt.Issue = e.issueSpec()
		} else {
			rt.CertificateArn = *e.Certificate.CertificateArn()
		}
		targets = append(targets, rt)
	}
	// Marshalled here, in struct field order, with the ARNs as token strings
	// (which CloudFormation resolves): a Go map through Stack.ToJsonString
	// would reach CDK in random key order and change the function on every
	// synth.
	targetsJSON, err := json.Marshal(targets)
	if err != nil {
		panic(fmt.Sprintf("mtls: encoding the renew targets: %v", err))
	}
	t.RenewFunction = gofunction.NewGoFunction(t, "RenewFunction", &gofunction.GoFunctionProps{
		Entry: jsii.String(RenewHandlerEntry),
		FunctionProps: &awslambda.FunctionProps{
			Description: jsii.String("Keeps the mTLS secrets in step with their ACM certificates"),
			Role:        role.WithoutPolicyUpdates(nil),
			LogGroup:    logGroup,
			Timeout:     awscdk.Duration_Seconds(jsii.Number(renewTimeoutSeconds(len(endpoints)))),
			MemorySize:  jsii.Number(256),
			// One run at a time: two runs could renew the same certificate twice.
			ReservedConcurrentExecutions: jsii.Number(1),
			DeadLetterQueue:              t.RenewDeadLetterQueue,
			RetryAttempts:                jsii.Number(2),
			Tracing:                      awslambda.Tracing_DISABLED,
			Environment: &map[string]*string{
				"MTLS_TARGETS":           jsii.String(string(targetsJSON)),
				"MTLS_RENEW_BEFORE_DAYS": jsii.String(fmt.Sprintf("%d", int(renewDays))),
				// Set, not left to the function's default, because the timeout
				// above is computed from it.
				"MTLS_MAX_WAIT_SECONDS": jsii.String(fmt.Sprintf("%d", renewMaxWaitSeconds)),
				"MTLS_ISSUING_CAS":      jsii.String(string(casJSON)),
			},
		},
	})
	t.RenewFunction.Node().AddDependency(policy)
	nag.Suppress(t.RenewFunction,
		nag.Rule{ID: "NIST.800.53.R5-LambdaInsideVPC", Reason: "Calls only the ACM, Secrets Manager and ECS public APIs and reaches no VPC resource; a VPC would add endpoints and no isolation"},
		nag.Rule{ID: "HIPAA.Security-LambdaInsideVPC", Reason: "Calls only the ACM, Secrets Manager and ECS public APIs and reaches no VPC resource; a VPC would add endpoints and no isolation"},
	)

	resources := certArns(endpoints)
	target := awseventstargets.NewLambdaFunction(t.RenewFunction, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: t.RenewDeadLetterQueue,
		RetryAttempts:   jsii.Number(4),
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(6)),
	})
	t.RenewOnExpiry = awsevents.NewRule(t, jsii.String("RenewOnExpiry"), &awsevents.RuleProps{
		Description: jsii.String("ACM Certificate Approaching Expiration for the mTLS certificates"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.acm"),
			DetailType: jsii.Strings("ACM Certificate Approaching Expiration"),
			Resources:  &resources,
		},
		Targets: &[]awsevents.IRuleTarget{target},
	})
	t.RenewDaily = awsevents.NewRule(t, jsii.String("RenewDaily"), &awsevents.RuleProps{
		Description: jsii.String("Daily check of the mTLS certificates, for missed or late events and ACM's own renewals"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Days(jsii.Number(1))),
		Targets:     &[]awsevents.IRuleTarget{target},
	})

	t.AlarmTopic = p.AlarmTopic
	if t.AlarmTopic == nil {
		topic := awssns.NewTopic(t, jsii.String("AlarmTopic"), &awssns.TopicProps{
			DisplayName: jsii.String("mTLS certificate renewal alarms"),
			MasterKey:   queueKey,
			EnforceSSL:  jsii.Bool(true),
		})
		// The topic policy EnforceSSL creates replaces SNS's default one, so
		// CloudWatch needs its own statement to deliver the alarms (and the
		// key statement CloudWatchAlarmsPublish, for the encrypted topic:
		// https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
		stack := awscdk.Stack_Of(t)
		topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("CloudWatchAlarmsPublish"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
			Actions:    jsii.Strings("sns:Publish"),
			Resources:  jsii.Strings(*topic.TopicArn()),
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
				"ArnLike":      map[string]any{"aws:SourceArn": stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"), ResourceName: jsii.String("*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})},
			},
		}))
		t.AlarmTopic = topic
	}
	action := awscloudwatchactions.NewSnsAction(t.AlarmTopic)
	t.RenewErrorsAlarm = t.RenewFunction.MetricErrors(&awscloudwatch.MetricOptions{
		Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum"),
	}).CreateAlarm(t, jsii.String("RenewErrorsAlarm"), &awscloudwatch.CreateAlarmOptions{
		AlarmDescription:   jsii.String("The mTLS renew function failed: a certificate or its secret may be stale"),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	t.RenewErrorsAlarm.AddAlarmAction(action)
	t.RenewDeadLetterAlarm = t.RenewDeadLetterQueue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
		Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum"),
	}).CreateAlarm(t, jsii.String("RenewDeadLetterAlarm"), &awscloudwatch.CreateAlarmOptions{
		AlarmDescription:   jsii.String("A renewal event or invocation failed for good and waits in the dead-letter queue"),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	t.RenewDeadLetterAlarm.AddAlarmAction(action)
	for i, ca := range issuingCas {
		alarm := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:     jsii.String(IssuingCaMetricNamespace),
			MetricName:    jsii.String(IssuingCaMetricName),
			DimensionsMap: &map[string]*string{"CertificateAuthorityArn": ca},
			Statistic:     jsii.String("Minimum"),
			Period:        awscdk.Duration_Days(jsii.Number(1)),
		}).CreateAlarm(t, jsii.String(fmt.Sprintf("IssuingCaExpiryAlarm%d", i)), &awscloudwatch.CreateAlarmOptions{
			AlarmDescription: jsii.String(fmt.Sprintf("An mTLS issuing CA has less than %d days left: from %d days before its end it can issue and renew no certificate; renew it (constructs/privateca/README.md, Renewing a CA)",
				IssuingCaAlarmDays, CertificateValidityDays)),
			Threshold:          jsii.Number(IssuingCaAlarmDays),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
			// A failed check fails the run, which RenewErrorsAlarm reports.
			TreatMissingData: awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		alarm.AddAlarmAction(action)
		t.IssuingCaExpiryAlarms = append(t.IssuingCaExpiryAlarms, alarm)
	}

	for _, e := range endpoints {
		t.readers(e)[role.RoleArn()] = struct{}{}
	}
}

// The renew function's time budget. It handles its targets one after
// another; each may wait up to renewMaxWaitSeconds for ACM's renewed
// certificate and then needs up to renewMarginSeconds to export it and
// redeploy (the handler's DefaultMaxWaitSeconds and DefaultDeadlineMargin:
// the handler starts a target only when that much is left, and reports the
// targets it could not start). renewBaseSeconds covers the cold start and the
// work before and after the targets.
const (
	renewMaxWaitSeconds = 180
	renewMarginSeconds  = 60
	renewBaseSeconds    = 120
	// renewMaxTimeoutSeconds is Lambda's maximum timeout.
	renewMaxTimeoutSeconds = 900
)

// renewTimeoutSeconds is the renew function's timeout for n endpoints:
// min(15 minutes, 2 minutes + n × (MaxWait + 1 minute)). With more endpoints
// than fit, a run stops at the deadline and names the rest, which Lambda's
// retry or the next daily run handles.
func renewTimeoutSeconds(n int) int {
	return min(renewMaxTimeoutSeconds, renewBaseSeconds+n*(renewMaxWaitSeconds+renewMarginSeconds))
}

// The issuing-CA expiry metric (lambda-src/mtls-cert-renew, cacheck.go) and
// its alarm threshold: one certificate validity plus CaRenewalMarginDays.
const (
	IssuingCaMetricNamespace = "Securestacks/Mtls"
	IssuingCaMetricName      = "IssuingCaDaysLeft"
	IssuingCaAlarmDays       = CertificateValidityDays + CaRenewalMarginDays
)

// issuingCaArns are the distinct issuing CAs of the endpoints, in endpoint
// order.
func (t *MutualTls) issuingCaArns() []*string {
	var out []*string
	seen := map[*privateca.CaHierarchy]bool{}
	for _, e := range t.Endpoints() {
		if !seen[e.CaHierarchy] {
			seen[e.CaHierarchy] = true
			out = append(out, e.CaHierarchy.IssuingCaArn)
		}
	}
	return out
}

// readers returns the set of role ARNs that may read e's secret.
func (t *MutualTls) readers(e *Endpoint) map[*string]struct{} {
	if t.secretReaders == nil {
		t.secretReaders = map[*Endpoint]map[*string]struct{}{}
	}
	if t.secretReaders[e] == nil {
		t.secretReaders[e] = map[*string]struct{}{}
	}
	return t.secretReaders[e]
}

// restrictSecrets denies secretsmanager:GetSecretValue on each secret to
// every principal but its readers, whatever their IAM policies allow.
func (t *MutualTls) restrictSecrets() {
	for _, e := range t.Endpoints() {
		var names []string
		byName := map[string]*string{}
		for arn := range t.readers(e) {
			names = append(names, *arn)
			byName[*arn] = arn
		}
		// Sorted for a stable template (the set is a Go map).
		sort.Strings(names)
		arns := make([]any, len(names))
		for i, n := range names {
			arns[i] = byName[n]
		}
		e.Secret.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("OnlyTheEndpointAndRenewal"),
			Effect:     awsiam.Effect_DENY,
			Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
			Actions:    jsii.Strings("secretsmanager:GetSecretValue"),
			Resources:  jsii.Strings("*"),
			Conditions: &map[string]any{"StringNotEquals": map[string]any{"aws:PrincipalArn": arns}},
		}))
	}
}

func statement(sid string, actions []string, resources []*string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	})
}

// issueSpec is what e's export and renewal issue, in the functions' terms.
func (e *Endpoint) issueSpec() *mtlssecret.IssueSpec {
	c := e.ClientCertificate
	return &mtlssecret.IssueSpec{
		CertificateAuthorityArn: *e.CaHierarchy.IssuingCaArn,
		TemplateArn:             *c.TemplateArn,
		SigningAlgorithm:        c.SigningAlgorithm,
		ValidityDays:            c.ValidityDays,
		DnsName:                 e.DnsName,
		KeyAlgorithm:            c.KeyAlgorithm,
	}
}

// issueStatement lets the export and renew functions have the gateway's CA
// issue its client certificate, with that template only.
func (e *Endpoint) issueStatement() awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("IssueClientCertificate"),
		Actions:    jsii.Strings("acm-pca:IssueCertificate"),
		Resources:  &[]*string{e.CaHierarchy.IssuingCaArn},
		Conditions: &map[string]any{"StringEquals": map[string]any{"acm-pca:TemplateArn": e.ClientCertificate.TemplateArn}},
	})
}

// certArns are the ACM certificates of es (the gateway has none).
func certArns(es []*Endpoint) []*string {
	var out []*string
	for _, e := range es {
		if e.Certificate != nil {
			out = append(out, e.Certificate.CertificateArn())
		}
	}
	return out
}

func secretArns(es []*Endpoint) []*string {
	out := make([]*string, len(es))
	for i, e := range es {
		out[i] = e.Secret.SecretArn()
	}
	return out
}

// CertificateValidityDays is the validity of every ACM private certificate
// (13 months), and of the gateway's client certificate
// (mtlssecret.CertificateValidityDays).
const CertificateValidityDays = mtlssecret.CertificateValidityDays

// CaRenewalMarginDays is the time this construct leaves between the first
// warning (IssuingCaAlarmDays) and the day the issuing CA can no longer
// issue or renew a certificate: enough to create and activate a new
// hierarchy, or to re-sign an external root's subordinate
// (constructs/privateca/README.md, "Renewing a CA").
const CaRenewalMarginDays = mtlssecret.CaRenewalMarginDays

// MinIssuingCaValidityDays is the shortest issuing-CA validity MutualTls
// accepts for renewBefore days of RenewBefore: one certificate validity, its
// renewal window and CaRenewalMarginDays. A CA valid for less could not
// renew even the first certificate it issues.
func MinIssuingCaValidityDays(renewBefore float64) float64 {
	return mtlssecret.MinIssuingCaValidityDays(renewBefore)
}

// checkIssuingCaValidity panics when h's issuing CA cannot outlive the
// certificates it must issue and renew. An external root's subordinate has
// a validity the construct cannot know (0) and is not checked.
func checkIssuingCaValidity(field string, h *privateca.CaHierarchy, renewDays float64) {
	v := h.IssuingCaValidityDays
	if v == 0 || v >= MinIssuingCaValidityDays(renewDays) {
		return
	}
	panic(fmt.Sprintf("mtls: %s.CaHierarchy: the issuing CA is valid %v days, expected at least %v (certificate validity %d + RenewBefore %v + %d days to renew the CA): AWS Private CA issues no certificate that outlives its CA",
		field, v, MinIssuingCaValidityDays(renewDays), CertificateValidityDays, renewDays, CaRenewalMarginDays))
}

func renewBeforeDays(d awscdk.Duration) float64 {
	if d == nil {
		return DefaultRenewBeforeDays
	}
	days := *d.ToHours(nil) / 24
	if days < 1 || days > 365 || days != math.Trunc(days) {
		panic(fmt.Sprintf("mtls: RenewBefore: expected a whole number of days from 1 to 365, got %s", *d.ToHumanString()))
	}
	return days
}
