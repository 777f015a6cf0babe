"""The performance harness (see docs/performance.md): `python -m benchmarks.run`."""
