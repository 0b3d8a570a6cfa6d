"""Deterministic simulation of a votechain PBFT cluster (TigerBeetle VOPR style).

One process, one seed: the seed derives every option (cluster size, fault rates,
Byzantine strategies), a virtual clock drives every replica, and a simulated network
drops, delays, reorders, duplicates, replays and partitions messages while replicas crash
and restart from their persisted records. Checkers outside the replicas watch every
step: no two honest replicas deliver different blocks at a height, every delivered
certificate verifies, no honest replica signs two different things for one (view,
height), and after the network heals every request submitted to an honest replica
commits within a bounded virtual time.

    .venv/bin/python -m tests.simulation --seeds 10000          # many seeds, summary
    .venv/bin/python -m tests.simulation --seed 1234 --trace    # one seed, with its trace

A failing run prints its seed, its options and the last lines of its trace (each line a
message or effect `describe()`); rerunning that seed reproduces it exactly.
"""
