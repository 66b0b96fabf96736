# prefectctl — see README.md. `make demo` runs the guide end to end, `make test`
# runs every test against real services brought up by scripts/testenv.sh.
SHELL := /bin/bash
GO ?= go
PKG := github.com/prefectctl/prefectctl
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS := -s -w -X $(PKG)/internal/buildinfo.Version=$(VERSION) -X $(PKG)/internal/buildinfo.Commit=$(COMMIT)
BIN := bin/prefectctl

.PHONY: build test test-unit demo demo-down bench lint fmt release-snapshot clean

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

clean:
	rm -rf bin dist
