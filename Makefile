# walrus: a Redis-compatible server with WAL-based durable replication.

GO       ?= go
BIN      := bin
PORT     ?= 6379

.PHONY: all build run test test-short vet fmt demo demo-stop bench clean

all: build

build:
	$(GO) build -o $(BIN)/walrus-server ./cmd/walrus-server
	$(GO) build -o $(BIN)/walrus-bench ./cmd/walrus-bench
	$(GO) build -o $(BIN)/walrus-cli ./examples/walrus-cli

## run: build and start a master on 127.0.0.1:6379 with data under ./data
run:
	$(GO) build -o $(BIN)/walrus-server ./cmd/walrus-server
	./$(BIN)/walrus-server --bind 127.0.0.1 --port $(PORT) --dir ./data

## test: every test (differential tests skip with a notice without redis-server)
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

test-short:
	$(GO) test -count=1 -short ./...

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

## demo: a master on 6379 and replicas on 63791 and 63792 (examples/master-replicas)
demo:
	$(GO) build -o $(BIN)/walrus-server ./cmd/walrus-server
	$(GO) build -o $(BIN)/walrus-cli ./examples/walrus-cli
	./examples/master-replicas/start.sh

demo-stop:
	./examples/master-replicas/stop.sh

## bench: a short side-by-side comparison with redis-server (under 3 minutes)
bench:
	$(GO) build -o $(BIN)/walrus-server ./cmd/walrus-server
	$(GO) run ./cmd/walrus-bench compare all --walrus ./$(BIN)/walrus-server

clean:
	rm -rf $(BIN)
