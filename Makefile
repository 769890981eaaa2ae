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
test: lint check-docs
	$(GO) test -race -count=1 ./...

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

## demo: start the simulator with a few users and run a short keyrot session
demo: build
	BIN=$(BIN) ./docs/examples/demo.sh

## bench: Go benchmarks against the simulator (ns/op, allocations, HTTP requests)
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 ./...

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
