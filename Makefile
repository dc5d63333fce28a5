# berth: two commands do everything.
#   make run    install what is missing, build, and start berth on an embedded default
#   make test   install what is missing and run the whole test suite against real services
SHELL := /bin/bash
.DEFAULT_GOAL := help

export PATH := /usr/local/go/bin:$(PATH)
export GOFLAGS ?= -buildvcs=false
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
DATA_DIR ?= $(CURDIR)/.data

.PHONY: help
help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: deps
deps: ## install and start Docker Engine (single-node Swarm), PostgreSQL binaries and git
	@./scripts/deps.sh

.PHONY: traefik
traefik: deps ## build the pinned Traefik image (cached under .cache/)
	@./scripts/traefik.sh

.PHONY: build
build: ## build bin/berth and the plugins, and regenerate plugin-index.json
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/berth ./cmd/berth
	@$(MAKE) --no-print-directory index

.PHONY: plugins
plugins: ## build the plugin binaries into bin/plugins
	bash scripts/plugins.sh

.PHONY: index
index: plugins ## regenerate plugin-index.json from the built plugins' self-descriptions
	go run ./tools/plugindex -o plugin-index.json bin/plugins

.PHONY: proto
proto: ## regenerate the plugin SDK's gRPC code
	bash scripts/proto.sh

.PHONY: run
run: deps traefik build ## start berth (embedded PostgreSQL in .data/, Traefik on :80/:443)
	BERTH_DATA_DIR=$${BERTH_DATA_DIR:-$(DATA_DIR)} ./bin/berth server

.PHONY: lint
lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...
	@if [ -f sdk/go.mod ]; then cd sdk && go vet ./...; fi
	@for mod in builders/*/go.mod; do [ -f "$$mod" ] || continue; (cd "$$(dirname "$$mod")" && go vet ./...) || exit 1; done

.PHONY: dbimages
dbimages: deps ## build the local PostgreSQL, MariaDB and Redis test images (cached under .cache/)
	@./scripts/dbimages.sh

.PHONY: test-deps
test-deps:
	@BERTH_TEST_DEPS=1 ./scripts/deps.sh
	@./scripts/dbimages.sh
	@for f in scripts/fixtures/*.sh; do [ -e "$$f" ] || continue; "$$f"; done

.PHONY: test
test: test-deps traefik lint ## run every test against real Docker Swarm, PostgreSQL, Traefik and Chromium
	./scripts/test.sh

.PHONY: bench
bench: deps traefik build ## run the benchmarks and print figures next to their goals
	./scripts/bench.sh

.PHONY: clean
clean: ## remove build output (keeps the Traefik build cache)
	rm -rf bin test-artifacts
