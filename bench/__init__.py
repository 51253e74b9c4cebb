"""Benchmark harness (`make bench`): synthetic data generator, load runner, comparison apps."""
