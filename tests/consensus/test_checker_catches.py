"""The simulator's safety checker can fail: f+1 colluding replicas break PBFT.

PBFT is safe with at most f = (n-1)/3 Byzantine replicas (Castro & Liskov section 4.5);
with f+1 of them, two honest replicas can be made to commit different blocks at the
same height. If the checker did not see that, a green simulation would mean nothing.
"""

from __future__ import annotations

import dataclasses

from tests.simulation.byzantine import ByzantineContext, Coalition, Strategy, TwoFaced
from tests.simulation.cluster import Simulation, validator_key
from tests.simulation.options import options_for_seed


def _run_coalition(members: list[int], seed: int = 7) -> list[str]:
    options = dataclasses.replace(
        options_for_seed(seed, "clean"),
        replicas=4,
        byzantine={m: "two-faced" for m in members},
        liveness_bound_ms=3_000,
    )
    honest = [r for r in range(4) if r not in members]
    coalition = Coalition(
        keys={m: validator_key(m) for m in members},
        group_a={honest[0]},
        group_b=set(honest[1:]),
    )

    def factory(context: ByzantineContext) -> Strategy:
        return TwoFaced(context, coalition)

    return Simulation(options, strategy_factory=factory).run().violations


def test_f_plus_one_byzantine_replicas_make_the_safety_checker_fail() -> None:
    violations = _run_coalition([0, 1])
    assert any("SAFETY" in v for v in violations), violations


def test_the_same_attack_by_f_replicas_is_harmless() -> None:
    violations = _run_coalition([0])
    assert not any("SAFETY" in v or "EQUIVOCATION" in v for v in violations), violations
