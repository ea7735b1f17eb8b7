"""Benchmarks of optuna-ga against Optuna's own samplers (not tests; see README.md here)."""
