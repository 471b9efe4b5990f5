# `make ask` and `make test` install first (idempotent: when nothing changed it is silent and instant).
.PHONY: install ask test lint

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
