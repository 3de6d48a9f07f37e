# securestacks: every target installs what a fresh machine lacks.
#
#   make synth   install the pinned toolchain, synthesize every stack of the sandbox environment
#   make test    synth validated from scratch (built-in + Control Tower rules), unit and
#                integration tests, go vet, staticcheck, govulncheck
#   make bench   Go benchmarks and the synth/bundling timing table
#   make lint    go vet, staticcheck, gofmt
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
VULNDB := .cache/vulndb
TOOLS := .bin/staticcheck .bin/govulncheck .bin/indexdb .bin/local-kms .bin/aws-lambda-rie
GO_TEST_FLAGS ?= -count=1 -timeout 15m

.PHONY: synth test unit vet staticcheck vulncheck lint bench clean deps

# Tests and CI validate every template from scratch: the validation cache
# (internal/cfnvalidate) is for the edit loop only. A target-specific variable
# reaches the prerequisites too, so `make test`'s synth runs uncached.
test unit: export SECURESTACKS_VALIDATION_CACHE := off

## Installation ----------------------------------------------------------------

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@# The CLI ships Go init templates; a go.mod makes node_modules its own
	@# module, so ./... patterns (vet, staticcheck, test) never descend into it.
	@printf 'module node_modules\n' > node_modules/go.mod
	@node --version | grep -q '^v24\.' || { echo "node_modules/.bin/node is not Node 24" >&2; exit 1; }
	@touch $@

.cache/gomod.stamp: go.mod go.sum
	go mod download
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

## Tests and gates -------------------------------------------------------------

test: synth $(TOOLS) $(VULNDB)/index/db.json
	$(MAKE) --no-print-directory lint unit vulncheck

unit:
	go test $(GO_TEST_FLAGS) ./...

vet:
	go vet ./...

staticcheck: .bin/staticcheck
	staticcheck ./...

vulncheck: .bin/govulncheck $(VULNDB)/index/db.json
	govulncheck -db file://$(CURDIR)/$(VULNDB) ./...

lint: vet staticcheck
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
	rm -rf $(CDK_OUT) .bin .cache
