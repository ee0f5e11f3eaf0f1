# The two commands of the README: `make run` and `make test`. Both set up what is missing first.
.PHONY: setup run test lint format check-ci

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/python manage.py platform_run

test: setup
	.venv/bin/python -m pytest -q -n 2 --dist loadfile

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: setup
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .
