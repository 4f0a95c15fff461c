.PHONY: setup run test bench evaluate

setup:
	bash scripts/setup.sh

run: setup
	.venv/bin/scr-text run corpora/dev --out out

test:
	bash scripts/test.sh

bench: setup
	.venv/bin/python benchmarks/bench_pipeline.py
