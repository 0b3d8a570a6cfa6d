"""Seeded cluster simulations: safety under faults, liveness after healing.

The default run executes DEFAULT_SEEDS seeds; the scenario of a seed is seed mod 14, so
every fault family and Byzantine strategy runs about 36 times. `pytest -m slow` runs
SLOW_SEEDS more; `python -m tests.simulation --seeds 10000` runs any number.
VOTECHAIN_SIMULATION_SEEDS=N runs only the first N default seeds and skips the others
(mutation runs use it, tools/mutation.py; every scenario still runs when N >= 14). The
others are skipped, not left out, so a test id that mutmut recorded always exists.
"""

from __future__ import annotations

import dataclasses
import os

import pytest

from chain.tx import Transaction
from consensus import RequestReceived
from tests.simulation.app import NOOP_KIND
from tests.simulation.byzantine import ByzantineContext, OversizedBlocks
from tests.simulation.cluster import CHAIN_ID, Simulation, client_key, run_seed
from tests.simulation.options import ALL_STRATEGIES, SCENARIOS, options_for_seed

DEFAULT_SEEDS = range(500)
SEEDS_TO_RUN = int(os.environ.get("VOTECHAIN_SIMULATION_SEEDS", len(DEFAULT_SEEDS)))
SLOW_SEEDS = range(500, 5_500)


@pytest.mark.parametrize("seed", DEFAULT_SEEDS)
def test_seeded_cluster_is_safe_and_live(seed: int) -> None:
    if seed >= SEEDS_TO_RUN:
        pytest.skip(f"VOTECHAIN_SIMULATION_SEEDS={SEEDS_TO_RUN}")
    result = run_seed(options_for_seed(seed))
    assert result.ok, result.report()


def test_default_seeds_cover_every_fault_and_strategy() -> None:
    options = [options_for_seed(seed) for seed in DEFAULT_SEEDS]
    assert {o.scenario for o in options} == set(SCENARIOS)
    strategies = {s for o in options for s in o.byzantine.values()}
    assert strategies == set(ALL_STRATEGIES)
    assert {o.replicas for o in options} == {4, 7}
    assert any(o.drop_rate > 0 for o in options)
    assert any(o.duplicate_rate > 0 for o in options)
    assert any(o.replay_rate > 0 for o in options)
    assert any(o.partitions > 0 for o in options)
    assert any(o.crashes > 0 and o.crash_mid_effects for o in options)
    assert any(o.crashes > 0 and not o.crash_mid_effects for o in options)
    assert any(o.disk_faults > 0 for o in options)
    # f Byzantine replicas, not just one, in the 7-replica clusters.
    assert any(o.replicas == 7 and len(o.byzantine) == 2 for o in options)


def test_rerunning_a_seed_reproduces_it_exactly() -> None:
    options = options_for_seed(11)  # "mixed": every kind of fault at once
    first = run_seed(options, keep_trace=True)
    second = run_seed(options, keep_trace=True)
    assert first.summary() == second.summary()
    assert first.trace == second.trace and len(first.trace) > 100


def test_forged_messages_are_caught_by_signature_checks() -> None:
    seed = next(s for s in DEFAULT_SEEDS if options_for_seed(s).scenario == "forger")
    result = run_seed(options_for_seed(seed))
    assert result.ok, result.report()
    assert result.bad_signatures > 0


def test_a_failing_run_reports_its_seed_options_and_trace() -> None:
    result = run_seed(options_for_seed(3))
    result.violations.append("t=0 SAFETY: injected for this test")
    result.trace = ["t=1 r0 <- r1: Prepare v=0 h=1 block=00000000 from r1"]
    report = result.report()
    assert "seed=3 FAILED" in report and "options: seed=3" in report
    assert "Prepare v=0 h=1" in report
    assert "python -m tests.simulation --seed 3 --trace" in report


@pytest.mark.parametrize(
    ("limit", "refusal"),
    [("bytes", "the limit is 8388608"), ("count", "at most 10000 items")],
)
def test_primary_proposing_oversized_blocks_is_replaced_and_nothing_oversized_commits(
    limit: str, refusal: str
) -> None:
    """Issue 9: a Byzantine primary proposes blocks over MAX_BLOCK_BYTES (or over
    MAX_BLOCK_TXS) made of valid, signed, new transactions. Every honest replica refuses
    the proposal, the cluster changes view and commits every request after healing, and
    the checker (which runs validate_basic on every delivered block) finds nothing."""

    def oversized(context: ByzantineContext) -> OversizedBlocks:
        strategy = OversizedBlocks(context)
        strategy.limit = limit
        return strategy

    options = options_for_seed(4, scenario="oversized-blocks")
    assert 0 in options.byzantine  # the primary of view 0
    simulation = Simulation(options, strategy_factory=oversized)
    result = simulation.run()
    assert result.ok, result.report()
    assert result.view_changes > 0
    trace = "\n".join(simulation._format_trace())
    assert "undecodable frame from r0" in trace and refusal in trace
    honest = [node for node in simulation.nodes if node.honest]
    assert all(node.store.height > 0 for node in honest)
    for node in honest:
        for block, _ in node.store.blocks:
            assert block.encoded_size == len(block.encode()) <= 8 * 1024 * 1024


DISK_FAULT_SEEDS = range(20)


@pytest.mark.parametrize("seed", DISK_FAULT_SEEDS)
def test_refused_writes_stop_the_replica_and_it_never_equivocates(seed: int) -> None:
    """Issue 11: a replica's store refuses writes at seeded moments; its node stops on the
    refused write (before any later effect), cannot restart until the disk takes writes,
    then resumes from what was persisted. The checker (checkers.py) sees every prepare and
    commit an honest replica sends, retransmissions included, across restarts: none
    contradicts another for the same (view, height), and the cluster is live after."""
    simulation = Simulation(options_for_seed(seed, scenario="disk-faults"))
    result = simulation.run()
    assert result.ok, result.report()


def test_disk_fault_runs_do_stop_replicas_and_refuse_their_restart() -> None:
    """The disk-fault scenario is not vacuous: across its seeds, writes are refused,
    nodes stop, and a node whose disk still refuses writes does not start."""
    events: list[str] = []
    for seed in DISK_FAULT_SEEDS:
        simulation = Simulation(options_for_seed(seed, scenario="disk-faults"))
        simulation.run()
        events.extend(line for line in simulation._format_trace() if "r" in line)
    assert any("fail-stop" in line for line in events)
    assert any("refuses to start" in line for line in events)
    assert any("restarted from" in line for line in events)


@pytest.mark.parametrize("status_ticks", [100, 10**9], ids=["status", "no-status"])
def test_a_replica_alone_in_a_later_view_catches_up_when_the_cluster_goes_idle(
    status_ticks: int,
) -> None:
    """Issue 11, as seen on a real cluster: r3 moves alone to view 1 (it holds a request it
    cannot get committed), the other three commit that request in view 0, the network
    heals, and nothing more is submitted. The idle phase (cluster.py) requires every
    honest replica to reach the highest height within IDLE_STATUS_ROUNDS status periods:
    with the status Commits r3 catches up; without them (status_ticks too long to fire) it
    stays behind and the run reports it."""
    options = dataclasses.replace(
        options_for_seed(0, scenario="clean"),
        replicas=4,
        clock_skew_ms_max=0,
        requests_fault_phase=0,
        requests_liveness_phase=0,
        fault_phase_ms=2_000,
        status_ticks=status_ticks,
    )
    simulation = Simulation(options)
    seen: dict[str, object] = {}

    def isolate_r3_and_submit() -> None:
        simulation.network.isolate(3)
        tx = Transaction.create(client_key(0), CHAIN_ID, NOOP_KIND, b"held by r3", 1)
        for target in (3, 0):
            simulation._step(simulation.nodes[target], RequestReceived(tx))

    def before_healing() -> None:
        replicas = [node.replica for node in simulation.nodes]
        seen["views"] = [r.view if r is not None else None for r in replicas]
        seen["heights"] = [node.store.height for node in simulation.nodes]

    simulation._push(5, "call", isolate_r3_and_submit)
    simulation._push(options.fault_phase_ms - 5, "call", before_healing)
    result = simulation.run()
    assert seen["heights"] == [1, 1, 1, 0]
    views = seen["views"]
    assert isinstance(views, list) and views[:3] == [0, 0, 0] and views[3] >= 1
    if status_ticks == 100:
        assert result.ok, result.report()
        assert result.heights == {0: 1, 1: 1, 2: 1, 3: 1}
    else:
        assert not result.ok and "IDLE LIVENESS" in result.violations[0]


@pytest.mark.slow
@pytest.mark.parametrize("seed", SLOW_SEEDS)
def test_many_more_seeds(seed: int) -> None:
    result = run_seed(options_for_seed(seed))
    assert result.ok, result.report()
