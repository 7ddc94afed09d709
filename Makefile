# edi-gate: `make demo` runs the filter on a bundled fixture, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench fuzz clean venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	mkdir -p fixtures/out
	$(BIN)/edi-gate filter fixtures/demo.837 -o fixtures/out/demo.filtered.837 \
		--acks fixtures/out/demo.277ca --ack999 fixtures/out/demo.999 \
		--decisions fixtures/out/demo.decisions.jsonl --log-format console

test: $(STAMP)
	$(BIN)/ruff check edi_gate tests bench
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check edi_gate tests bench
	$(BIN)/ruff format --check edi_gate tests bench

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) fixtures/out bench/out bench/data .pytest_cache
