"""`make bench`: speed and size of smtp-preflight, each figure against a baseline run in the same run.

Every benchmark interleaves its subject and its baseline (A B A B ...), takes medians and reports the
ratio, because the machines it runs on are shared and noisy. `python -m benchmarks` runs them all,
prints one table and writes `benchmarks/results/latest.json`; `--smoke` runs each once with tiny sizes
(what `make test` does, without judging any number).
"""
