# keyrot: build, test, lint, docs, demo, bench.
# Everything this file needs is Go (see go.mod for the version) and git;
# the pinned tools it uses are installed into .cache/bin on first use.

SHELL        := /bin/bash
GO           ?= go
BIN          := $(CURDIR)/bin
TOOLS        := $(CURDIR)/.cache/bin
PKG          := github.com/keyrot/keyrot/cmd

STATICCHECK_VERSION := v0.8.2
GORELEASER_VERSION  := v2.15.1

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE    ?= $(shell git log -1 --format=%cI 2>/dev/null)
LDFLAGS := -s -w -X $(PKG).version=$(VERSION) -X $(PKG).commit=$(COMMIT) -X $(PKG).date=$(DATE)

.PHONY: all build test lint fmt-check vet staticcheck docs check-docs demo bench fuzz clean

all: build

## build: keyrot and the local IAM/STS simulator into ./bin
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/keyrot ./cmd/keyrot
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/iamsim ./cmd/iamsim

## test: everything CI runs: format, vet, staticcheck, docs freshness, go test -race
## (-vet=off: `go vet ./...` above already ran every analyzer go test would)
test: lint check-docs
	$(GO) test -race -vet=off -count=1 ./...

lint: fmt-check vet staticcheck

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

$(TOOLS)/staticcheck:
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

staticcheck: $(TOOLS)/staticcheck
	$(TOOLS)/staticcheck ./...

## docs: regenerate the command reference (docs/cli) and man pages (docs/man)
docs:
	$(GO) run ./cmd/gendocs -out docs

## check-docs: fail when docs/cli or docs/man are stale
check-docs: docs
	@if [ -n "$$(git status --porcelain -- docs/cli docs/man)" ]; then \
		echo "docs/cli or docs/man are stale: run 'make docs' and commit the result"; \
		git status --short -- docs/cli docs/man; exit 1; fi
	@missing=0; for f in docs/man/*.1; do \
		grep -q "manpages/$$(basename $$f)$$" .goreleaser.yaml || { echo "the Homebrew cask lacks $$f: add it to homebrew_casks.manpages in .goreleaser.yaml"; missing=1; }; \
		done; exit $$missing

## demo: start the simulator with a few users and run a short keyrot session
demo: build
	BIN=$(BIN) ./docs/examples/demo.sh

## bench: Go benchmarks against the simulator (ns/op, allocations, HTTP requests),
## then fleet mode on a 10,000-user account with 20 ms per call; all written
## to docs/performance.md with the machine they ran on
FLEET_ARGS ?= -fleet-users 10000 -fleet-latency 20ms -fleet-rotate 1000 -fleet-rates 100,200
## and an organization of 100 accounts of 100 users (audit --org, enforce --org --dry-run)
ORG_ARGS ?= -org-accounts 100 -org-users 100 -org-latency 20ms -org-report-delay 1s -org-concurrency 4,16
bench: build
	@mkdir -p .cache
	set -o pipefail; $(GO) test -run='^$$' -bench=. -benchmem -count=1 ./... | tee .cache/bench-go.txt
	$(GO) run ./cmd/benchcli -gobench .cache/bench-go.txt -out docs/performance.md
	$(GO) run ./cmd/benchcli -keyrot $(BIN)/keyrot -fleet $(FLEET_ARGS) -out docs/performance.md
	$(GO) run ./cmd/benchcli -keyrot $(BIN)/keyrot -org $(ORG_ARGS) -out docs/performance.md

## fuzz: run every fuzz target for FUZZTIME each (default 20s)
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f\$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf $(BIN) dist

# ---------------------------------------------------------------------------
# Release, completions and the CLI benchmark (not part of `make test`).

GORELEASER      := $(TOOLS)/goreleaser
RELEASE_MIN_ARTIFACTS ?= 12

$(GORELEASER):
	GOBIN=$(TOOLS) $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)

## release-check: goreleaser check, then a local snapshot release into dist/ (slow: minutes)
release-check: $(GORELEASER)
	$(GORELEASER) check
	$(GORELEASER) release --snapshot --clean --skip=publish,sign,sbom
	@cd dist && arts=$$(ls -1 *.tar.gz *.zip *.deb *.rpm checksums.txt homebrew/Casks/*.rb 2>/dev/null); \
		echo "release artifacts in dist/:"; for a in $$arts; do printf '  %-56s %10s bytes\n' $$a $$(wc -c < $$a); done; \
		n=$$(echo "$$arts" | grep -c .); echo "$$n artifacts"; \
		if [ $$n -lt $(RELEASE_MIN_ARTIFACTS) ]; then echo "release-check: expected at least $(RELEASE_MIN_ARTIFACTS) artifacts"; exit 1; fi
	@cd dist && sha256sum --quiet -c checksums.txt && echo "checksums.txt verifies"
	@missing=0; for f in docs/man/*.1; do \
		grep -q "manpages/$$(basename $$f)" dist/homebrew/Casks/keyrot.rb || { echo "cask lacks $$f: add it to homebrew_casks.manpages in .goreleaser.yaml"; missing=1; }; \
		done; exit $$missing

## completions: shell completion scripts into completions/ (as the release does)
completions:
	@mkdir -p completions
	@for sh in bash zsh fish; do $(GO) run ./cmd/keyrot completion $$sh > completions/keyrot.$$sh || exit 1; done
	@ls -1 completions/

## bench-cli: time keyrot against the AWS CLI v2 and a bare SDK program on the simulator; writes docs/performance.md
BENCH_N ?= 20
bench-cli: build
	@aws=""; \
	for c in "$$(command -v aws)" /usr/bin/aws; do \
		if [ -n "$$c" ] && [ -x "$$c" ] && "$$c" --version 2>&1 | grep -q '^aws-cli/2'; then aws=$$c; break; fi; \
	done; \
	if [ -z "$$aws" ]; then \
		echo "bench-cli: installing the AWS CLI v2 from Debian (apt-get install awscli)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y awscli || { $$SUDO apt-get update && $$SUDO apt-get install -y awscli; } || exit 1; \
		aws=/usr/bin/aws; \
	fi; \
	echo "bench-cli: $$("$$aws" --version 2>&1) at $$aws"; \
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $(BIN)/sdk-baseline ./cmd/benchcli/baseline; \
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $(BIN)/sdk-withlibs ./cmd/benchcli/withlibs; \
	$(GO) run ./cmd/benchcli -keyrot $(BIN)/keyrot -aws "$$aws" -baseline $(BIN)/sdk-baseline -baseline-libs $(BIN)/sdk-withlibs -n $(BENCH_N) -out docs/performance.md

.PHONY: release-check completions bench-cli
