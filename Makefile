# prefectctl — see README.md. `make demo` runs the guide end to end, `make test`
# runs every test against real services brought up by scripts/testenv.sh.
SHELL := /bin/bash
GO ?= go
PKG := github.com/prefectctl/prefectctl
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS := -s -w -X $(PKG)/internal/buildinfo.Version=$(VERSION) -X $(PKG)/internal/buildinfo.Commit=$(COMMIT)
BIN := bin/prefectctl

.PHONY: build test test-unit demo demo-down bench lint fmt release-snapshot clean docs image

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/prefectctl

## test: every test, against real services (installs what it needs).
test: build
	scripts/test.sh

## test-unit: the Go tests alone, for a quick loop while editing.
test-unit:
	$(GO) test ./...

demo: build
	scripts/demo.sh

demo-down:
	scripts/demo.sh down

bench: build
	scripts/bench.sh

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) mod verify

fmt:
	gofmt -w $$(git ls-files '*.go')

## docs: regenerate docs/cli from the command tree (a test fails when it is stale).
docs:
	$(GO) run ./cmd/prefectctl __gen-docs docs/cli

## release-snapshot: every release archive with goreleaser, pinned and cached outside the repo.
TOOLS ?= $(HOME)/.cache/prefectctl-tools
GORELEASER_VERSION := v2.16.0
GORELEASER := $(TOOLS)/goreleaser-$(GORELEASER_VERSION)
$(GORELEASER):
	mkdir -p $(TOOLS)/.bin-$(GORELEASER_VERSION)
	GOBIN=$(TOOLS)/.bin-$(GORELEASER_VERSION) $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)
	mv $(TOOLS)/.bin-$(GORELEASER_VERSION)/goreleaser $@
release-snapshot: $(GORELEASER)
	PREFECTCTL_COMMIT=$(COMMIT) $(GORELEASER) release --snapshot --clean --config goreleaser.yaml

## image: the minimal CI image (FROM scratch: static binary + CA certificates).
IMAGE ?= prefectctl:$(VERSION)
IMAGE_CONTEXT ?= bin/image
image:
	rm -rf $(IMAGE_CONTEXT) && mkdir -p $(IMAGE_CONTEXT)/tmp
	CGO_ENABLED=0 GOOS=linux $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(IMAGE_CONTEXT)/prefectctl ./cmd/prefectctl
	cp /etc/ssl/certs/ca-certificates.crt $(IMAGE_CONTEXT)/
	docker build -t $(IMAGE) -f Dockerfile $(IMAGE_CONTEXT)

clean:
	rm -rf bin dist
