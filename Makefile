# edgefx: `make run` sets everything up and runs the demo; `make test` runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    := out

.PHONY: setup models run test lint bench bench-scheduler masks arm64-check doctor docs clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[speech,control,dev]'
	touch $@

setup: $(STAMP)

models: setup
	$(BIN)/edgefx models fetch

# Bytecode for the engine and plugins: pip compiles an installed package, but an editable install
# under PYTHONDONTWRITEBYTECODE would compile every module again on each start (0.1-0.3 s).
run: models
	$(BIN)/python -m compileall -q engine plugins
	mkdir -p $(OUT)
	$(BIN)/edgefx run --config demo -o $(OUT)/demo.mp4 --stats $(OUT)/demo-stats.json \
		--contact-sheet $(OUT)/demo-sheet.png

test: models
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .

bench: models
	$(BIN)/edgefx bench --out $(OUT)/bench

bench-scheduler: models
	$(BIN)/edgefx bench --out $(OUT)/bench \
		--only plugin_levels,scheduler_overhead,scheduler_budget,scheduler_budget_hog,scheduler_budget_overlap,scheduler_overlap

masks: models  # redraw the shipped face masks and accessories over the reference face
	$(BIN)/edgefx masks make

arm64-check: setup  # emulated Debian arm64 (needs root, debootstrap, qemu-user-static); ~16 min first; EDGEFX_ARM64_SUITE=trixie for Pi OS 13
	bash tools/arm64_check.sh

docs: setup
	$(BIN)/python tools/hookdocs.py

doctor: setup
	$(BIN)/edgefx doctor

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache
