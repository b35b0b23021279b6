# smbsweep: the README's two set-up commands are `make demo` and `make test`.
#
# make test         vet + unit tests + privileged lab tests (when root) + fuzz smoke + benchmark smoke
# make demo         the main job on the built-in lab (root)
# make bench        benchmarks, side by side with the peers (root); writes bench/RESULTS.md
# make lint         gofmt, go vet, staticcheck
# make fuzz         every fuzz target for FUZZTIME each
# make lab-deps     apt packages the lab needs (root)

SHELL       := /bin/bash
GO          ?= go
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN         := bin/smbsweep
GOFLAGS_BUILD := -trimpath -ldflags "-s -w -X main.version=$(VERSION)"
TEST_TIMEOUT ?= 25m
FUZZTIME    ?= 3s
SMOKE_FUZZTIME ?= 2s

export CGO_ENABLED := 0
export PATH := $(PATH):/usr/local/go/bin

.PHONY: all build test unit vet fuzz-smoke bench-smoke fuzz bench bench-quick demo lint lab-deps clean

all: build

build:
	$(GO) build $(GOFLAGS_BUILD) -o $(BIN) ./cmd/smbsweep

# The README's test command. Lab tests need root; without it they skip.
test: vet unit fuzz-smoke bench-smoke

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt: not formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

# Every FuzzXxx target for a short time: the seed corpus runs in `unit`
# already; this catches new crashers cheaply.
fuzz-smoke:
	@./.ci/fuzz.sh $(SMOKE_FUZZTIME)

fuzz:
	@./.ci/fuzz.sh $(FUZZTIME)

# Benchmarks run once so they cannot rot (figures come from `make bench`).
bench-smoke:
	$(GO) test -count=1 -run '^$$' -bench . -benchtime=1x ./...

bench:
	$(GO) run ./bench/cmd/bench

bench-quick:
	$(GO) run ./bench/cmd/bench -quick

demo:
	@./.ci/demo.sh

lint: vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

lab-deps:
	@./.ci/deps.sh lab

clean:
	rm -rf bin
