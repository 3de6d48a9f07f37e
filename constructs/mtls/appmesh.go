package mtls

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsacmpca"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsappmesh"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawsacmpca"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/internal/mtlssecret"
)

// App Mesh plane constants.
const (
	// AppMeshProxyUser is the uid the App Mesh Envoy runs as, and the uid
	// whose traffic the proxy configuration lets through unredirected.
	AppMeshProxyUser = "1337"
	// KeyDir is where the init container writes the certificate files the
	// App Mesh Envoy reads (the walkthrough's /keys).
	KeyDir = "/keys"
	// InitContainerName is the container that runs the start script.
	InitContainerName = "mtls-init"
)

// newAppMeshPlane builds the walkthrough's design: a mesh, a virtual gateway
// with a gateway route, a virtual service and a virtual node with Cloud Map
// discovery. The backend's listener uses TLS STRICT with its ACM certificate
// (App Mesh's native ACM integration) and requires the gateway's client
// certificate, validated against the gateway CA's file; the gateway's client
// policy enforces TLS, trusts the backend CA through ACM Private CA and
// presents the exported certificate from files. An init container (the
// official Envoy image, for sh and openssl) writes those files, since the
// App Mesh Envoy image has no openssl and we build no image.
func (t *MutualTls) newAppMeshPlane(p *MutualTlsProps) {
	awscdk.Annotations_Of(t).AddWarningV2(jsii.String(AppMeshWarningId), jsii.String(AppMeshEndOfSupportWarning), nil)
	initImage := p.EnvoyImage
	if initImage == nil {
		initImage = t.defaultImage(DefaultEnvoyImage)
	}
	meshEnvoy := p.AppMeshEnvoyImage
	if meshEnvoy == nil {
		meshEnvoy = awsecs.ContainerImage_FromRegistry(jsii.String(DefaultAppMeshEnvoyImage), nil)
	}
	t.newSecurityGroups(p.Vpc, AppPort)

	t.Mesh = awsappmesh.NewMesh(t, jsii.String("Mesh"), &awsappmesh.MeshProps{EgressFilter: awsappmesh.MeshFilterType_DROP_ALL})
	peerFile := jsii.String(KeyDir + "/" + mtlssecret.FilePeerTrustBundle)
	t.VirtualNode = awsappmesh.NewVirtualNode(t, jsii.String("VirtualNode"), &awsappmesh.VirtualNodeProps{
		Mesh:             t.Mesh,
		ServiceDiscovery: awsappmesh.ServiceDiscovery_CloudMap(t.discoveryOf(t.Backend), nil, ""),
		Listeners: &[]awsappmesh.VirtualNodeListener{awsappmesh.VirtualNodeListener_Http(&awsappmesh.HttpVirtualNodeListenerOptions{
			Port: jsii.Number(AppPort),
			Tls: &awsappmesh.ListenerTlsOptions{
				Mode:        awsappmesh.TlsMode_STRICT,
				Certificate: awsappmesh.TlsCertificate_Acm(t.Backend.Certificate),
				MutualTlsValidation: &awsappmesh.MutualTlsValidation{
					Trust:                   awsappmesh.MutualTlsValidationTrust_File(peerFile),
					SubjectAlternativeNames: awsappmesh.SubjectAlternativeNames_MatchingExactly(jsii.String(t.Gateway.DnsName)),
				},
			},
		})},
	})
	t.VirtualService = awsappmesh.NewVirtualService(t, jsii.String("VirtualService"), &awsappmesh.VirtualServiceProps{
		VirtualServiceName:     jsii.String(t.Backend.DnsName),
		VirtualServiceProvider: awsappmesh.VirtualServiceProvider_VirtualNode(t.VirtualNode),
	})
	backendCa := trustedCa(t, t.Backend)
	t.VirtualGateway = awsappmesh.NewVirtualGateway(t, jsii.String("VirtualGateway"), &awsappmesh.VirtualGatewayProps{
		Mesh:      t.Mesh,
		Listeners: &[]awsappmesh.VirtualGatewayListener{awsappmesh.VirtualGatewayListener_Http(&awsappmesh.HttpGatewayListenerOptions{Port: jsii.Number(GatewayPort)})},
		BackendDefaults: &awsappmesh.BackendDefaults{TlsClientPolicy: &awsappmesh.TlsClientPolicy{
			Enforce: jsii.Bool(true),
			Validation: &awsappmesh.TlsValidation{
				Trust:                   awsappmesh.TlsValidationTrust_Acm(&[]interfacesawsacmpca.ICertificateAuthorityRef{backendCa}),
				SubjectAlternativeNames: awsappmesh.SubjectAlternativeNames_MatchingExactly(jsii.String(t.Backend.DnsName)),
			},
			MutualTlsCertificate: awsappmesh.MutualTlsCertificate_File(
				jsii.String(KeyDir+"/"+mtlssecret.FileCertificateChain), jsii.String(KeyDir+"/"+mtlssecret.FilePrivateKey)),
		}},
	})
	t.GatewayRoute = t.VirtualGateway.AddGatewayRoute(jsii.String("Route"), &awsappmesh.GatewayRouteBaseProps{
		RouteSpec: awsappmesh.GatewayRouteSpec_Http(&awsappmesh.HttpGatewayRouteSpecOptions{RouteTarget: t.VirtualService}),
	})

	keys := &awsecs.Volume{Name: jsii.String("keys")}

	// Backend: the app behind the App Mesh Envoy, which the proxy
	// configuration puts in the traffic path.
	backendRole := t.newMeshTaskRole(t.Backend, t.VirtualNode.VirtualNodeArn(),
		statement("ListenerCertificate", []string{"acm:ExportCertificate"}, []*string{t.Backend.Certificate.CertificateArn()}))
	// Task definitions of this plane have their own ids, so that the
	// Control Tower allowlist entries they need (root init container,
	// writable App Mesh Envoy) cannot cover the Envoy plane's.
	t.newTaskDefinition(t.Backend, "MeshTaskDefinition", backendRole, awsecs.NewAppMeshProxyConfiguration(&awsecs.AppMeshProxyConfigurationConfigProps{
		ContainerName: jsii.String(ProxyContainerName),
		Properties: &awsecs.AppMeshProxyConfigurationProps{
			AppPorts:         &[]*float64{jsii.Number(AppPort)},
			ProxyIngressPort: jsii.Number(15000),
			ProxyEgressPort:  jsii.Number(15001),
			IgnoredUID:       jsii.Number(1337),
			EgressIgnoredIPs: jsii.Strings("169.254.170.2", "169.254.169.254"),
		},
	}), &[]*awsecs.Volume{keys})
	backendInit := t.Backend.TaskDefinition.AddContainer(jsii.String(InitContainerName), &awsecs.ContainerDefinitionOptions{
		Image:      initImage,
		EntryPoint: jsii.Strings("/bin/sh", "-c"),
		Command:    jsii.Strings(mtlssecret.TrustBundleScript, "mtls-start", "true"),
		// Fargate mounts the task's volumes root-owned: only root can write
		// the file the App Mesh Envoy (uid 1337) then reads.
		User:                   jsii.String("0"),
		ReadonlyRootFilesystem: jsii.Bool(true),
		MemoryLimitMiB:         jsii.Number(InitMemoryMiB),
		Essential:              jsii.Bool(false),
		Logging:                awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{LogGroup: t.Backend.LogGroup, StreamPrefix: jsii.String(InitContainerName)}),
	})
	addEnvironment(backendInit, map[string]*string{
		mtlssecret.EnvPeerTrustBundle: t.Gateway.CaHierarchy.TrustBundle,
		mtlssecret.EnvKeyDir:          jsii.String(KeyDir),
	})
	backendInit.AddMountPoints(&awsecs.MountPoint{SourceVolume: keys.Name, ContainerPath: jsii.String(KeyDir), ReadOnly: jsii.Bool(false)})
	t.addMeshEnvoy(t.Backend, meshEnvoy, t.VirtualNode.VirtualNodeArn(), backendInit, keys, nil, meshBackendProxy)
	t.addBackendApp(p, t.Backend, "127.0.0.1")

	// Gateway: the virtual gateway's Envoy, standalone.
	var caArns []*string
	for _, ca := range []*string{t.Backend.CaHierarchy.RootCaArn, t.Backend.CaHierarchy.IssuingCaArn} {
		if ca != nil {
			caArns = append(caArns, ca)
		}
	}
	gatewayRole := t.newMeshTaskRole(t.Gateway, t.VirtualGateway.VirtualGatewayArn(),
		statement("TrustedCa", []string{"acm-pca:GetCertificateAuthorityCertificate"}, caArns))
	t.newTaskDefinition(t.Gateway, "MeshTaskDefinition", gatewayRole, nil, &[]*awsecs.Volume{keys})
	gatewayInit := t.Gateway.TaskDefinition.AddContainer(jsii.String(InitContainerName), &awsecs.ContainerDefinitionOptions{
		Image:      initImage,
		EntryPoint: jsii.Strings("/bin/sh", "-c"),
		Command:    jsii.Strings(mtlssecret.StartScript, "mtls-start", "true"),
		// Fargate mounts the task's volumes root-owned: root writes the files
		// and gives them to the App Mesh Envoy's uid (MTLS_KEY_OWNER).
		User:                   jsii.String("0"),
		ReadonlyRootFilesystem: jsii.Bool(true),
		MemoryLimitMiB:         jsii.Number(InitMemoryMiB),
		Essential:              jsii.Bool(false),
		Logging:                awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{LogGroup: t.Gateway.LogGroup, StreamPrefix: jsii.String(InitContainerName)}),
	})
	addEnvironment(gatewayInit, map[string]*string{
		mtlssecret.EnvPeerTrustBundle: t.Backend.CaHierarchy.TrustBundle,
		mtlssecret.EnvKeyDir:          jsii.String(KeyDir),
		// Root writes the files, the proxy's uid owns them.
		mtlssecret.EnvKeyOwner: jsii.String(AppMeshProxyUser),
	})
	addSecrets(gatewayInit, t.Gateway)
	t.readers(t.Gateway)[t.Gateway.ExecutionRole.RoleArn()] = struct{}{} // its managed policy has the IAM half
	gatewayInit.AddMountPoints(&awsecs.MountPoint{SourceVolume: keys.Name, ContainerPath: jsii.String(KeyDir), ReadOnly: jsii.Bool(false)})
	t.addMeshEnvoy(t.Gateway, meshEnvoy, t.VirtualGateway.VirtualGatewayArn(), gatewayInit, keys, jsii.Number(GatewayPort), meshGatewayProxy)

	t.newServices(p, GatewayPort)
}

// addMeshEnvoy adds the App Mesh Envoy for resourceArn, started once init
// has written the files, reading them from the keys volume.
func (t *MutualTls) addMeshEnvoy(e *Endpoint, image awsecs.ContainerImage, resourceArn *string, init awsecs.ContainerDefinition, keys *awsecs.Volume, port *float64, memory float64) {
	var ports *[]*awsecs.PortMapping
	if port != nil {
		ports = &[]*awsecs.PortMapping{{ContainerPort: port, Protocol: awsecs.Protocol_TCP}}
	}
	envoy := e.TaskDefinition.AddContainer(jsii.String(ProxyContainerName), &awsecs.ContainerDefinitionOptions{
		Image:          image,
		User:           jsii.String(AppMeshProxyUser),
		MemoryLimitMiB: jsii.Number(memory),
		Environment:    &map[string]*string{"APPMESH_RESOURCE_ARN": resourceArn},
		PortMappings:   ports,
		Essential:      jsii.Bool(true),
		Logging:        awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{LogGroup: e.LogGroup, StreamPrefix: jsii.String(ProxyContainerName)}),
	})
	envoy.AddMountPoints(&awsecs.MountPoint{SourceVolume: keys.Name, ContainerPath: jsii.String(KeyDir), ReadOnly: jsii.Bool(true)})
	envoy.AddContainerDependencies(&awsecs.ContainerDependency{Container: init, Condition: awsecs.ContainerDependencyCondition_SUCCESS})
}

// newMeshTaskRole returns a task role for e that may fetch resourceArn's
// configuration from App Mesh, plus extra.
func (t *MutualTls) newMeshTaskRole(e *Endpoint, resourceArn *string, extra awsiam.PolicyStatement) awsiam.IRole {
	scope := e.scope
	role := awsiam.NewRole(scope, jsii.String("TaskRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil),
		Description: jsii.String("App Mesh Envoy of " + e.Name),
	})
	policy := awsiam.NewManagedPolicy(scope, jsii.String("TaskPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Stream the App Mesh configuration of " + e.Name),
		Roles:       &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{
			statement("Mesh", []string{"appmesh:StreamAggregatedResources"}, []*string{resourceArn}),
			extra,
		},
	})
	e.taskPolicy = policy
	return role.WithoutPolicyUpdates(nil)
}

// trustedCa is the CA a client of e trusts through ACM Private CA: e's root
// CA, or its issuing CA when the root lives outside AWS.
func trustedCa(t *MutualTls, e *Endpoint) awsacmpca.ICertificateAuthority {
	if e.CaHierarchy.RootCaArn == nil {
		return e.CaHierarchy.IssuingCa
	}
	return awsacmpca.CertificateAuthority_FromCertificateAuthorityArn(e.scope, jsii.String("TrustedRootCa"), e.CaHierarchy.RootCaArn)
}
