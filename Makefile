# edgefx: `make run` sets everything up and runs the demo; `make test` runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    := out

.PHONY: setup models run test lint bench doctor docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[speech,dev]'
	touch $@

setup: $(STAMP)

models: setup
	$(BIN)/edgefx models fetch

run: models
	mkdir -p $(OUT)
	$(BIN)/edgefx run --config default -o $(OUT)/demo.mp4 --stats $(OUT)/demo-stats.json \
		--contact-sheet $(OUT)/demo-sheet.png

test: models
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .

bench: models
	$(BIN)/edgefx bench --out $(OUT)/bench

docs: setup
	$(BIN)/python -m edgefx.hookdocs

doctor: setup
	$(BIN)/edgefx doctor

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache
