# Entry points for developers and CI. `make setup` builds .venv from nothing.
VENV ?= .venv
BIN := $(VENV)/bin
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/collections:$(CURDIR)/$(VENV)/collections

.PHONY: setup demo dashboard test test-unit test-backends test-ansible test-k8s lint bench bench-peers sanity clean

setup:
	bash scripts/setup.sh

# The demo keeps its own database and data directory, started afresh each time, so it can
# be run again and never touches an operator's default installation. It runs a small
# detection-limit study (planet sizes x two transit searches on short batman light curves);
# DEMO_CHAIN=examples/chains/demo.json runs the null-task example instead.
DEMO_DIR ?= $(VENV)/var/plato-eas-demo
DEMO_CHAIN ?= examples/chains/detection_limit.json
demo: setup
	rm -rf $(DEMO_DIR)
	$(BIN)/ansible-playbook playbooks/demo.yml -e eas_demo_chain=$(abspath $(DEMO_CHAIN)) \
		-e eas_db_path=$(abspath $(DEMO_DIR))/eas.sqlite -e eas_data_dir=$(abspath $(DEMO_DIR))/data

# The read-only dashboard on http://127.0.0.1:8050/: the demo's database when `make demo` ran,
# else the embedded default installation. Ctrl-C stops it.
dashboard: setup
	if [ -f $(DEMO_DIR)/eas.sqlite ]; then \
		$(BIN)/eas --db-path $(abspath $(DEMO_DIR))/eas.sqlite \
			--data-dir $(abspath $(DEMO_DIR))/data web; \
	else $(BIN)/eas web; fi

test: setup
	bash scripts/test.sh

lint: setup
	$(BIN)/ruff check src plugins tests bench scripts
	$(BIN)/yamllint -s .
	$(BIN)/ansible-lint

sanity: setup
	bash scripts/sanity.sh

bench: setup
	$(BIN)/python bench/bench_core.py
	$(BIN)/python bench/bench_submit.py
	$(BIN)/python bench/bench_reports.py
	$(BIN)/python bench/bench_backends.py
	$(BIN)/python bench/bench_dashboard.py
	$(BIN)/python bench/bench_science.py

# plato.eas side by side with Celery, Parsl and Dask (each installed into its own venv under
# ~/.cache/plato-eas-peers): PEERS_ARGS=--quick for the 1k flat workload only.
bench-peers: setup
	$(BIN)/python bench/bench_peers.py $(PEERS_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
