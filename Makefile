# Entry points for developers and CI. `make setup` builds .venv from nothing.
VENV ?= .venv
BIN := $(VENV)/bin
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/collections:$(CURDIR)/$(VENV)/collections

.PHONY: setup demo test test-unit test-backends test-ansible test-k8s lint bench sanity clean

setup:
	bash scripts/setup.sh

demo: setup
	$(BIN)/ansible-playbook playbooks/demo.yml

test: setup
	bash scripts/test.sh

lint: setup
	$(BIN)/ruff check src plugins tests bench scripts
	$(BIN)/yamllint -s .
	$(BIN)/ansible-lint

sanity: setup
	bash scripts/sanity.sh

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info
