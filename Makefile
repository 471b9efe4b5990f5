# `make ask` and `make test` install first (idempotent: when nothing changed it is silent and instant).
# The install is exactly requirements.lock; `make upgrade` moves it to the newest releases and tests them.
.PHONY: install ask test lint lock upgrade

install:
	@scripts/install.sh

ask: install
	.venv/bin/tutor ask $(Q)

# lint and types, then the fast tier (no model: a failure shows in a minute), then the model tier
test: install lint
	.venv/bin/pytest -m "not model"
	.venv/bin/pytest -m model

lint: install
	.venv/bin/ruff check tutor tests evals
	.venv/bin/mypy

# re-resolve the lock after editing pyproject.toml's dependencies (keeps every pin it can)
lock:
	scripts/lock.sh

# every package to its newest allowed release, then a fresh .venv from the new lock and all the tests
upgrade:
	scripts/lock.sh --upgrade
	$(MAKE) test
