// Package cfnvalidate runs aws-cdk-lib's CloudFormation validation on every
// synth, but checks a template only when its content changed.
//
// aws-cdk-lib (>= 2.262) registers a CloudFormationValidatePlugin on every
// App and re-validates every template on every synth. Loading its engine and
// rules is most of that cost. Register puts a Plugin in its place. The Plugin
// is a CloudFormationValidatePlugin (a jsii subclass), so aws-cdk-lib skips its
// own default instance, trusts it as it trusts its own, names its report
// "CloudFormation Validate", and applies acknowledgements and the
// @aws-cdk/core:validateAgainstDefaultRules switch to that report exactly as
// it does to the default plugin's.
//
// For each template whose cache key is new, the Plugin asks a real
// CloudFormationValidatePlugin (default rules included) for the report. For
// the others it reuses the violations that report held. The key covers the
// template bytes, the stack's construct path, account and region, the plugin
// props (rule sources and their content) and the aws-cdk-lib version (which
// pins the engine and its built-in rules). A cached violation is returned like
// a fresh one, so a cache never turns a failing synth into a passing one.
package cfnvalidate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Environment variables and context keys read by Register.
const (
	// EnvValidation is aws-cdk-lib's own switch: CDK_VALIDATION=false turns
	// the built-in validation off, and Register then registers nothing.
	EnvValidation = "CDK_VALIDATION"
	// EnvTrace set to 1 writes one line per template to stderr:
	// "cfnvalidate: hit|validate TEMPLATE KEY".
	EnvTrace = "SECURESTACKS_VALIDATION_TRACE"
	// EnvCache set to "off" (or "false", "0") validates every template from
	// scratch and neither reads nor writes the cache. `make test` sets it.
	EnvCache = "SECURESTACKS_VALIDATION_CACHE"
	// ContextCache set to false does the same as EnvCache=off.
	ContextCache = "securestacks:validationCache"
)

// cacheFormat changes whenever the stored entry or the key changes shape.
const cacheFormat = "securestacks-cfnvalidate/1"

// cdkModule is the Go module whose version names the aws-cdk-lib release
// (jsii bundles aws-cdk-lib, its engine and its rules at that version).
const cdkModule = "github.com/aws/aws-cdk-go/awscdk/v2"

// Options configure Register. The zero value keeps aws-cdk-lib's defaults.
type Options struct {
	// Props are passed to the real CloudFormationValidatePlugin. Default: nil
	// (the built-in rules only, as aws-cdk-lib's auto-registered instance).
	Props *awscdk.CloudFormationValidatePluginProps
	// CacheDir holds one file per validated template. Default:
	// <app outdir>/.cfn-validate-cache, so a fresh output directory starts
	// from scratch.
	CacheDir string
	// Allowlist drops, from every report (fresh or cached alike), the
	// violations of a rule on a resource logical id it lists: the reviewed
	// exceptions of the Guard rules. Default: none.
	Allowlist []Allowed
	// NoCache validates every template from scratch. Default: false, unless
	// EnvCache or ContextCache says otherwise.
	NoCache bool
}

// Plugin is a CloudFormationValidatePlugin that validates changed templates
// only. Create it with New or Register.
type Plugin struct {
	awscdk.CloudFormationValidatePlugin

	props    *awscdk.CloudFormationValidatePluginProps
	propsKey string
	allow    map[[2]string]bool
	cacheDir string // "" when the cache is off
	keyBase  []byte
	version  *string

	// Validated counts the templates handed to the real plugin, over the
	// Plugin's life. Tests and the benchmark read it.
	Validated int
}

// Register adds a Plugin to app, unless CDK_VALIDATION=false turns
// aws-cdk-lib's validation off. Only one CloudFormationValidatePlugin may be
// registered per App, at the App: call Register once, where the App is made.
func Register(app awscdk.App, opts Options) *Plugin {
	if os.Getenv(EnvValidation) == "false" {
		return nil
	}
	if opts.CacheDir == "" {
		opts.CacheDir = filepath.Join(*app.Outdir(), ".cfn-validate-cache")
	}
	if off(os.Getenv(EnvCache)) || off(app.Node().TryGetContext(jsii.String(ContextCache))) {
		opts.NoCache = true
	}
	p := New(opts)
	awscdk.Validations_Of(app).AddPlugins(p)
	return p
}

// New returns a Plugin. It caches in opts.CacheDir unless opts.NoCache is set
// or the aws-cdk-lib version is unknown (a replaced or devel module), in which
// case every template is validated from scratch.
func New(opts Options) *Plugin {
	p := &Plugin{props: opts.Props}
	// The subclass instance only carries the name and the type aws-cdk-lib
	// looks for; its own engine never runs, so it gets no rules.
	awscdk.NewCloudFormationValidatePlugin_Override(p, nil)
	props, err := json.Marshal(opts.Props)
	if err != nil {
		panic(fmt.Sprintf("cfnvalidate: plugin props: %v", err))
	}
	p.propsKey = string(props)
	p.allow = allowed(opts.Allowlist)
	version := cdkVersion()
	if opts.NoCache || opts.CacheDir == "" || version == "" {
		return p
	}
	p.cacheDir = opts.CacheDir
	p.keyBase = fmt.Appendf(nil, "%s\naws-cdk-lib %s\nprops %s\n", cacheFormat, version, props)
	return p
}

// Validate returns the report the real plugin would return for ctx: cached
// violations for the templates it has seen, fresh ones for the others.
func (p *Plugin) Validate(ctx awscdk.IPolicyValidationContext) *awscdk.PolicyValidationPluginReport {
	stacks := *ctx.StackTemplates()
	perTemplate := make([][]*awscdk.PolicyViolation, len(stacks))
	keys := make([]string, len(stacks))
	var miss []*awscdk.PolicyValidationStack
	var missAt []int
	for i, s := range stacks {
		if p.cacheDir != "" {
			if key, err := p.key(s); err == nil {
				keys[i] = key
				if v, ok := p.load(key); ok {
					perTemplate[i] = v
					trace("hit", s, key)
					continue
				}
			}
		}
		miss = append(miss, s)
		missAt = append(missAt, i)
		trace("validate", s, keys[i])
	}
	var unattributed []*awscdk.PolicyViolation
	if len(miss) > 0 {
		p.Validated += len(miss)
		report := p.real().Validate(&subContext{parent: ctx, stacks: miss})
		paths := make([]string, len(miss))
		for j, s := range miss {
			paths[j] = *s.TemplatePath
		}
		split, rest := splitByTemplate(*report.Violations, paths)
		unattributed = rest
		for j, i := range missAt {
			perTemplate[i] = split[j]
			if keys[i] != "" && len(rest) == 0 {
				p.store(keys[i], split[j])
			}
		}
	}
	violations := merge(stacks, perTemplate)
	violations = append(violations, unattributed...)
	violations = p.withoutAllowed(violations)
	return &awscdk.PolicyValidationPluginReport{
		Success:    jsii.Bool(succeeded(violations)),
		Violations: &violations,
	}
}

// Version is the engine version the real plugin reports. aws-cdk-lib reads
// it for every report; the real getter loads the engine's WebAssembly module,
// so the value is cached beside the reports (the aws-cdk-lib version in the
// key pins the engine).
func (p *Plugin) Version() *string {
	if p.version != nil {
		return p.version
	}
	file := ""
	if p.cacheDir != "" {
		sum := sha256.Sum256(p.keyBase)
		file = filepath.Join(p.cacheDir, hex.EncodeToString(sum[:])+".version")
		if b, err := os.ReadFile(file); err == nil && len(b) > 0 {
			p.version = jsii.String(string(b))
			return p.version
		}
	}
	p.version = p.real().Version()
	if file != "" && p.version != nil {
		writeAtomic(p.cacheDir, file, []byte(*p.version))
	}
	return p.version
}

// RuleIds is the real plugin's: the engine version.
func (p *Plugin) RuleIds() *[]*string {
	return &[]*string{p.Version()}
}

// realPlugins holds one real plugin per props: its engine is costly to
// start, and aws-cdk-lib shares its default instance the same way.
var (
	realMu      sync.Mutex
	realPlugins = map[string]awscdk.CloudFormationValidatePlugin{}
)

// real returns the real plugin, made on first use: a synth that changed no
// template never sends the rules to aws-cdk-lib.
func (p *Plugin) real() awscdk.CloudFormationValidatePlugin {
	realMu.Lock()
	defer realMu.Unlock()
	if r, ok := realPlugins[p.propsKey]; ok {
		return r
	}
	r := awscdk.NewCloudFormationValidatePlugin(p.props)
	realPlugins[p.propsKey] = r
	return r
}

// key is the cache key of one stack's template.
func (p *Plugin) key(s *awscdk.PolicyValidationStack) (string, error) {
	body, err := os.ReadFile(*s.TemplatePath)
	if err != nil {
		return "", err
	}
	body, err = withoutAssetHashes(*s.TemplatePath, body)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(p.keyBase)
	fmt.Fprintf(h, "stack %q\naccount %q\nregion %q\n", deref(s.StackConstructPath), deref(s.AccountId), deref(s.Region))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// assetHashPlaceholder stands for every asset hash in a template's key.
const assetHashPlaceholder = "<asset-hash>"

// withoutAssetHashes replaces, in a template, the hashes of the assets its
// stack's asset manifest (<artifact>.assets.json beside the template) lists.
// An edited Lambda handler changes only its asset's hash, which appears in
// the template as an S3 key and an asset path: opaque strings of one fixed
// shape that no rule can read a verdict from, so the report of the template
// with the old hash is the report of the template with the new one, and the
// edit loop does not pay for a validation. A template without a manifest is
// keyed as it is.
func withoutAssetHashes(templatePath string, body []byte) ([]byte, error) {
	manifest := strings.TrimSuffix(templatePath, ".template.json") + ".assets.json"
	b, err := os.ReadFile(manifest)
	if errors.Is(err, fs.ErrNotExist) {
		return body, nil
	}
	if err != nil {
		return nil, err
	}
	var m struct {
		Files        map[string]json.RawMessage `json:"files"`
		DockerImages map[string]json.RawMessage `json:"dockerImages"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", manifest, err)
	}
	var hashes []string
	for h := range m.Files {
		hashes = append(hashes, h)
	}
	for h := range m.DockerImages {
		hashes = append(hashes, h)
	}
	for _, h := range hashes {
		// The template's own entry is keyed by its content hash; replacing
		// it would change nothing, and short keys are not hashes.
		if len(h) < 32 {
			continue
		}
		body = bytes.ReplaceAll(body, []byte(h), []byte(assetHashPlaceholder))
	}
	return body, nil
}

// subContext is the context of the real plugin: the templates that missed.
type subContext struct {
	parent awscdk.IPolicyValidationContext
	stacks []*awscdk.PolicyValidationStack
}

var _ awscdk.IPolicyValidationContext = (*subContext)(nil)

func (c *subContext) AccountId() *string {
	return sameOrNil(c.stacks, func(s *awscdk.PolicyValidationStack) *string { return s.AccountId })
}
func (c *subContext) Region() *string {
	return sameOrNil(c.stacks, func(s *awscdk.PolicyValidationStack) *string { return s.Region })
}
func (c *subContext) AppConstruct() constructs.IConstruct {
	return c.parent.AppConstruct()
}
func (c *subContext) StackTemplates() *[]*awscdk.PolicyValidationStack { return &c.stacks }
func (c *subContext) TemplatePaths() *[]*string {
	paths := make([]*string, len(c.stacks))
	for i, s := range c.stacks {
		paths[i] = s.TemplatePath
	}
	return &paths
}

// sameOrNil returns field's value when every stack has the same one, as
// aws-cdk-lib computes the deprecated accountId and region.
func sameOrNil(stacks []*awscdk.PolicyValidationStack, field func(*awscdk.PolicyValidationStack) *string) *string {
	if len(stacks) == 0 {
		return nil
	}
	first := field(stacks[0])
	for _, s := range stacks[1:] {
		if deref(field(s)) != deref(first) || (field(s) == nil) != (first == nil) {
			return nil
		}
	}
	return first
}

func trace(what string, s *awscdk.PolicyValidationStack, key string) {
	if os.Getenv(EnvTrace) == "1" {
		fmt.Fprintf(os.Stderr, "cfnvalidate: %s %s %s\n", what, *s.TemplatePath, key)
	}
}

func off(v any) bool {
	switch v := v.(type) {
	case bool:
		return !v
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "off", "false", "0", "no":
			return true
		}
	}
	return false
}

// cdkVersion is the version of the aws-cdk-go module linked into this
// binary, or "" when the build does not say (the cache is then off).
func cdkVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, m := range info.Deps {
		if m.Path != cdkModule {
			continue
		}
		if m.Replace != nil {
			m = m.Replace
		}
		if m.Version == "" || m.Version == "(devel)" {
			return ""
		}
		return m.Version + " " + m.Sum
	}
	return ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
