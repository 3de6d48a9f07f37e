package mtls

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"

	"github.com/securestacks/securestacks/constructs/privateca"
	"github.com/securestacks/securestacks/internal/mtlssecret"
)

// Plane selects the data plane that carries the mTLS traffic.
type Plane string

// The data planes.
const (
	// PlaneEnvoy (the default) runs a self-managed Envoy, configured by the
	// bootstrap this construct renders, next to each service on ECS Fargate.
	// It deploys today.
	PlaneEnvoy Plane = "envoy"
	// PlaneAppMesh is the walkthrough's design on AWS App Mesh. AWS App Mesh
	// reached end of support on 2026-09-30: it synthesizes (with a warning)
	// but cannot be deployed to new resources.
	PlaneAppMesh Plane = "appmesh"
)

// Images, pinned by version and by the digest of the multi-platform image
// index (arm64 and amd64), so that a re-tagged image cannot run. They are
// pulled at deploy time from Docker Hub, their only registry, or through an
// ECR pull-through cache with DockerHubCredentials; nothing is built during
// synth.
//
// The digests were not read from Docker Hub here (this machine reaches no
// registry): each is the one several unrelated public projects pin for the
// same tag. Confirm before the first deploy with
//
//	docker buildx imagetools inspect envoyproxy/envoy:v1.39.3
//
// A wrong digest cannot run another image: the task fails to start.
const (
	// DefaultEnvoyImage is the official Envoy image (Ubuntu-based, with sh
	// and openssl for the start script), a supported release line.
	DefaultEnvoyImage = "envoyproxy/envoy:v1.39.3@sha256:dd85940439de19a0b6ae8419610363ea0ad351d9a994ea007161c206ec1e1865"
	// DefaultAppImage is the sample backend application: it answers every
	// request with BackendText.
	DefaultAppImage = "hashicorp/http-echo:1.0.0@sha256:fcb75f691c8b0414d670ae570240cbf95502cc18a9ba57e982ecac589760a186"
	// DefaultAppMeshEnvoyImage is the App Mesh Envoy of PlaneAppMesh.
	DefaultAppMeshEnvoyImage = "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.12.1-prod"
)

// Defaults of MutualTlsProps.
const (
	DefaultDomain      = "mtls.internal"
	DefaultGatewayName = "colorgateway"
	DefaultBackendName = "colorteller"
	DefaultBackendText = "yellow"
	// DefaultRenewBeforeDays matches ACM's default DaysBeforeExpiry.
	DefaultRenewBeforeDays = mtlssecret.DefaultRenewBeforeDays
)

// EndpointProps configures one endpoint: its name, its CA hierarchy and its
// ACM private certificate.
type EndpointProps struct {
	// Name is the endpoint's DNS label; its certificate is for
	// Name + "." + Domain. Default DefaultGatewayName or DefaultBackendName;
	// required in AdditionalBackends. Names are unique across all
	// endpoints.
	Name *string
	// Domain overrides MutualTlsProps.Domain for an endpoint of
	// AdditionalBackends: its certificate is for Name + "." + Domain and it
	// registers in a private DNS namespace of that name (created once per
	// distinct domain). Default nil: MutualTlsProps.Domain. Conflicts with
	// Gateway and Backend, which always use MutualTlsProps.Domain.
	Domain *string
	// CaHierarchy issues the endpoint's certificate. Default: a new flat
	// privateca.CaHierarchy (one root CA, which issues the certificate) per
	// endpoint, the walkthrough's separate hierarchies and two CAs in all.
	// Pass the same hierarchy to several endpoints to share it. Its issuing
	// CA must be valid at least MinIssuingCaValidityDays(RenewBefore).
	// Conflicts with CaHierarchyProps.
	CaHierarchy *privateca.CaHierarchy
	// CaHierarchyProps configure the new hierarchy, as given (Flat false is
	// root and subordinate: two CAs for this endpoint). Default nil: a flat
	// hierarchy with privateca's other defaults. Conflicts with CaHierarchy.
	CaHierarchyProps *privateca.CaHierarchyProps
	// KeyAlgorithm of the endpoint's certificate. Default RSA_2048, the
	// walkthrough's.
	KeyAlgorithm awscertificatemanager.KeyAlgorithm
}

// MutualTlsProps configures a MutualTls.
type MutualTlsProps struct {
	// Vpc hosts the services; they run in its private subnets (with
	// egress: the images come from public registries), the load balancer in
	// its public ones. Default: a new VPC of two AZs with NatGateways NAT
	// gateways, flow logs, and interface endpoints for Secrets Manager and
	// CloudWatch Logs (plus ACM, ACM Private CA and App Mesh for
	// PlaneAppMesh). Conflicts with NatGateways.
	Vpc awsec2.IVpc
	// NatGateways of the new VPC. Default 1. Conflicts with Vpc.
	NatGateways *float64
	// Cluster runs the services. Default: a new cluster with Container
	// Insights in Vpc.
	Cluster awsecs.ICluster
	// Domain is the private DNS namespace of the services and the suffix of
	// the certificate names. Default DefaultDomain.
	Domain *string
	// Plane selects the data plane. Default PlaneEnvoy.
	Plane Plane

	// Gateway is the public entry and the mTLS client. Default: all defaults
	// with Name DefaultGatewayName.
	Gateway *EndpointProps
	// Backend is the mTLS server in front of the application. Default: all
	// defaults with Name DefaultBackendName.
	Backend *EndpointProps
	// AdditionalBackends are further mTLS servers, each configured like
	// Backend (Name is required) and run like it: its own CA hierarchy
	// (unless shared through CaHierarchy), certificate, secret, export, ECS
	// service and Envoy, registered as Name in its domain. Each requires the
	// gateway's client certificate; the gateway sends requests under
	// /Name/ to it (prefix rewritten to "/") with its own upstream TLS
	// context, and every other request to Backend. Its application answers
	// its Name. Default nil: the two-endpoint system. Conflicts with
	// PlaneAppMesh, which keeps the walkthrough's two endpoints.
	AdditionalBackends []*EndpointProps

	// EnvoyImage is the proxy image of PlaneEnvoy, and the image of the
	// start-script init container of PlaneAppMesh. Default DefaultEnvoyImage
	// from Docker Hub, or through the cache of DockerHubCredentials.
	EnvoyImage awsecs.ContainerImage
	// DockerHubCredentials is a Secrets Manager secret of this account and
	// region whose name starts with "ecr-pullthroughcache/", holding
	// {"username", "accessToken"} of a Docker Hub account. With it the
	// construct creates an ECR pull-through cache rule for Docker Hub, and
	// the tasks pull the default Envoy and application images through it:
	// Docker Hub is asked once per image. Default: none, and the tasks pull
	// them from Docker Hub anonymously through the NAT gateway, which Docker
	// Hub limits to about 10 pulls an hour per IP address; synth warns.
	// Conflicts with giving both EnvoyImage and AppImage (nothing would use
	// the cache).
	DockerHubCredentials awssecretsmanager.ISecret
	// AppImage is the backend application. It must accept the arguments
	// -listen=127.0.0.1:AppPort and -text=BackendText (as http-echo does).
	// Default DefaultAppImage.
	AppImage awsecs.ContainerImage
	// AppMeshEnvoyImage is the proxy of PlaneAppMesh. Default
	// DefaultAppMeshEnvoyImage. Conflicts with PlaneEnvoy.
	//
	// EnvoyImage, AppImage and AppMeshEnvoyImage are pulled with each
	// endpoint's ExecutionRole, which takes no CDK grants (its one managed
	// policy is all it may do): the pull permission an image from a private
	// ECR repository (ContainerImage_FromEcrRepository, _FromAsset) would add
	// is dropped. Grant it yourself, for example
	// repository.GrantPull(e.ExecutionRole) for each e of Endpoints().
	AppMeshEnvoyImage awsecs.ContainerImage
	// BackendText is what Backend answers. Default DefaultBackendText.
	// Each of AdditionalBackends answers its Name.
	BackendText *string
	// DesiredCount of each service. Default 1.
	DesiredCount *float64

	// SecretsKey encrypts the endpoint secrets. Default: a new KMS key with
	// rotation.
	SecretsKey awskms.IKey
	// LogsKey encrypts the log groups. Default: a new key that CloudWatch
	// Logs may use.
	LogsKey awskms.IKey
	// AlarmTopic receives the renewal alarms. Default: a new KMS-encrypted
	// topic (subscribe to it to be told).
	AlarmTopic awssns.ITopic
	// PublicCertificate makes the public entry a TLS listener on 443 with
	// this (public) certificate, with access logs. Default nil: TCP on 80,
	// the walkthrough's plain HTTP entry, for environments without a domain
	// of their own, without access logs (NLBs write them for TLS listeners
	// only).
	PublicCertificate awscertificatemanager.ICertificate
	// LoadBalancerDeletionProtection protects the public load balancer from
	// deletion. Default true; disable it before destroying the stack.
	LoadBalancerDeletionProtection *bool

	// RenewBefore is how long before expiry the renew function renews a
	// certificate, in whole days from 1 to 365. Default
	// DefaultRenewBeforeDays: set it to the account's ACM DaysBeforeExpiry.
	RenewBefore awscdk.Duration
}
