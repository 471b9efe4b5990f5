# `make ask` and `make test` install first (idempotent: a second run takes seconds).
.PHONY: install ask test lint

install:
	scripts/install.sh

ask: install
	.venv/bin/tutor ask $(Q)

test: install
	.venv/bin/pytest

lint:
	.venv/bin/ruff check tutor tests evals
