"""Every option of a simulation run, derived from its seed and printed with it.

The seed picks a scenario (seed mod the number of scenarios, so any 500 consecutive
seeds cover each one many times), then the rates and sizes within it.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field

SCENARIOS = (
    "clean",
    "lossy",
    "partitions",
    "crashes",
    "equivocating-primary",
    "conflicting-votes",
    "replay",
    "forger",
    "silent",
    "bad-timestamps",
    "invalid-blocks",
    "mixed",
    "oversized-blocks",
    "disk-faults",
)
"""Fault families; the Byzantine ones name the strategy classes in byzantine.py."""

BYZANTINE_SCENARIOS = {
    "equivocating-primary": "equivocating-primary",
    "conflicting-votes": "conflicting-votes",
    "replay": "replay",
    "forger": "forger",
    "silent": "silent",
    "bad-timestamps": "bad-timestamps",
    "invalid-blocks": "invalid-blocks",
    "oversized-blocks": "oversized-blocks",
}
PRIMARY_STRATEGIES = {
    "equivocating-primary",
    "bad-timestamps",
    "invalid-blocks",
    "oversized-blocks",
}
ALL_STRATEGIES = tuple(sorted(set(BYZANTINE_SCENARIOS.values())))


@dataclass(frozen=True)
class SimOptions:
    seed: int
    scenario: str
    replicas: int
    byzantine: dict[int, str] = field(default_factory=dict)
    # Network, during the fault phase (the liveness phase keeps only the delays).
    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    replay_rate: float = 0.0
    delay_ms_min: int = 1
    delay_ms_max: int = 15
    partitions: int = 0
    partition_ms_max: int = 600
    # Crashes, during the fault phase.
    crashes: int = 0
    crash_down_ms_max: int = 500
    crash_mid_effects: bool = False
    # Disk faults, during the fault phase: windows in which one honest replica's store
    # refuses every write; the node stops on the refused write (fail-stop, as
    # node/service.py does) and cannot restart until the window ends.
    disk_faults: int = 0
    disk_fault_ms_max: int = 400
    # Clocks and timers.
    tick_ms: int = 10
    clock_skew_ms_max: int = 50
    max_clock_drift_ms: int = 1_000
    request_timeout_ticks: int = 15
    retransmit_ticks: int = 5
    status_ticks: int = 100
    checkpoint_interval: int = 3
    watermark_window: int = 6
    max_block_txs: int = 4
    # Workload and phases.
    requests_fault_phase: int = 8
    requests_liveness_phase: int = 4
    fault_phase_ms: int = 2_000
    liveness_bound_ms: int = 60_000

    def describe(self) -> str:
        fields = asdict(self)
        return " ".join(f"{name}={value}" for name, value in fields.items())


def options_for_seed(seed: int, scenario: str | None = None) -> SimOptions:
    """The options of run `seed` (optionally forcing its scenario)."""
    rng = random.Random(seed)
    scenario = scenario or SCENARIOS[seed % len(SCENARIOS)]
    replicas = rng.choice((4, 4, 7))
    f = (replicas - 1) // 3
    k = rng.choice((2, 3, 4))
    common = dict(
        seed=seed,
        scenario=scenario,
        replicas=replicas,
        delay_ms_min=rng.randint(1, 3),
        delay_ms_max=rng.randint(5, 30),
        clock_skew_ms_max=rng.choice((0, 20, 100)),
        request_timeout_ticks=rng.choice((10, 15, 25)),
        retransmit_ticks=rng.choice((3, 5, 8)),
        checkpoint_interval=k,
        watermark_window=k * rng.choice((2, 3)),
        max_block_txs=rng.choice((1, 2, 4, 8)),
        requests_fault_phase=rng.randint(4, 10),
        requests_liveness_phase=rng.randint(2, 5),
        fault_phase_ms=rng.choice((1_000, 1_500, 2_500)),
    )
    faults: dict[str, object] = {}
    if scenario == "lossy":
        faults = dict(
            drop_rate=rng.choice((0.05, 0.15, 0.3)),
            duplicate_rate=rng.choice((0.0, 0.1, 0.3)),
            replay_rate=rng.choice((0.0, 0.05)),
        )
    elif scenario == "partitions":
        faults = dict(partitions=rng.randint(1, 4), partition_ms_max=rng.choice((300, 800)))
    elif scenario == "crashes":
        faults = dict(
            crashes=rng.randint(1, 4),
            crash_mid_effects=rng.random() < 0.6,
            drop_rate=rng.choice((0.0, 0.05)),
        )
    elif scenario == "disk-faults":
        faults = dict(
            disk_faults=rng.randint(1, 5),
            disk_fault_ms_max=rng.choice((20, 150, 400)),
            drop_rate=rng.choice((0.0, 0.05)),
            crashes=rng.randint(0, 1),
        )
    elif scenario in BYZANTINE_SCENARIOS:
        strategy = BYZANTINE_SCENARIOS[scenario]
        count = rng.randint(1, f)
        ids = _byzantine_ids(rng, replicas, count, strategy in PRIMARY_STRATEGIES)
        faults = dict(
            byzantine={i: strategy for i in ids},
            drop_rate=rng.choice((0.0, 0.0, 0.05)),
        )
    elif scenario == "mixed":
        count = rng.randint(0, f)
        ids = _byzantine_ids(rng, replicas, count, rng.random() < 0.5)
        faults = dict(
            byzantine={i: rng.choice(ALL_STRATEGIES) for i in ids},
            drop_rate=rng.choice((0.02, 0.1)),
            duplicate_rate=0.05,
            replay_rate=0.02,
            partitions=rng.randint(0, 2),
            crashes=rng.randint(0, 2),
            crash_mid_effects=True,
        )
    return SimOptions(**common, **faults)  # type: ignore[arg-type]


def _byzantine_ids(rng: random.Random, replicas: int, count: int, lead: bool) -> list[int]:
    """`count` replica ids; when `lead`, replica 0 (the primary of view 0) is one of them."""
    if count == 0:
        return []
    ids = rng.sample(range(1, replicas), count - 1 if lead else count)
    return sorted([0, *ids] if lead else ids)
