package mtls

import (
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsservicediscovery"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/mtlssecret"
	"github.com/securestacks/securestacks/internal/nag"
)

// Memory of a task and the hard limits of its containers (every container
// has one: Control Tower CT.ECS.PR.7). The limits of a task add up to
// TaskMemoryMiB.
const (
	TaskMemoryMiB    = 512
	AppMemoryMiB     = 128
	InitMemoryMiB    = 64
	proxyAloneMiB    = TaskMemoryMiB
	proxyWithAppMiB  = TaskMemoryMiB - AppMemoryMiB
	meshGatewayProxy = TaskMemoryMiB - InitMemoryMiB
	meshBackendProxy = TaskMemoryMiB - InitMemoryMiB - AppMemoryMiB
)

// ProxyContainerName is the name of the proxy container in both planes.
const ProxyContainerName = "envoy"

// EnvoyUser is the user the official Envoy image creates; the proxy and its
// start script run as that user, not as root.
const EnvoyUser = "envoy"

// AppUser is the user of the backend application: nobody.
const AppUser = "65534"

// newEnvoyPlane runs every endpoint with the official Envoy image and the
// bootstraps of bootstrap.go.
func (t *MutualTls) newEnvoyPlane(p *MutualTlsProps) {
	envoyImage := p.EnvoyImage
	if envoyImage == nil {
		envoyImage = t.defaultImage(DefaultEnvoyImage)
	}
	upstreams := make([]Upstream, len(t.AdditionalBackends))
	// Public: each backend hierarchy's root certificate, the gateway's
	// trust bundle for that backend.
	gatewayEnv := map[string]*string{mtlssecret.EnvPeerTrustBundle: t.Backend.CaHierarchy.TrustBundle}
	for i, b := range t.AdditionalBackends {
		upstreams[i] = Upstream{Name: b.Name, DnsName: b.DnsName}
		gatewayEnv[PeerTrustBundleEnv(b.Name)] = b.CaHierarchy.TrustBundle
	}
	gatewayYaml, err := GatewayBootstrap(t.Gateway.DnsName, t.Backend.DnsName, upstreams...)
	if err != nil {
		panic(err.Error())
	}
	t.Gateway.Bootstrap = gatewayYaml
	type side struct {
		e      *Endpoint
		env    map[string]*string
		port   float64
		memory float64
	}
	sides := []side{{t.Gateway, gatewayEnv, GatewayPort, proxyAloneMiB}}
	for _, b := range t.Backends() {
		b.Bootstrap, err = BackendBootstrap(b.DnsName, t.Gateway.DnsName)
		if err != nil {
			panic(err.Error())
		}
		// Public: the gateway hierarchy's root certificate.
		sides = append(sides, side{b, map[string]*string{mtlssecret.EnvPeerTrustBundle: t.Gateway.CaHierarchy.TrustBundle}, BackendMtlsPort, proxyWithAppMiB})
	}
	t.newSecurityGroups(p.Vpc, BackendMtlsPort)

	for _, side := range sides {
		e := side.e
		t.newTaskDefinition(e, "TaskDefinition", nil, nil, nil)
		proxy := e.TaskDefinition.AddContainer(jsii.String(ProxyContainerName), &awsecs.ContainerDefinitionOptions{
			Image: envoyImage,
			// The image's own entrypoint would start Envoy with its sample
			// configuration; ours decrypts the key first, then execs Envoy.
			EntryPoint: jsii.Strings("/bin/sh", "-c"),
			Command: jsii.Strings(mtlssecret.StartScript, "mtls-start",
				"envoy", "--config-yaml", e.Bootstrap, "--disable-hot-restart", "--log-level", "info"),
			User:                   jsii.String(EnvoyUser),
			ReadonlyRootFilesystem: jsii.Bool(true),
			MemoryLimitMiB:         jsii.Number(side.memory),
			PortMappings:           &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(side.port), Protocol: awsecs.Protocol_TCP}},
			Logging:                awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{LogGroup: e.LogGroup, StreamPrefix: jsii.String(ProxyContainerName)}),
			Essential:              jsii.Bool(true),
		})
		addEnvironment(proxy, side.env)
		addSecrets(proxy, e)
		t.readers(e)[e.ExecutionRole.RoleArn()] = struct{}{} // its managed policy has the IAM half
	}
	for _, b := range t.Backends() {
		t.addBackendApp(p, b, "127.0.0.1")
	}
	t.newServices(p, GatewayPort)
}

// addSecrets gives c the start script's secret variables, each from its
// JSON key of e's secret, in name order so that the template is stable.
func addSecrets(c awsecs.ContainerDefinition, e *Endpoint) {
	env := mtlssecret.SecretEnvironment()
	names := make([]string, 0, len(env))
	for name := range env {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c.AddSecret(jsii.String(name), awsecs.Secret_FromSecretsManager(e.Secret, jsii.String(env[name])))
	}
}

// addEnvironment sets env on c in name order. A map passed as the
// container's Environment would reach CDK in Go's random map order, and the
// rendered list would change from one synth to the next, replacing the task
// definition on every deploy.
func addEnvironment(c awsecs.ContainerDefinition, env map[string]*string) {
	names := make([]string, 0, len(env))
	for name := range env {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c.AddEnvironment(jsii.String(name), env[name])
	}
}

// addBackendApp adds the sample application to backend b's task, listening
// on listenHost:AppPort and answering b's text.
func (t *MutualTls) addBackendApp(p *MutualTlsProps, b *Endpoint, listenHost string) {
	image := p.AppImage
	if image == nil {
		image = t.defaultImage(DefaultAppImage)
	}
	b.TaskDefinition.AddContainer(jsii.String("app"), &awsecs.ContainerDefinitionOptions{
		Image:                  image,
		Command:                jsii.Strings(fmt.Sprintf("-listen=%s:%d", listenHost, AppPort), "-text="+b.appText),
		User:                   jsii.String(AppUser),
		ReadonlyRootFilesystem: jsii.Bool(true),
		MemoryLimitMiB:         jsii.Number(AppMemoryMiB),
		Logging:                awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{LogGroup: b.LogGroup, StreamPrefix: jsii.String("app")}),
		Essential:              jsii.Bool(true),
	})
}

// newTaskDefinition creates e's task definition with its own execution role
// (so that only this endpoint's tasks may read its secret) and log group.
// taskRole nil means CDK's default role, to which nothing is granted: the
// Envoy plane's containers call no AWS API.
func (t *MutualTls) newTaskDefinition(e *Endpoint, id string, taskRole awsiam.IRole, proxy awsecs.ProxyConfiguration, volumes *[]*awsecs.Volume) {
	scope := e.scope
	e.LogGroup = defaults.LogGroup(scope, "LogGroup", &awslogs.LogGroupProps{EncryptionKey: t.LogsKey})
	e.ExecutionRole = awsiam.NewRole(scope, jsii.String("ExecutionRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil),
		Description: jsii.String("Starts the " + e.Name + " tasks: reads its secret and writes its logs"),
	})
	policy := awsiam.NewManagedPolicy(scope, jsii.String("ExecutionPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Read the " + e.Name + " secret and write the " + e.Name + " logs"),
		Roles:       &[]awsiam.IRole{e.ExecutionRole},
		Statements: &[]awsiam.PolicyStatement{
			statement("Secret", []string{"secretsmanager:GetSecretValue"}, []*string{e.Secret.SecretArn()}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("SecretKey"),
				Actions:   jsii.Strings("kms:Decrypt"),
				Resources: jsii.Strings(*t.SecretsKey.KeyArn()),
				Conditions: &map[string]any{"StringEquals": map[string]any{
					"kms:ViaService": "secretsmanager." + *awscdk.Stack_Of(t).Region() + "." + *awscdk.Stack_Of(t).UrlSuffix(),
				}},
			}),
			statement("Logs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, []*string{e.LogGroup.LogGroupArn()}),
		},
	})
	if t.cache != nil {
		for _, st := range t.cache.Statements() {
			policy.AddStatements(st)
		}
		t.cache.SuppressWildcards(policy)
	}
	e.TaskDefinition = awsecs.NewFargateTaskDefinition(scope, jsii.String(id), &awsecs.FargateTaskDefinitionProps{
		Cpu:            jsii.Number(256),
		MemoryLimitMiB: jsii.Number(TaskMemoryMiB),
		// The policy above is all the execution role may do: grants CDK adds
		// for secrets and logs would land in an inline policy beside it.
		ExecutionRole:      e.ExecutionRole.WithoutPolicyUpdates(nil),
		TaskRole:           taskRole,
		ProxyConfiguration: proxy,
		Volumes:            volumes,
		RuntimePlatform: &awsecs.RuntimePlatform{
			CpuArchitecture:       awsecs.CpuArchitecture_ARM64(),
			OperatingSystemFamily: awsecs.OperatingSystemFamily_LINUX(),
		},
	})
	e.TaskDefinition.Node().AddDependency(policy)
	nag.Suppress(e.TaskDefinition, nag.Rule{ID: "AwsSolutions-ECS2",
		Reason: "The environment holds only public values (the peer hierarchy's root CA certificate, App Mesh resource ARNs, a directory path); every secret reaches the containers through ECS secrets from the endpoint's secret"})
	if e.taskPolicy != nil {
		e.TaskDefinition.Node().AddDependency(e.taskPolicy)
	}
}

// newSecurityGroups lets the gateway reach each backend's mTLS port and
// nothing else, and every endpoint reach HTTPS (image pulls, Secrets
// Manager, logs).
func (t *MutualTls) newSecurityGroups(vpc awsec2.IVpc, backendPort float64) {
	for _, e := range t.Endpoints() {
		e.SecurityGroup = awsec2.NewSecurityGroup(e.scope, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
			Vpc:              vpc,
			Description:      jsii.String("Tasks of " + e.DnsName),
			AllowAllOutbound: jsii.Bool(false),
		})
		e.SecurityGroup.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)),
			jsii.String("HTTPS: image registries, Secrets Manager, CloudWatch Logs"), nil)
	}
	for _, b := range t.Backends() {
		desc := "mTLS to the backend"
		if b != t.Backend {
			desc = "mTLS to the backend " + b.Name
		}
		t.Gateway.SecurityGroup.AddEgressRule(b.SecurityGroup, awsec2.Port_Tcp(jsii.Number(backendPort)), jsii.String(desc), nil)
		b.SecurityGroup.AddIngressRule(t.Gateway.SecurityGroup, awsec2.Port_Tcp(jsii.Number(backendPort)),
			jsii.String("mTLS from the gateway only"), nil)
	}
}

// newServices runs every task definition in the private subnets, registers
// each backend in its namespace and puts the gateway behind the public load
// balancer. Each service waits for its secret's first export.
func (t *MutualTls) newServices(p *MutualTlsProps, gatewayPort float64) {
	count := p.DesiredCount
	if count == nil {
		count = jsii.Number(1)
	}
	private := &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS}
	for _, e := range t.Endpoints() {
		props := &awsecs.FargateServiceProps{
			Cluster:           t.Cluster,
			TaskDefinition:    e.TaskDefinition,
			DesiredCount:      count,
			SecurityGroups:    &[]awsec2.ISecurityGroup{e.SecurityGroup},
			VpcSubnets:        private,
			AssignPublicIp:    jsii.Bool(false),
			MinHealthyPercent: jsii.Number(100),
			CircuitBreaker:    &awsecs.DeploymentCircuitBreaker{Enable: jsii.Bool(true), Rollback: jsii.Bool(true)},
		}
		e.Service = awsecs.NewFargateService(e.scope, jsii.String("Service"), props)
		e.Service.Node().AddDependency(e.Export)
		if e != t.Gateway {
			e.Service.AssociateCloudMapService(&awsecs.AssociateCloudMapServiceOptions{Service: t.discoveryOf(e)})
		}
	}

	vpc := p.Vpc
	entryPort, protocol := 80.0, awselasticloadbalancingv2.Protocol_TCP
	if p.PublicCertificate != nil {
		entryPort, protocol = 443, awselasticloadbalancingv2.Protocol_TLS
	}
	lbGroup := awsec2.NewSecurityGroup(t, jsii.String("LoadBalancerSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("Public entry of the mTLS gateway"),
		AllowAllOutbound: jsii.Bool(false),
	})
	lbGroup.AddIngressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(entryPort)), jsii.String("Public entry"), nil)
	lbGroup.AddEgressRule(t.Gateway.SecurityGroup, awsec2.Port_Tcp(jsii.Number(gatewayPort)), jsii.String("To the gateway"), nil)
	t.Gateway.SecurityGroup.AddIngressRule(lbGroup, awsec2.Port_Tcp(jsii.Number(gatewayPort)), jsii.String("From the load balancer"), nil)
	const entry = "The load balancer is the system's public entry (the walkthrough's external client); it forwards only to the gateway port"
	nag.Suppress(lbGroup,
		nag.Rule{ID: "AwsSolutions-EC23", Reason: entry},
		nag.Rule{ID: "NIST.800.53.R5-EC2RestrictedCommonPorts", Reason: entry},
		nag.Rule{ID: "HIPAA.Security-EC2RestrictedCommonPorts", Reason: entry},
	)

	deletionProtection := p.LoadBalancerDeletionProtection
	if deletionProtection == nil {
		deletionProtection = jsii.Bool(true)
	}
	t.LoadBalancer = awselasticloadbalancingv2.NewNetworkLoadBalancer(t, jsii.String("LoadBalancer"), &awselasticloadbalancingv2.NetworkLoadBalancerProps{
		Vpc:                vpc,
		InternetFacing:     jsii.Bool(true),
		VpcSubnets:         &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		SecurityGroups:     &[]awsec2.ISecurityGroup{lbGroup},
		DeletionProtection: deletionProtection,
		CrossZoneEnabled:   jsii.Bool(true),
	})
	if !*deletionProtection {
		const off = "Deletion protection was switched off by the caller (LoadBalancerDeletionProtection), typically for a sandbox torn down with the stack"
		nag.Suppress(t.LoadBalancer,
			nag.Rule{ID: "NIST.800.53.R5-ELBDeletionProtectionEnabled", Reason: off},
			nag.Rule{ID: "HIPAA.Security-ELBDeletionProtectionEnabled", Reason: off},
		)
	}
	if p.PublicCertificate != nil {
		t.logAccessLogs()
	} else {
		// "Access logs are created only if the load balancer has a TLS
		// listener"
		// (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-access-logs.html):
		// a bucket for the plain TCP entry would stay empty.
		reason := "The public entry is a TCP listener and Network Load Balancers write access logs for TLS listeners only, so a log bucket would stay empty; set PublicCertificate for a TLS entry with access logs"
		if t.FlowLog != nil {
			reason += "; the VPC flow log records this traffic"
		}
		nag.Suppress(t.LoadBalancer,
			nag.Rule{ID: "AwsSolutions-ELB2", Reason: reason},
			nag.Rule{ID: "NIST.800.53.R5-ELBLoggingEnabled", Reason: reason},
			nag.Rule{ID: "HIPAA.Security-ELBLoggingEnabled", Reason: reason},
		)
	}
	listenerProps := &awselasticloadbalancingv2.BaseNetworkListenerProps{Port: jsii.Number(entryPort), Protocol: protocol}
	if p.PublicCertificate != nil {
		listenerProps.Certificates = &[]awselasticloadbalancingv2.IListenerCertificate{awselasticloadbalancingv2.ListenerCertificate_FromCertificateManager(p.PublicCertificate)}
		listenerProps.SslPolicy = awselasticloadbalancingv2.SslPolicy_RECOMMENDED_TLS
	}
	listener := t.LoadBalancer.AddListener(jsii.String("Entry"), listenerProps)
	if p.PublicCertificate == nil {
		const plain = "No PublicCertificate was given: the public entry is plain TCP on 80 as in the walkthrough; mTLS protects the hop inside the VPC"
		nag.Suppress(listener,
			nag.Rule{ID: "NIST.800.53.R5-ELBv2ACMCertificateRequired", Reason: plain},
			nag.Rule{ID: "HIPAA.Security-ELBv2ACMCertificateRequired", Reason: plain},
		)
	}
	listener.AddTargets(jsii.String("Gateway"), &awselasticloadbalancingv2.AddNetworkTargetsProps{
		Port:    jsii.Number(gatewayPort),
		Targets: &[]awselasticloadbalancingv2.INetworkLoadBalancerTarget{t.Gateway.Service},
		HealthCheck: &awselasticloadbalancingv2.HealthCheck{
			Protocol: awselasticloadbalancingv2.Protocol_TCP,
			Interval: awscdk.Duration_Seconds(jsii.Number(10)),
		},
		DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(30)),
	})
}

// discoveryOf is the Cloud Map service backend b registers in, under its
// certificate's name (b.Name in b.Domain), created on first use.
func (t *MutualTls) discoveryOf(b *Endpoint) awsservicediscovery.Service {
	if b.discovery == nil {
		id := "BackendDiscovery"
		if b != t.Backend {
			id = "AdditionalBackendDiscovery-" + b.Name
		}
		b.discovery = t.Namespaces[b.Domain].CreateService(jsii.String(id), &awsservicediscovery.DnsServiceProps{
			Name:          jsii.String(b.Name),
			DnsRecordType: awsservicediscovery.DnsRecordType_A,
			DnsTtl:        awscdk.Duration_Seconds(jsii.Number(10)),
			Description:   jsii.String("Tasks of " + b.DnsName),
		})
	}
	return b.discovery
}

// logAccessLogs sends the load balancer's access logs (of its TLS listener:
// NLBs log nothing else) to a new access-log bucket. The L2's LogAccessLogs needs a concrete region (it grants the
// regional ELB account), so an environment-agnostic stack could not use it;
// NLB logs are delivered by delivery.logs.amazonaws.com in every region.
func (t *MutualTls) logAccessLogs() {
	const prefix = "nlb"
	stack := awscdk.Stack_Of(t)
	bucket := defaults.AccessLogsBucket(t, "LoadBalancerAccessLogs")
	delivery := awsiam.NewServicePrincipal(jsii.String("delivery.logs.amazonaws.com"), nil)
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("NlbAccessLogsWrite"),
		Principals: &[]awsiam.IPrincipal{delivery},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  jsii.Strings(*bucket.ArnForObjects(jsii.String(prefix + "/AWSLogs/" + *stack.Account() + "/*"))),
		Conditions: &map[string]any{"StringEquals": map[string]any{
			"s3:x-amz-acl":      "bucket-owner-full-control",
			"aws:SourceAccount": stack.Account(),
		}},
	}))
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("NlbAccessLogsAcl"),
		Principals: &[]awsiam.IPrincipal{delivery},
		Actions:    jsii.Strings("s3:GetBucketAcl"),
		Resources:  jsii.Strings(*bucket.BucketArn()),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()}},
	}))
	t.LoadBalancer.SetAttribute(jsii.String("access_logs.s3.enabled"), jsii.String("true"))
	t.LoadBalancer.SetAttribute(jsii.String("access_logs.s3.bucket"), bucket.BucketName())
	t.LoadBalancer.SetAttribute(jsii.String("access_logs.s3.prefix"), jsii.String(prefix))
	// The load balancer checks its access to the bucket when logging is set.
	t.LoadBalancer.Node().AddDependency(bucket.Policy())
}
