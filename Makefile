PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= amqp-dispatcher-config.yml

.PHONY: venv broker test lint format example bench bench-quick clean

venv: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

broker:
	.ci/ensure-broker

test: venv broker
	$(BIN)/pytest
	$(MAKE) bench-quick

# Throughput, latency and memory of the dispatcher against a raw pika consumer (bench/README.md).
bench: venv broker
	$(BIN)/python bench/run.py

bench-quick: venv broker
	$(BIN)/python bench/run.py --quick

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The daemon on the sample config, fed by the example publisher, then stopped with SIGTERM.
example: venv broker
	@$(BIN)/amqp-dispatcher --config $(CONFIG) & daemon=$$!; \
	$(BIN)/python -m example.publisher --count 20 --wait; status=$$?; \
	kill -TERM $$daemon; wait $$daemon || status=$$?; exit $$status

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
