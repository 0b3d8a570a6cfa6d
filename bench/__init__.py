"""Benchmarks and generators of large chains (results go to bench/results/, not to git)."""
