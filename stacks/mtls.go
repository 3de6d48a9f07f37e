package stacks

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsacmpca"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/mtls"
	"github.com/securestacks/securestacks/constructs/privateca"
	"github.com/securestacks/securestacks/internal/pcaimport"
)

// MtlsConfig is the "mtls" section of an environment. A missing section
// means every default: the Envoy plane, domain mtls.internal, one RSA 2048
// root CA per endpoint (two CAs, as the walkthrough).
type MtlsConfig struct {
	// Plane is "envoy" (default, deployable) or "appmesh" (the walkthrough's
	// design; App Mesh reached end of support, so it only synthesizes).
	Plane string `json:"plane,omitempty"`
	// Domain is the private DNS namespace and certificate name suffix.
	// Default mtls.internal.
	Domain string `json:"domain,omitempty"`
	// GatewayName and BackendName are the endpoints' DNS labels. Defaults
	// colorgateway and colorteller.
	GatewayName string `json:"gatewayName,omitempty"`
	BackendName string `json:"backendName,omitempty"`
	// AdditionalBackends are further mTLS servers behind the gateway, each
	// with its own CA hierarchy (configured by Ca), certificate, secret and
	// service; the gateway routes /<name>/ to each. Envoy plane only.
	// Default none: the two-endpoint system.
	AdditionalBackends []MtlsBackendConfig `json:"additionalBackends,omitempty"`
	// CertificateKeyAlgorithm of the endpoint certificates: RSA_2048
	// (default), EC_prime256v1 or EC_secp384r1.
	CertificateKeyAlgorithm string `json:"certificateKeyAlgorithm,omitempty"`
	// Ca configures both endpoints' CA hierarchies.
	Ca *MtlsCaConfig `json:"ca,omitempty"`
	// RenewBeforeDays: renew this many days before expiry. Default 45.
	RenewBeforeDays int `json:"renewBeforeDays,omitempty"`
	// DesiredCount of each service. Default 1.
	DesiredCount int `json:"desiredCount,omitempty"`
	// PublicCertificateArn makes the public entry TLS on 443 with this ACM
	// certificate. Default: plain TCP on 80.
	PublicCertificateArn string `json:"publicCertificateArn,omitempty"`
	// LoadBalancerDeletionProtection. Default true.
	LoadBalancerDeletionProtection *bool `json:"loadBalancerDeletionProtection,omitempty"`
	// AlarmEmail subscribes this address to the renewal alarms. Default none.
	AlarmEmail string `json:"alarmEmail,omitempty"`
	// NatGateways of the VPC (image pulls from public registries). Default 1.
	NatGateways int `json:"natGateways,omitempty"`
	// DockerHubCredentialsSecretArn is the complete ARN of a secret named
	// "ecr-pullthroughcache/..." holding a Docker Hub username and access
	// token: the Envoy and application images are then pulled through an ECR
	// pull-through cache the stack creates. Default: anonymous Docker Hub
	// pulls through the NAT gateway (rate-limited; synth warns).
	DockerHubCredentialsSecretArn string `json:"dockerHubCredentialsSecretArn,omitempty"`

	// externalCas are the hierarchies of ca.externalRoot by endpoint name,
	// set while the stack is built.
	externalCas map[string]*privateca.CaHierarchy
}

// MtlsBackendConfig is one entry of MtlsConfig.AdditionalBackends.
type MtlsBackendConfig struct {
	// Name is the backend's DNS label. Required; unique among the
	// endpoints (gatewayName, backendName and the other entries).
	Name string `json:"name"`
	// Domain of its certificate and private DNS namespace. Default: the
	// section's domain.
	Domain string `json:"domain,omitempty"`
}

// MtlsCaConfig configures the CA hierarchies.
type MtlsCaConfig struct {
	// Flat: root CAs issue the certificates themselves (the walkthrough's
	// two CAs, about 800 USD a month). Default true; false gives each
	// endpoint a root and a subordinate issuing CA (AWS's best practice,
	// four CAs).
	Flat *bool `json:"flat,omitempty"`
	// KeyAlgorithm of the CAs: RSA_2048 (default), RSA_3072, RSA_4096,
	// EC_prime256v1, EC_secp384r1, EC_secp521r1.
	KeyAlgorithm string `json:"keyAlgorithm,omitempty"`
	// RootValidityDays (default 3650) and SubordinateValidityDays (default
	// 1825, shorter than the root's; flat: false only). The issuing CA (the
	// root when flat) must be valid at least mtls.MinIssuingCaValidityDays.
	RootValidityDays        int `json:"rootValidityDays,omitempty"`
	SubordinateValidityDays int `json:"subordinateValidityDays,omitempty"`
	// Revocation is "none" (default), "crl" or "ocsp".
	Revocation string `json:"revocation,omitempty"`
	// KeyStorageSecurityStandard of the CAs: FIPS_140_2_LEVEL_2_OR_HIGHER
	// (default: accepted where level 3 is refused), FIPS_140_2_LEVEL_3_OR_HIGHER
	// or CCPC_LEVEL_1_OR_HIGHER (China Regions).
	KeyStorageSecurityStandard string `json:"keyStorageSecurityStandard,omitempty"`
	// ExternalRoot keeps the root outside AWS Private CA (offline or in
	// CloudHSM, the portable-root path): AWS Private CA holds only
	// subordinates, which the external root signs. Conflicts with flat: true,
	// rootValidityDays and subordinateValidityDays (the root chooses).
	// Default nil: the roots are CAs of AWS Private CA.
	ExternalRoot *MtlsExternalRootConfig `json:"externalRoot,omitempty"`
}

// MtlsExternalRootConfig is mtls.ca.externalRoot. Two deploys (README.md,
// "Portable root CA"): the first creates the subordinate CAs in
// PENDING_CERTIFICATE and nothing else; `securestacks pca csr`, the root's
// signature and `securestacks pca import` install their certificates; the
// second, with imported: true, deploys the mTLS system on them.
type MtlsExternalRootConfig struct {
	// CertificateChain is the PEM chain of the external root, the
	// subordinates' issuer first and the root last (Root_CA.crt in the post):
	// what peers trust. Exactly one of certificateChain and
	// certificateChainFile.
	CertificateChain string `json:"certificateChain,omitempty"`
	// CertificateChainFile is a file holding that chain, relative to the
	// directory cdk runs in.
	CertificateChainFile string `json:"certificateChainFile,omitempty"`
	// Shared: one subordinate CA issues every endpoint's certificate (one CA
	// and one signature by the root). Default false: one subordinate per
	// endpoint, as the managed hierarchies are.
	Shared bool `json:"shared,omitempty"`
	// Imported: every subordinate has its certificate (securestacks pca
	// import), so the mTLS system deploys. Default false: only the
	// subordinates are deployed, waiting in PENDING_CERTIFICATE.
	Imported bool `json:"imported,omitempty"`
}

// chain returns the PEM chain, read from certificateChainFile if set.
func (x *MtlsExternalRootConfig) chain() (field, pem string, err error) {
	if x.CertificateChainFile == "" {
		return "certificateChain", x.CertificateChain, nil
	}
	b, err := os.ReadFile(x.CertificateChainFile)
	return "certificateChainFile", string(b), err
}

// validate checks the section at key (its dotted path).
func (x *MtlsExternalRootConfig) validate(key string) error {
	if (x.CertificateChain == "") == (x.CertificateChainFile == "") {
		return errorf(key+".certificateChain", "expected exactly one of certificateChain (the PEM chain of the external root, root last) and certificateChainFile")
	}
	field, pem, err := x.chain()
	if err != nil {
		return errorf(key+"."+field, "expected a readable PEM file: %v", err)
	}
	if _, err := pcaimport.ParseChain([]byte(pem)); err != nil {
		return errorf(key+"."+field, "expected the PEM chain of the external root, the root last: %v", err)
	}
	return nil
}

var (
	mtlsLabelRe  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	mtlsDomainRe = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z]{2,63}$`)
	acmArnRe     = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$`)
	emailRe      = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// validate checks the section; key is its dotted path, such as
// "environments.prod.mtls". A nil section is valid.
func (c *MtlsConfig) validate(key string) error {
	if c == nil {
		return nil
	}
	switch c.Plane {
	case "", string(mtls.PlaneEnvoy), string(mtls.PlaneAppMesh):
	default:
		return errorf(key+".plane", "expected envoy or appmesh, got %q", c.Plane)
	}
	if c.Domain != "" && (!mtlsDomainRe.MatchString(c.Domain) || len(c.Domain) > 200) {
		return errorf(key+".domain", "expected a lower-case DNS domain such as mtls.internal, got %q", c.Domain)
	}
	for _, f := range []struct{ field, value string }{{"gatewayName", c.GatewayName}, {"backendName", c.BackendName}} {
		if f.value != "" && !mtlsLabelRe.MatchString(f.value) {
			return errorf(key+"."+f.field, "expected a lower-case DNS label such as colorteller, got %q", f.value)
		}
	}
	gw, be := c.GatewayName, c.BackendName
	if gw == "" {
		gw = mtls.DefaultGatewayName
	}
	if be == "" {
		be = mtls.DefaultBackendName
	}
	if gw == be {
		return errorf(key+".backendName", "expected a name other than the gateway's %q", gw)
	}
	if len(c.AdditionalBackends) > 0 && c.Plane == string(mtls.PlaneAppMesh) {
		return errorf(key+".additionalBackends", "expected no entry with plane appmesh (the end-of-support App Mesh plane keeps two endpoints), or plane envoy")
	}
	taken := map[string]string{gw: "the gateway's", be: "the backend's"}
	for i, b := range c.AdditionalBackends {
		at := fmt.Sprintf("%s.additionalBackends[%d]", key, i)
		if !mtlsLabelRe.MatchString(b.Name) {
			return errorf(at+".name", "expected a lower-case DNS label such as colorteller-blue, got %q", b.Name)
		}
		if other, ok := taken[b.Name]; ok {
			return errorf(at+".name", "expected a name other than %s %q", other, b.Name)
		}
		taken[b.Name] = fmt.Sprintf("additionalBackends[%d]'s", i)
		if b.Domain != "" && (!mtlsDomainRe.MatchString(b.Domain) || len(b.Domain) > 200) {
			return errorf(at+".domain", "expected a lower-case DNS domain such as blue.internal, got %q", b.Domain)
		}
	}
	switch c.CertificateKeyAlgorithm {
	case "", "RSA_2048", "EC_prime256v1", "EC_secp384r1":
	default:
		return errorf(key+".certificateKeyAlgorithm", "expected RSA_2048, EC_prime256v1 or EC_secp384r1, got %q", c.CertificateKeyAlgorithm)
	}
	if c.RenewBeforeDays != 0 && (c.RenewBeforeDays < 1 || c.RenewBeforeDays > 365) {
		return errorf(key+".renewBeforeDays", "expected a whole number from 1 to 365, got %d", c.RenewBeforeDays)
	}
	if c.DesiredCount < 0 || c.DesiredCount > 10 {
		return errorf(key+".desiredCount", "expected a whole number from 1 to 10, got %d", c.DesiredCount)
	}
	if c.NatGateways < 0 || c.NatGateways > 3 {
		return errorf(key+".natGateways", "expected a whole number from 1 to 3, got %d", c.NatGateways)
	}
	if err := checkDockerHubSecret(key+".dockerHubCredentialsSecretArn", c.DockerHubCredentialsSecretArn); err != nil {
		return err
	}
	if c.PublicCertificateArn != "" && !acmArnRe.MatchString(c.PublicCertificateArn) {
		return errorf(key+".publicCertificateArn", "expected an ACM certificate ARN, got %q", c.PublicCertificateArn)
	}
	if c.AlarmEmail != "" && !emailRe.MatchString(c.AlarmEmail) {
		return errorf(key+".alarmEmail", "expected an e-mail address, got %q", c.AlarmEmail)
	}
	if ca := c.Ca; ca != nil {
		switch ca.KeyAlgorithm {
		case "", privateca.KeyAlgorithmRsa2048, privateca.KeyAlgorithmRsa3072, privateca.KeyAlgorithmRsa4096,
			privateca.KeyAlgorithmEcPrime256v1, privateca.KeyAlgorithmEcSecp384r1, privateca.KeyAlgorithmEcSecp521r1:
		default:
			return errorf(key+".ca.keyAlgorithm", "expected RSA_2048, RSA_3072, RSA_4096, EC_prime256v1, EC_secp384r1 or EC_secp521r1, got %q", ca.KeyAlgorithm)
		}
		switch ca.Revocation {
		case "", "none", "crl", "ocsp":
		default:
			return errorf(key+".ca.revocation", "expected none, crl or ocsp, got %q", ca.Revocation)
		}
		switch ca.KeyStorageSecurityStandard {
		case "", privateca.KeyStorageFips1402Level2, privateca.KeyStorageFips1402Level3, privateca.KeyStorageCcpcLevel1:
		default:
			return errorf(key+".ca.keyStorageSecurityStandard", "expected FIPS_140_2_LEVEL_2_OR_HIGHER, FIPS_140_2_LEVEL_3_OR_HIGHER or CCPC_LEVEL_1_OR_HIGHER, got %q", ca.KeyStorageSecurityStandard)
		}
		root, sub := ca.RootValidityDays, ca.SubordinateValidityDays
		if root < 0 || sub < 0 {
			return errorf(key+".ca", "expected positive validity days")
		}
		if x := ca.ExternalRoot; x != nil {
			switch {
			case ca.Flat != nil && *ca.Flat:
				return errorf(key+".ca.flat", "expected no flat: true with externalRoot (the external root signs subordinates in AWS Private CA)")
			case root != 0:
				return errorf(key+".ca.rootValidityDays", "expected no value with externalRoot (the root is not in AWS Private CA)")
			case sub != 0:
				return errorf(key+".ca.subordinateValidityDays", "expected no value with externalRoot (the external root chooses it when it signs; securestacks pca import checks it)")
			}
			return x.validate(key + ".ca.externalRoot")
		}
		if root == 0 {
			root = privateca.DefaultRootValidityDays
		}
		if sub == 0 {
			sub = privateca.DefaultSubordinateValidityDays
		}
		flat := ca.flat()
		if flat && ca.SubordinateValidityDays != 0 {
			return errorf(key+".ca.subordinateValidityDays", "expected no value with flat: true, the default (a flat hierarchy has no subordinate; set flat: false for one)")
		}
		if !flat && sub >= root {
			return errorf(key+".ca.subordinateValidityDays", "expected fewer days than rootValidityDays (%d), got %d", root, sub)
		}
		field, issuing := "subordinateValidityDays", sub
		if flat {
			field, issuing = "rootValidityDays", root
		}
		renew := c.RenewBeforeDays
		if renew == 0 {
			renew = mtls.DefaultRenewBeforeDays
		}
		if min := int(mtls.MinIssuingCaValidityDays(float64(renew))); issuing < min {
			return errorf(key+".ca."+field, "expected at least %d days (certificate validity %d + renewBeforeDays %d + %d days to renew the CA), got %d", min, mtls.CertificateValidityDays, renew, mtls.CaRenewalMarginDays, issuing)
		}
	}
	return nil
}

// NewMtlsStack builds <Env>-Mtls: the MutualTls system (two endpoints, plus
// the section's additionalBackends) with its VPC
// (public subnets for the load balancer, private subnets with NAT for image
// pulls, VPC endpoints for Secrets Manager and CloudWatch Logs, plus ACM, ACM
// Private CA and App Mesh for the App Mesh plane, flow logs), CAs,
// certificates, export and renewal automation and data plane. An
// invalid section panics with one line, which BuildApp turns into an error.
func NewMtlsStack(scope constructs.Construct, id string, props *SystemProps) awscdk.Stack {
	if props == nil {
		props = &SystemProps{}
	}
	section := props.Config.Mtls
	if err := section.validate("environments." + props.Config.Name + ".mtls"); err != nil {
		panic(err.Error())
	}
	var cfg MtlsConfig
	if section != nil {
		cfg = *section
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	plane := mtls.Plane(cfg.Plane)
	if plane == "" {
		plane = mtls.PlaneEnvoy
	}

	if x := cfg.Ca.externalRoot(); x != nil {
		if !newExternalRootCas(stack, props.Config, &cfg, x) {
			return stack
		}
	}

	mtlsProps := &mtls.MutualTlsProps{
		Plane:                          plane,
		Gateway:                        endpointProps(cfg, orDefault(cfg.GatewayName, mtls.DefaultGatewayName)),
		Backend:                        endpointProps(cfg, orDefault(cfg.BackendName, mtls.DefaultBackendName)),
		LoadBalancerDeletionProtection: cfg.LoadBalancerDeletionProtection,
	}
	for _, b := range cfg.AdditionalBackends {
		e := endpointProps(cfg, b.Name)
		if b.Domain != "" {
			e.Domain = jsii.String(b.Domain)
		}
		mtlsProps.AdditionalBackends = append(mtlsProps.AdditionalBackends, e)
	}
	if cfg.Domain != "" {
		mtlsProps.Domain = jsii.String(cfg.Domain)
	}
	if cfg.NatGateways != 0 {
		mtlsProps.NatGateways = jsii.Number(float64(cfg.NatGateways))
	}
	if cfg.DesiredCount != 0 {
		mtlsProps.DesiredCount = jsii.Number(float64(cfg.DesiredCount))
	}
	if cfg.RenewBeforeDays != 0 {
		mtlsProps.RenewBefore = awscdk.Duration_Days(jsii.Number(float64(cfg.RenewBeforeDays)))
	}
	if cfg.PublicCertificateArn != "" {
		mtlsProps.PublicCertificate = awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("PublicCertificate"), jsii.String(cfg.PublicCertificateArn))
	}
	if cfg.DockerHubCredentialsSecretArn != "" {
		mtlsProps.DockerHubCredentials = awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("DockerHubCredentials"), jsii.String(cfg.DockerHubCredentialsSecretArn))
	}
	system := mtls.NewMutualTls(stack, "Mtls", mtlsProps)
	if cfg.AlarmEmail != "" {
		system.AlarmTopic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmail), nil))
	}

	scheme := "http"
	if cfg.PublicCertificateArn != "" {
		scheme = "https"
	}
	awscdk.NewCfnOutput(stack, jsii.String("Url"), &awscdk.CfnOutputProps{
		Description: jsii.String("Public entry: the gateway forwards to the backend over mTLS"),
		Value:       jsii.String(scheme + "://" + *system.LoadBalancer.LoadBalancerDnsName() + "/"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("ClusterName"), &awscdk.CfnOutputProps{Value: system.Cluster.ClusterName()})
	awscdk.NewCfnOutput(stack, jsii.String("RenewFunctionName"), &awscdk.CfnOutputProps{Value: system.RenewFunction.FunctionName()})
	awscdk.NewCfnOutput(stack, jsii.String("AlarmTopicArn"), &awscdk.CfnOutputProps{Value: system.AlarmTopic.TopicArn()})
	return stack
}

func endpointProps(cfg MtlsConfig, name string) *mtls.EndpointProps {
	e := &mtls.EndpointProps{CaHierarchyProps: caProps(cfg.Ca)}
	if h := cfg.externalCas[name]; h != nil {
		e.CaHierarchy, e.CaHierarchyProps = h, nil
	}
	e.Name = jsii.String(name)
	switch cfg.CertificateKeyAlgorithm {
	case "EC_prime256v1":
		e.KeyAlgorithm = awscertificatemanager.KeyAlgorithm_EC_PRIME256V1()
	case "EC_secp384r1":
		e.KeyAlgorithm = awscertificatemanager.KeyAlgorithm_EC_SECP384R1()
	}
	return e
}

// flat is Flat with its default, true.
func (ca *MtlsCaConfig) flat() bool { return ca.Flat == nil || *ca.Flat }

func caProps(ca *MtlsCaConfig) *privateca.CaHierarchyProps {
	if ca == nil {
		return nil
	}
	p := &privateca.CaHierarchyProps{Flat: ca.flat()}
	if ca.KeyStorageSecurityStandard != "" {
		p.KeyStorageSecurityStandard = jsii.String(ca.KeyStorageSecurityStandard)
	}
	if ca.KeyAlgorithm != "" {
		p.KeyAlgorithm = jsii.String(ca.KeyAlgorithm)
	}
	if ca.RootValidityDays != 0 {
		p.RootValidity = awscdk.Duration_Days(jsii.Number(float64(ca.RootValidityDays)))
	}
	if ca.SubordinateValidityDays != 0 {
		p.SubordinateValidity = awscdk.Duration_Days(jsii.Number(float64(ca.SubordinateValidityDays)))
	}
	switch strings.ToLower(ca.Revocation) {
	case "crl":
		p.Revocation = privateca.RevocationCrl
	case "ocsp":
		p.Revocation = privateca.RevocationOcsp
	}
	return p
}

// externalRoot is ca.externalRoot, or nil.
func (ca *MtlsCaConfig) externalRoot() *MtlsExternalRootConfig {
	if ca == nil {
		return nil
	}
	return ca.ExternalRoot
}

// ExternalRootPendingWarningId identifies the synth warning of a first
// ca.externalRoot deploy (acknowledge it with
// awscdk.Annotations_Of(scope).AcknowledgeWarning).
const ExternalRootPendingWarningId = "securestacks:mtls:ExternalRootPending"

// newExternalRootCas creates the subordinate CAs of ca.externalRoot (one
// shared, or one per endpoint), each with a stack output
// SubordinateCaArn[<Endpoint>], and records them in cfg for the endpoints.
// It reports whether the mTLS system may be built on them: only once they
// are imported. Until then the stack holds the subordinates alone, and synth
// prints the next step.
func newExternalRootCas(stack awscdk.Stack, env Environment, cfg *MtlsConfig, x *MtlsExternalRootConfig) bool {
	_, chain, _ := x.chain() // validated
	names := []string{orDefault(cfg.GatewayName, mtls.DefaultGatewayName), orDefault(cfg.BackendName, mtls.DefaultBackendName)}
	for _, b := range cfg.AdditionalBackends {
		names = append(names, b.Name)
	}
	newCa := func(id, output, commonName, description string) *privateca.CaHierarchy {
		p := caProps(cfg.Ca)
		p.Flat = false
		p.SubordinateSubject = &awsacmpca.CfnCertificateAuthority_SubjectProperty{CommonName: jsii.String(commonName)}
		p.ExternalRoot = &privateca.ExternalRoot{CertificateChain: jsii.String(chain), SubordinateImported: x.Imported}
		h := privateca.NewCaHierarchy(stack, id, p)
		awscdk.NewCfnOutput(stack, jsii.String(output), &awscdk.CfnOutputProps{
			Description: jsii.String(description + " (securestacks pca csr|import --ca-arn)"),
			Value:       h.IssuingCaArn,
		})
		return h
	}
	cfg.externalCas = map[string]*privateca.CaHierarchy{}
	if x.Shared {
		h := newCa("ExternalRootCa", "SubordinateCaArn", "mTLS Issuing CA", "Subordinate CA of the external root, shared by every endpoint")
		for _, n := range names {
			cfg.externalCas[n] = h
		}
	} else {
		for _, n := range names {
			cfg.externalCas[n] = newCa("ExternalRootCa-"+n, "SubordinateCaArn"+outputSuffix(n), n+" Issuing CA", "Subordinate CA of the external root for "+n)
		}
	}
	if x.Imported {
		return true
	}
	awscdk.Annotations_Of(stack).AddWarningV2(jsii.String(ExternalRootPendingWarningId), jsii.String(fmt.Sprintf(
		"mtls.ca.externalRoot: the subordinate CA(s) are created in PENDING_CERTIFICATE and nothing else is deployed; next: for each output SubordinateCaArn* of %s run `securestacks pca csr --ca-arn ARN --out sub.csr`, have the root sign sub.csr, run `securestacks pca import --ca-arn ARN --certificate sub.pem --chain root.pem`, then set environments.%s.mtls.ca.externalRoot.imported to true and deploy again (README.md, \"Portable root CA\")",
		*stack.StackName(), env.Name)), nil)
	return false
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// outputSuffix turns a DNS label into an output id part: colorteller-blue →
// ColortellerBlue.
func outputSuffix(label string) string {
	var b strings.Builder
	for _, part := range strings.Split(label, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
