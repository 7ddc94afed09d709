# edi-gate: `make demo` runs the filter on a bundled fixture, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_STAMP := $(VENV)/.installed-demo
TEST_STAMP := $(VENV)/.installed-test
OUT := fixtures/out
# The modules setup.py compiles with mypyc (hot-path.txt): installing again rebuilds them when they
# change.
COMPILED_SOURCES := setup.py hot-path.txt $(shell grep -v '^\#' hot-path.txt)

.PHONY: demo test build lint bench bench-quick bench-hostile profile profile-native fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(DEMO_STAMP): pyproject.toml $(COMPILED_SOURCES) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The test extras, PySpark for the replay engine test, and the system packages the pipeline
# tests need (OpenSSH's sshd and sftp, a Java runtime), each installed only when missing. The
# extras go in beside the package $(DEMO_STAMP) built, so the hot path is compiled once.
$(TEST_STAMP): $(DEMO_STAMP) scripts/install-test-deps.sh scripts/extras.py
	scripts/install-test-deps.sh
	$(BIN)/python scripts/extras.py test spark > $(VENV)/test-requirements.txt
	$(BIN)/python -m pip install --quiet -r $(VENV)/test-requirements.txt
	touch $@

demo: $(DEMO_STAMP)
	mkdir -p $(OUT)
	$(BIN)/edi-gate filter fixtures/demo.837 -o $(OUT)/demo.filtered.837 \
		--acks $(OUT)/demo.277ca --ack999 $(OUT)/demo.999 \
		--decisions $(OUT)/demo.decisions.jsonl --log-format console
	@echo "outputs in $(OUT)/"

# Everything the suite needs is in the repository; the public corpus in ../shared (or
# EDI_GATE_SHARED) adds the interop tests, which .ci/run requires (EDI_GATE_REQUIRE_INTEROP=1).
test: $(TEST_STAMP)
	$(BIN)/ruff check edi_gate tests bench fuzz setup.py
	EDI_GATE_REQUIRE_SPARK=1 EDI_GATE_REQUIRE_COMPILED=1 $(BIN)/python -m pytest

# Recompile the hot path after editing it (make demo/test do this by themselves).
build: $(DEMO_STAMP)

lint: $(TEST_STAMP)
	$(BIN)/ruff check edi_gate tests bench fuzz setup.py
	$(BIN)/ruff format --check edi_gate tests bench fuzz setup.py

bench: $(TEST_STAMP)
	$(BIN)/python -m bench.run

bench-quick: $(TEST_STAMP)
	$(BIN)/python -m bench.run --sizes 10000,100000

profile: $(TEST_STAMP)
	mkdir -p bench/data
	$(BIN)/python -m bench.generate --claims 100000 --seed 1 -o bench/data/profile.837 \
		--roster bench/data/profile-roster.csv
	$(BIN)/python -m bench.profile --stages bench/data/profile.837 \
		--roster bench/data/profile-roster.csv

# Where the compiled run's cycles go, by edi-gate function and by shared object (needs Linux perf).
profile-native: $(TEST_STAMP)
	mkdir -p bench/data
	$(BIN)/python -m bench.generate --claims 100000 --seed 1 -o bench/data/profile.837 \
		--roster bench/data/profile-roster.csv
	$(BIN)/python -m bench.native_profile bench/data/profile.837 \
		--roster bench/data/profile-roster.csv

fuzz: $(TEST_STAMP)
	$(BIN)/python -m fuzz.run --minutes 10

clean:
	rm -rf $(VENV) $(OUT) bench/out bench/data .pytest_cache build
	find edi_gate -name '*.so' -delete; rm -f *__mypyc*.so

# Peak RSS and time on hostile inputs (issue 15's table): HOSTILE_ARGS=--full for the issue's sizes.
bench-hostile: $(TEST_STAMP)
	$(BIN)/python -m bench.hostile --edi-gate $(BIN)/edi-gate $(HOSTILE_ARGS)
