# Shortcuts for the README commands (`bash scripts/dev.sh run|test`), both idempotent.
.PHONY: run test lint bench

run:
	bash scripts/dev.sh run

test:
	bash scripts/dev.sh test

lint:
	scripts/bootstrap.sh && .venv/bin/ruff check .

bench:
	scripts/bootstrap.sh && .venv/bin/python bench/startup.py
