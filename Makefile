# `make ask` and `make test` install first (idempotent: when nothing changed it is silent and instant).
.PHONY: install ask test lint

install:
	@scripts/install.sh

ask: install
	.venv/bin/tutor ask $(Q)

test: install
	.venv/bin/pytest

lint:
	.venv/bin/ruff check tutor tests evals
