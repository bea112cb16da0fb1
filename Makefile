# Two commands set everything up on a fresh machine: `make book` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)
PROFILE ?= cpu

.PHONY: install test book bench notebooks clean mutate
.PHONY: bench-reparam bench-latency bench-regeneration bench-epochs bench-floor bench-analysis bench-switcher bench-summary bench-gpu

$(STAMP): requirements.txt pyproject.toml
	$(PY) -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv --clear $(VENV)  # also repairs a venv cut short
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup --durations=15 tests

book: $(STAMP)
	$(VENV)/bin/regprune book --profile $(PROFILE)

# The built book in a real browser (Debian's chromium: apt-get install -y chromium), desktop and
# phone width: fails on overflowing tables or figures, console errors, broken links, visible nan or
# tracebacks, stray outputs; screenshots in _build/screens/. Builds nothing: run `make book` first.
.PHONY: check-site
check-site: $(STAMP)
	$(PY) -m regprune.site_check --build _build --json _build/check-site.json

notebooks: $(STAMP)
	$(VENV)/bin/regprune sync-notebooks

bench: $(STAMP)  # 25-35 minutes on 2 cores (by the CPU); the end-to-end and analysis parts need $$REGPRUNE_DATA with MNIST and the CIFAR-10 JPEG copy
	$(PY) bench/throughput.py
	$(PY) bench/reparam_overhead.py
	$(PY) bench/switcher.py
	$(PY) bench/analysis.py --case all
	$(PY) bench/regeneration.py
	$(PY) bench/floor.py
	$(PY) bench/summary.py

bench-summary:  # each benchmark's latest stored figure against issue 31's target; measures nothing
	$(PY) bench/summary.py

bench-reparam: $(STAMP)
	$(PY) bench/reparam_overhead.py

bench-regeneration: $(STAMP)  # seconds: the cpu profile's regeneration time from the stored records
	$(PY) bench/regeneration.py

bench-epochs: $(STAMP)  # ~22 minutes on 2 cores: three epochs of every kind of cpu-profile run on this machine (needs $$REGPRUNE_DATA), then the regeneration estimate priced on it
	$(PY) bench/epochs.py
	$(PY) bench/regeneration.py
	$(PY) bench/floor.py

bench-floor: $(STAMP)  # ~1 minute: the regeneration's floor, every run's matrix kernels replayed alone; with bench-epochs' file of this CPU, each kind's share of its epoch
	$(PY) bench/floor.py

bench-analysis: $(STAMP)  # ~8 minutes: post-training analysis of one run of each model (LeNet-5 first: issue 31's target), hook by hook
	$(PY) bench/analysis.py --case all

bench-switcher: $(STAMP)  # ~1 minute: one switcher update against a plain one, split by phase
	$(PY) bench/switcher.py

bench-gpu: $(STAMP)  # a few minutes on a GPU machine: ResNet-20 epoch time and the paper profile in GPU-hours
	$(PY) bench/gpu.py
	$(PY) bench/gpu_models.py
	$(PY) bench/gpu_step.py

bench-latency: $(STAMP)
	$(PY) bench/latency.py

# Mutation testing (mutmut 3) of the modules where a silent bug changes what a reader is told;
# configured in pyproject.toml [tool.mutmut]; each mutant runs only the tests that reach it. Not part
# of `make test`: hours on 2 busy cores. Reruns only what changed. Narrow it with a glob:
#   make mutate MUTANTS='regprune.claims.*'      (names: regprune.<module>.<function>__mutmut_<n>)
# Report: _build/mutation/report.md (survivors by file:line); summary kept in tests/MUTATION.md.
MUTANTS ?=
mutate: $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-mutate.txt
	REGPRUNE_PROGRESS=none OMP_NUM_THREADS=1 $(VENV)/bin/mutmut run $(MUTANTS)
	$(PY) tools/mutation_report.py

clean:
	rm -rf _build mutants
