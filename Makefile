# The commands that matter: `make run` (the service, with local Kafka, FerretDB and MinIO) and
# `make test` (the whole suite against those services). Everything installs into .venv/ and .local/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCAL := .local
SERVICES := bash deploy/local/services.sh
COMPOSE_SCHEMA := $(LOCAL)/cache/compose-spec.json

.PHONY: help venv catalogs pot services services-stop services-status validators kustomize run test faults unit lint audit schemas clean

help:
	@echo "make run            set everything up and run the API (127.0.0.1:8000) and the worker until Ctrl-C"
	@echo "make test           set everything up and run the whole test suite"
	@echo "make services       start Kafka, FerretDB and MinIO in the background (returns when all answer)"
	@echo "make services-stop  stop them"
	@echo "make validators     install the e-invoice validators (XSD, Schematron, veraPDF, Mustang) into .local/validators"
	@echo "make kustomize      install kustomize into .local/bin (tests render deploy/k8s with it)"
	@echo "make lint           ruff, mypy and the dependency audit"
	@echo "make audit          the pinned versions against PyPI's advisories (deploy/audit; waivers in waivers.toml)"
	@echo "make schemas        regenerate schemas/json from the event models"

# The virtualenv is rebuilt when the dependency lists change; constraints.txt pins the tested versions.
$(BIN)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	bash deploy/local/system-packages.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,bench]"
	touch $@

# The message catalogs (invoicing/locales/<lang>/LC_MESSAGES/invoice.po) compiled to .mo, which are build output (git-ignored).
CATALOGS_PO := $(wildcard invoicing/locales/*/LC_MESSAGES/invoice.po)
CATALOGS_MO := $(CATALOGS_PO:.po=.mo)

invoicing/locales/%/LC_MESSAGES/invoice.mo: invoicing/locales/%/LC_MESSAGES/invoice.po $(BIN)/.installed
	$(BIN)/pybabel compile -D invoice -d invoicing/locales -l $* --statistics

catalogs: $(CATALOGS_MO)

# Re-extract the template after changing a message in the code, then `pybabel update` the catalogs.
pot: venv
	$(BIN)/pybabel extract -F babel.cfg --no-location --omit-header -k N_ -o invoicing/locales/invoice.pot .
	$(BIN)/pybabel update -D invoice -i invoicing/locales/invoice.pot -d invoicing/locales --no-fuzzy-matching

venv: $(BIN)/.installed catalogs

services: venv
	$(SERVICES) start

services-stop:
	$(SERVICES) stop

services-status:
	$(SERVICES) status

run: services
	bash deploy/local/run.sh

# The Compose specification's JSON Schema, from the docker-compose wheel on PyPI (never committed).
$(COMPOSE_SCHEMA): | venv
	mkdir -p $(LOCAL)/cache
	$(BIN)/python -m pip download --quiet --no-deps --dest $(LOCAL)/cache docker-compose==1.29.2
	$(BIN)/python -c 'import zipfile,sys; z=zipfile.ZipFile("$(LOCAL)/cache/docker_compose-1.29.2-py2.py3-none-any.whl"); open("$@","wb").write(z.read("compose/config/compose_spec.json"))'

# The e-invoice validators tests/validators runs: Maven Central jars and saxonche; cached, a no-op when
# installed (deploy/local/validators.sh compares a stamp of the pom and the script).
validators: venv
	bash deploy/local/validators.sh

# kustomize, which tests/unit/test_k8s_manifests.py renders deploy/k8s with: built from source by `go install`
# (pinned version); a no-op when installed.
kustomize:
	bash deploy/local/kustomize.sh

test: services validators $(COMPOSE_SCHEMA) kustomize
	$(BIN)/python -m pytest

# The fault suite: private Kafka, FerretDB and MinIO that it kills and restarts mid-job (tests/faults).
faults: services
	$(BIN)/python -m pytest -m faults tests/faults

unit: venv $(COMPOSE_SCHEMA) kustomize
	$(BIN)/python -m pytest tests/unit

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(MAKE) --no-print-directory audit

audit: venv
	$(BIN)/python deploy/audit/audit_pins.py constraints.txt

schemas: venv
	$(BIN)/python -m schemas.export

clean: services-stop
	rm -rf $(LOCAL)/data $(LOCAL)/logs $(LOCAL)/invoices $(LOCAL)/worker $(LOCAL)/test-*
