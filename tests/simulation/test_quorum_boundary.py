"""Forgeries one signature short of a quorum are refused (issue 12, boundary.py).

Each strategy runs over seeded clusters of 4 and 7 replicas in each variant (quorum - 1
signers; one signer counted twice; one signer outside the validator set). A correct
replica refuses every forgery, so the runs are safe and live. Weakening one count in
consensus/ by one (check_certificate, check_prepared_certificate, check_new_view) makes
these tests fail; docs/TESTING.md records how that was shown.
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.simulation.boundary import (
    BOUNDARY_STRATEGIES,
    VARIANTS,
    BoundarySimulation,
    ShortPreparedCertificate,
)
from tests.simulation.options import SimOptions, options_for_seed

SEEDS_PER_CASE = 4
"""Seeds 0..3 give both cluster sizes (options.py picks 4, 4 or 7 replicas)."""


def _options(seed: int, strategy: str) -> SimOptions:
    base = options_for_seed(seed, "crashes" if "fetch" in strategy else "clean")
    return dataclasses.replace(base, replicas=7 if seed % 2 else 4)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("strategy", sorted(BOUNDARY_STRATEGIES))
@pytest.mark.parametrize("seed", range(SEEDS_PER_CASE))
def test_forgery_one_short_of_a_quorum_is_refused(seed: int, strategy: str, variant: str) -> None:
    simulation = BoundarySimulation(_options(seed, strategy), strategy, variant)
    result = simulation.run()
    assert result.ok, result.report()


@pytest.mark.parametrize("strategy", sorted(BOUNDARY_STRATEGIES))
def test_the_forgeries_reach_the_replicas(strategy: str) -> None:
    """Not vacuous: across the seeds, each strategy's forgery reaches honest replicas and
    is dropped for the reason under test."""
    reasons: dict[str, int] = {}
    for seed in range(SEEDS_PER_CASE):
        simulation = BoundarySimulation(_options(seed, strategy), strategy, "short")
        simulation.run()
        for node in simulation.nodes:
            if node.honest and node.replica is not None:
                for reason, count in node.replica.stats.dropped.items():
                    reasons[reason] = reasons.get(reason, 0) + count
    expected = {
        "short-certificate-fetch": "fetched block refused",
        "short-certificate-view-change": "invalid view-change",
        "short-prepared-certificate": "invalid new-view",
        "short-new-view": "invalid new-view",
    }[strategy]
    assert any(expected in reason for reason in reasons), reasons


def test_prepared_certificate_forgery_is_built_from_a_genuine_view_change() -> None:
    """The NewView holds exactly a quorum: one honest ViewChange and quorum - 1 forged."""
    simulation = BoundarySimulation(
        _options(0, "short-prepared-certificate"), "short-prepared-certificate", "short"
    )
    simulation.run()
    strategy = simulation.nodes[1].strategy
    assert isinstance(strategy, ShortPreparedCertificate)
    assert strategy.forged_views
