# Metered LLM chat platform. `make dev` runs the suite; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
RUN := $(UV) run --frozen
STACK := $(RUN) python deploy/local/stack.py

# Tests take real infrastructure from these URLs (the machine's services by default).
export TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
export TEST_REDIS_URL ?= redis://127.0.0.1:6379
export TEST_RABBITMQ_URL ?= amqp://guest:guest@127.0.0.1:5672/
export TEST_MONGO_URL ?= mongodb://127.0.0.1:27017
export UV_PYTHON_DOWNLOADS := never

.PHONY: help bootstrap console infra dev stop status test unit e2e lint lint-beside unit-python unit-console typecheck bench ledger-check clean dlq soak

# The web console (services/console): npm ci when its lockfile changed, a build when a source did.
CONSOLE := services/console
CONSOLE_SOURCES := $(shell find $(CONSOLE)/src $(CONSOLE)/public -type f 2>/dev/null) \
	$(CONSOLE)/index.html $(CONSOLE)/vite.config.ts $(CONSOLE)/tsconfig.json

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

bootstrap: ## install uv (from PyPI) and every dependency from uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet 'uv>=0.9,<0.14' \
		|| python3 -m pip install --quiet --user 'uv>=0.9,<0.14'
	@$(UV) sync --frozen --all-packages
	@$(MAKE) --no-print-directory console

console: $(CONSOLE)/dist/index.html ## build the web console (npm from the registry) if a source changed

$(CONSOLE)/node_modules/.package-lock.json: $(CONSOLE)/package-lock.json $(CONSOLE)/package.json
	cd $(CONSOLE) && npm ci --no-audit --no-fund
	@touch $@

$(CONSOLE)/dist/index.html: $(CONSOLE)/node_modules/.package-lock.json $(CONSOLE_SOURCES)
	cd $(CONSOLE) && npm run build

infra: ## start this machine's PostgreSQL, Redis and RabbitMQ if they are down
	@bash deploy/local/ensure-infra.sh

dev: bootstrap infra ## run the whole suite locally as plain processes; prints the URLs
	@$(STACK) up

stop: ## stop what `make dev` started
	@$(STACK) down

status: ## which services of the local stack answer
	@$(STACK) status

test: bootstrap infra ## every test: lint, unit and integration, then end to end
	@$(STACK) mongo
	@# In CI, nothing this run started outlives it, pass or fail (e2e stops its own stack;
	@# a failure before it would leave SecantusDB serving a checkout that is then deleted).
	@# Lint and the console's tests run beside the Python tests, at a lower priority (those
	@# leave ~0.8 of the 2 cores idle waiting on the databases), each one's output printed
	@# whole when it ends; e2e alone after both.
	@$(MAKE) --no-print-directory -j2 --output-sync=target lint-beside unit-python && \
	  $(MAKE) --no-print-directory e2e; status=$$?; \
	  if [ -n "$$CI" ]; then $(STACK) down >/dev/null; fi; exit $$status

lint-beside:
	@nice -n 10 $(MAKE) --no-print-directory lint unit-console

unit: unit-python unit-console ## unit and integration tests: libs, services, deployment files, console

unit-python:
	$(RUN) pytest -n 2 --dist worksteal libs services deploy -q

unit-console:
	cd $(CONSOLE) && npm test --silent

e2e: ## the end-to-end suite against a running stack (started if none answers)
	$(STACK) e2e -q

lint: ## ruff, mypy --strict, and the import contracts (no service imports another)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) lint-imports

typecheck: ## mypy --strict over every lib and service (also part of lint)
	$(RUN) mypy

bench: ## benchmarks, each `python -m bench.<name>` (all but ledger need a running stack: make dev)
	$(RUN) python -m bench.auth
	$(RUN) python -m bench.ledger
	$(RUN) python -m bench.streams
	$(RUN) python -m bench.gateway
	$(RUN) python -m bench.jwt_verify
	$(RUN) python -m bench.http_clients
	$(RUN) python -m bench.redis_script
	$(RUN) python -m bench.rate_limits

soak: ## stream for SOAK_USERS users and SOAK_MINUTES minutes on a running stack (make dev)
	$(RUN) python -m bench.soak --users $${SOAK_USERS:-10} --minutes $${SOAK_MINUTES:-5}

ledger-check: ## prove every balance of the local stack's ledger equals the sum of its entries
	$(RUN) ledger-check $${ACCOUNTING_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/accounting}

dlq: ## list a dead-letter queue (QUEUE=accounting.usage-recorded; REPLAY=1 replays it)
	RABBITMQ_URL=$${RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/} \
		$(RUN) bus-dlq $(if $(REPLAY),replay,list) $${QUEUE:-accounting.usage-recorded}

clean: stop ## stop the stack and delete its data and logs
	rm -rf .local
