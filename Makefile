PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= amqp-dispatcher-config.yml

.PHONY: venv broker test test-unit test-cluster lint format docs example bench bench-quick clean

venv: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,docs,bench,otel]'
	touch $@

broker:
	.ci/ensure-broker

test: venv broker
	$(BIN)/pytest
	$(MAKE) bench-quick

# The tests that need no broker: tests/unit/ and example/; every other test is marked `broker`.
test-unit: venv
	$(BIN)/pytest -m "not broker"

# The failover tests alone: a 3-node RabbitMQ cluster of their own beside the shared broker
# (tests/cluster/); `make test` runs them too.
test-cluster: venv broker
	$(BIN)/pytest tests/cluster

# Throughput, latency and memory of the dispatcher against a raw pika consumer, checked against
# the targets (bench/README.md): bench/results/latest.json, .md and .png. Exits 0 whatever the
# numbers; only a broken run fails.
bench: venv broker
	$(BIN)/python bench/run.py

# Each scenario once, small, to keep the harness working: bench/results/quick.json, .md and .png.
bench-quick: venv broker
	$(BIN)/python bench/run.py --quick

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The pages in docs/ as HTML in docs/_build/html, all read afresh so that every link is checked;
# any warning fails the build.
docs: venv
	$(BIN)/sphinx-build -E -W --keep-going -n -q -b html docs docs/_build/html

# The daemon on the sample config, fed by the example publisher, then stopped with SIGTERM.
example: venv broker
	@$(BIN)/amqp-dispatcher --config $(CONFIG) & daemon=$$!; \
	$(BIN)/python -m example.publisher --count 20 --wait; status=$$?; \
	kill -TERM $$daemon; wait $$daemon || status=$$?; exit $$status

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache docs/_build
