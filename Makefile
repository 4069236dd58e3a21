# Everything a fresh clone needs: `make demo` and `make test` install what they use themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export WESSLEY_HOME ?= $(CURDIR)/.wessley
export DAGSTER_HOME ?= $(WESSLEY_HOME)/dagster_home
DEV_PORT ?= 3000

LAUNCHER := tools/neo4j-launcher
LAUNCHER_JAR := $(LAUNCHER)/target/neo4j-launcher-1.0.jar

.PHONY: install demo test dev serve lint bench bench-graph bench-embeddings bench-search bench-api bench-scale bench-overhead java s3proxy postgres redis chromium stop clean

install: $(VENV)/.installed

# uv installs exactly what uv.lock pins (`uv lock --upgrade-package NAME` moves one dependency).
# It runs from a venv of its own, as `uv sync` keeps .venv to the lock and would remove itself.
UV_VERSION := 0.13.9
UV := .uv/bin/uv
SYNC := UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --quiet --python $(PYTHON)

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(SYNC) --extra dev
	touch $@

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

# Ingest the sample bundles on the embedded defaults; the last line is `stored: {json}`.
# The embedded ArcadeDB server is stopped afterwards whatever the outcome.
demo: install $(DAGSTER_HOME)/dagster.yaml
	@$(BIN)/wessley-dagster demo; status=$$?; $(BIN)/wessley-dagster arcadedb stop > /dev/null; exit $$status

# Java 17 and Maven build the real Neo4j 5.26 test server from Maven Central (Debian's packages).
java:
	@command -v java > /dev/null && command -v mvn > /dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless maven)

$(LAUNCHER_JAR): $(LAUNCHER)/pom.xml $(LAUNCHER)/src/main/java/wessley/Neo4jLauncher.java | java
	mvn -q -B -f $(LAUNCHER)/pom.xml package

# S3Proxy from Maven Central: the S3 server the signed-URL test uses, as it checks presigned expiry.
S3PROXY_JAR := $(HOME)/.m2/repository/org/gaul/s3proxy/2.6.0/s3proxy-2.6.0-jar-with-dependencies.jar
s3proxy: | java
	@test -f $(S3PROXY_JAR) || mvn -q -B dependency:get -Dartifact=org.gaul:s3proxy:2.6.0:jar:jar-with-dependencies -Dtransitive=false

# Debian's PostgreSQL 15 for the metadata tests (each test run starts its own private cluster).
postgres:
	@test -x /usr/lib/postgresql/15/bin/initdb || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15)

# Debian's redis-server: the Celery broker of the scale-out test (started by the test on a free port).
redis:
	@command -v redis-server > /dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server)

# Debian's Chromium for the UI test, driven by Playwright (no browser download).
chromium:
	@command -v chromium > /dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

test: install $(LAUNCHER_JAR) s3proxy postgres redis chromium
	$(BIN)/pytest -q -rs -p no:cacheprovider -n 3 --dist loadfile --no-loadscope-reorder

lint: install
	$(BIN)/ruff check wessley_dagster wessley_dagster_tests bench tools
	$(BIN)/ruff format --check wessley_dagster wessley_dagster_tests bench tools

# The Dagster UI on http://127.0.0.1:$(DEV_PORT) with this code location loaded.
dev: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -h 127.0.0.1 -p $(DEV_PORT) -w workspace.yaml

# The read API on http://127.0.0.1:$(API_PORT) (OpenAPI at /docs), on the same backends as the pipeline.
API_PORT ?= 8000
serve: install
	$(BIN)/wessley-dagster serve --port $(API_PORT)

# Chunking (50 MB, against LangChain and semchunk) and embedding providers.
bench: install
	$(SYNC) --extra dev --extra bench
	$(BIN)/python -m bench.chunking
	$(BIN)/python -m bench.embedding

bench-graph: install $(LAUNCHER_JAR)
	$(SYNC) --extra dev --extra bench
	$(BIN)/python -m bench.graph_load

# The default embedder's cost per 1,000 pages, and one partition's embeddings on Celery workers.
bench-embeddings: install postgres redis
	$(BIN)/python -m bench.embedding_cost
	$(BIN)/python -m bench.embedding_fanout

# Search quality on the repo's real boards, then hybrid query latency at 10k and 100k points.
bench-search: install
	$(BIN)/python -m bench.search_quality
	$(BIN)/python -m bench.search_latency

# 50 concurrent clients against a live read API for 30 s, beside the same calls made in process.
bench-api: install
	$(SYNC) --extra dev --extra bench
	$(BIN)/python -m bench.api_load

# One vehicle of 9 to 999 pages end to end (the repo's bundles tiled), per-step seconds and peak memory.
bench-scale: install
	$(BIN)/python -m bench.e2e_scale --embeddings wordllama

# One sample bundle launched in process, from the UI and by the upload sensor: what each path adds.
bench-overhead: install
	$(BIN)/python -m bench.run_overhead --repeat 2

stop: install
	$(BIN)/wessley-dagster arcadedb stop

clean: stop
	rm -rf $(WESSLEY_HOME)
