# Two commands set everything up: `make run` (the app) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= data/notes

.PHONY: setup sources run run-phrases check test test-fast data phrases bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	# torch 2.14.1 with torchaudio 2.11.0: the torchaudio wheel declares no torch
	# requirement but links one build (with the CPU-only torch 2.13.0 it fails
	# to import). Both come from PyPI (~5.5 GB installed: CUDA libraries too).
	$(BIN)/python -m pip install "torch==2.14.1" "torchaudio==2.11.0"
	# Offline SoundFont rendering only: tinysoundfont declares pyaudio (live
	# playback), which has no Linux wheel and needs PortAudio headers.
	$(BIN)/python -m pip install --no-deps "tinysoundfont==0.3.7"
	$(BIN)/python -m pip install -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

# The Debian SoundFonts of the default corpora (disentangle/data/sources.py
# names them; TimGM6mb comes with pretty_midi). Installed when root, else
# named; a build renders from whatever is installed and says what is missing.
sources: | $(STAMP)
	@missing=$$(for p in $$($(BIN)/python -c "from disentangle.data.sources import debian_packages; print(*debian_packages())"); do \
	  dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  else echo "sample sources not installed: $$missing (sudo apt-get install $$missing)"; fi; \
	fi

# The default corpus: several General MIDI SoundFonts, one held out as `unseen`.
$(DATA)/metadata.csv: | $(STAMP) sources
	$(BIN)/python scripts/make_dataset.py --out $(DATA) --corpus notes

data: $(DATA)/metadata.csv

data/phrases/metadata.csv: | $(STAMP) sources
	$(BIN)/python scripts/make_dataset.py --out data/phrases --corpus phrases

phrases: data/phrases/metadata.csv

# Options for the app go in ARGS, e.g. `make run ARGS="--port 7861 --projection pca"`.
ARGS ?=

run: $(STAMP) $(DATA)/metadata.csv
	$(BIN)/python app/main.py --data $(DATA) $(ARGS)

# The same app, starting on the 4 s phrases (three-factor + re-entry, J-DSAE); `make run`
# reaches them too, through the corpus menu.
run-phrases: $(STAMP) data/phrases/metadata.csv
	$(BIN)/python app/main.py --data data/phrases $(ARGS)

# Lint and types first (seconds; mypy's first run ~3 min), then the tests.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: check
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not browser"

bench: $(STAMP) $(DATA)/metadata.csv
	$(BIN)/python scripts/bench.py audio --data $(DATA)

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
