# The whole set-up on a fresh clone is two commands: `make up` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test

.PHONY: up test test-slow lint sim-soak mutation screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## up: start the local 4-validator cluster described in cluster.toml
up: $(STAMP)
	$(BIN)/votechain up -c cluster.toml

## test: lint (import contracts, ruff, mypy) then the whole default test suite
test: $(STAMP) lint
	$(BIN)/pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy chain ballotcrypto consensus votingcontract verifier node cli webapp bench

## test-slow: the soak runs marked slow (long simulations, big chains)
test-slow: $(STAMP)
	$(BIN)/pytest -q -m slow

## mutation: mutation testing of one package, PKG=chain|consensus|votingcontract|verifier
## (docs/TESTING.md); minutes to hours on 2 cores, so never part of `make test`
MUTATION_STAMP := $(VENV)/.installed-mutation
$(MUTATION_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,mutation]'
	touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	@test -n "$(PKG)" || { echo "usage: make mutation PKG=ballotcrypto|chain|consensus|votingcontract|verifier"; exit 2; }
	$(BIN)/python tools/mutation.py $(PKG) $(ARGS)

## screenshots: pictures of the web app's main pages, phone and PC, into docs/screenshots/
## (its README.md names the commit they were made at); needs Debian's chromium
screenshots: $(STAMP)
	$(BIN)/python tools/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
