# `make run` sets everything up and opens the studio on its defaults (sandbox chain, local
# library); `make test` sets everything up and runs the whole test suite. Both are idempotent.
.PHONY: setup run test lint bench

setup:
	scripts/bootstrap.sh

run: setup
	.venv/bin/studio

test:
	scripts/test.sh

lint: setup
	.venv/bin/ruff check .

bench: setup
	.venv/bin/python bench/startup.py
