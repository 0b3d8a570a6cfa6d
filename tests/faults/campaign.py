"""The fault campaign: a seeded schedule of faults against a real 4-process cluster.

One seed derives the whole schedule (kinds, victims, durations, gaps) and the races; all
of it is printed, and a failing run ends with the command that repeats it. Phases:
set-up (cluster, voters), faults (one at a time: inject, hold, heal, gap) under a
continuous ballot stream and double-vote races, then the healed phase: every node must
commit again within RESUME_AFTER_HEAL_S_MAX of the last heal, and the checker
(checker.py) runs.

    python -m tests.faults --minutes 30 --seed N      (see docs/OPERATIONS.md)
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli.client import RpcFailure
from tests.faults import checker
from tests.faults.cluster import FaultCluster
from tests.faults.faults import (
    ClockSkew,
    ClockSkewBeyond,
    DiskFull,
    Fault,
    Kill,
    KillPrimary,
    Partition,
    Pause,
    SplitPartition,
    Terminate,
)
from tests.faults.load import Load

RESUME_AFTER_HEAL_S_MAX = 30.0
DRIFT_MS = 5000
KINDS = (
    "kill",
    "kill_primary",
    "terminate",
    "stop",
    "partition",
    "partition_split",
    "disk_full",
    "clock_skew",
    "clock_skew_beyond",
)
PROGRESS_EVERY_S = 10.0


@dataclass(frozen=True)
class Plan:
    seed: int
    fault_seconds: float
    """How long the fault phase lasts (the schedule is cut there)."""
    stream_voters: int
    race_voters: int
    workers: int
    gap_s: tuple[float, float]
    hold_scale: float
    """Fault durations are multiplied by this (short runs hold faults for less)."""

    @staticmethod
    def short(seed: int) -> Plan:
        return Plan(seed, 90.0, 60, 60, 6, (1.0, 2.0), 0.6)

    @staticmethod
    def long(seed: int, minutes: float) -> Plan:
        return Plan(seed, minutes * 60, 540, 1000, 16, (2.0, 5.0), 1.0)

    def reproduce(self) -> str:
        minutes = self.fault_seconds / 60
        return f"python -m tests.faults --minutes {minutes:g} --seed {self.seed}"


def schedule(plan: Plan, node_ids: list[str]) -> list[tuple[float, Fault]]:
    """(gap before, fault) pairs: every kind once in a seeded order, then seeded choices."""
    rng = random.Random(plan.seed)
    kinds = list(KINDS)
    rng.shuffle(kinds)
    planned: list[tuple[float, Fault]] = []
    elapsed_s = 0.0
    while elapsed_s < plan.fault_seconds:
        kind = kinds.pop(0) if kinds else rng.choice(KINDS)
        fault = make_fault(kind, rng, node_ids, plan.hold_scale)
        gap_s = rng.uniform(*plan.gap_s)
        planned.append((gap_s, fault))
        elapsed_s += gap_s + fault.duration_s
    return planned


def make_fault(kind: str, rng: random.Random, node_ids: list[str], scale: float) -> Fault:
    victim = rng.choice(node_ids)

    def hold(low_s: float, high_s: float) -> float:
        return round(rng.uniform(low_s, high_s) * scale, 1)

    sign = rng.choice((-1, 1))
    if kind == "kill":
        return Kill(victim, hold(5, 12))
    if kind == "kill_primary":
        return KillPrimary("primary", hold(8, 15))
    if kind == "terminate":
        return Terminate(victim, hold(3, 8))
    if kind == "stop":
        return Pause(victim, hold(5, 20))
    if kind == "partition":
        return Partition(victim, hold(5, 15))
    if kind == "partition_split":
        partner = rng.choice([n for n in node_ids if n != victim])
        return SplitPartition(victim, hold(4, 10), partner=partner)
    if kind == "disk_full":
        return DiskFull(victim, max(hold(10, 20), 8.0))  # room to fail-stop under load
    if kind == "clock_skew":
        return ClockSkew(victim, hold(8, 15), offset_ms=sign * rng.randint(500, DRIFT_MS // 2))
    return ClockSkewBeyond(
        victim, hold(8, 15), offset_ms=sign * rng.randint(2 * DRIFT_MS, 4 * DRIFT_MS)
    )


@dataclass
class PrimaryResume:
    """When the cluster commits again after its primary was killed: a block committed
    in a later view than the dead primary's. Blocks the old view had in flight, which
    commit right after the kill, do not count."""

    victim: str
    old_view: int
    new_view_height: int | None = None
    resumed_s: float | None = None

    def sample(self, cluster: FaultCluster, injected: float) -> None:
        for node_id in cluster.node_ids:
            if node_id == self.victim:
                continue
            try:
                status = cluster.status(node_id)
            except RpcFailure:
                continue
            if status["view"] <= self.old_view or status["view_changing"]:
                continue
            if self.new_view_height is None:
                self.new_view_height = int(status["height"])
            elif int(status["height"]) > self.new_view_height:
                self.resumed_s = time.monotonic() - injected
                return


class Campaign:
    def __init__(self, plan: Plan, folder: Path, out: Any = sys.stdout) -> None:
        self.plan = plan
        self.folder = folder
        self.out = out
        self.faults_by_kind: Counter[str] = Counter()
        self.primary_resume_s: list[float] = []
        self.primary_not_resumed = 0
        self.disk_full_fail_stops = 0
        self.disk_full_missed = 0
        self.skew_lag_blocks: dict[str, list[int]] = {"clock_skew": [], "clock_skew_beyond": []}
        """How far behind the others a skewed node is at the end of the fault (blocks)."""
        self.started = time.monotonic()
        self._last_progress = 0.0

    def say(self, line: str) -> None:
        print(f"[{time.monotonic() - self.started:7.1f} s] {line}", file=self.out, flush=True)

    def run(self) -> checker.Verdict:
        plan = self.plan
        self.say(f"fault campaign seed {plan.seed}: {plan}")
        cluster = FaultCluster(self.folder, drift_ms=DRIFT_MS)
        verdict = checker.Verdict()
        try:
            cluster.start()
            load = Load(cluster, plan.stream_voters, plan.race_voters, plan.workers, plan.seed)
            load.prepare()
            self.say(f"{plan.stream_voters + plan.race_voters} voters enrolled; load starts")
            load.start(race_interval_s=1.0)
            planned = schedule(plan, cluster.node_ids)
            self.say("schedule: " + "; ".join(f.describe() for _, f in planned))
            for gap_s, fault in planned:
                self._wait(gap_s, cluster, load)
                self._run_fault(fault, cluster, load)
            healed_at = time.monotonic()
            resumed = checker.commits_again_s(cluster, healed_at, timeout_s=60)
            self.say(f"after the last heal, nodes commit again after {resumed}")
            load.stop()
            verdict.figures["commit_again_after_last_heal_s"] = {
                n: round(s, 2) for n, s in resumed.items()
            }
            slowest = max(resumed.values(), default=float("inf"))
            verdict.require(
                len(resumed) == len(cluster.node_ids) and slowest <= RESUME_AFTER_HEAL_S_MAX,
                f"not every node committed again within {RESUME_AFTER_HEAL_S_MAX} s of the "
                f"last heal: {resumed}",
            )
            verdict.require(
                self.disk_full_missed == 0,
                f"{self.disk_full_missed} disk-full faults did not stop their node (exit 74)",
            )
            checker.check_live(cluster, verdict)
            cluster.stop()
            checker.check_stopped(cluster, load, verdict)
        finally:
            cluster.stop()
            cluster.close()
        self._figures(verdict, cluster)
        self.say("summary " + json.dumps(verdict.figures, sort_keys=True))
        if verdict.failures:
            self.say("FAILED: " + " | ".join(verdict.failures))
            self.say(f"reproduce with: {plan.reproduce()}")
        return verdict

    def _run_fault(self, fault: Fault, cluster: FaultCluster, load: Load) -> None:
        old_view = -1
        if isinstance(fault, KillPrimary):
            fault.victim, old_view = self._primary(cluster)
        self.say(f"inject {fault.describe()}")
        injected = time.monotonic()
        fault.inject(cluster)
        self.faults_by_kind[fault.kind] += 1
        resume = PrimaryResume(fault.victim, old_view)
        while time.monotonic() - injected < fault.duration_s:
            if isinstance(fault, KillPrimary) and resume.resumed_s is None:
                resume.sample(cluster, injected)
            self._progress(cluster, load)
            time.sleep(0.1)
        if isinstance(fault, KillPrimary):
            if resume.resumed_s is None:
                self.primary_not_resumed += 1
            else:
                self.primary_resume_s.append(resume.resumed_s)
            self.say(
                f"the primary's kill: committing again in a new view after {resume.resumed_s} s"
            )
        if isinstance(fault, ClockSkew):
            self.skew_lag_blocks[fault.kind].append(self._lag(cluster, fault.victim))
        fault.heal(cluster)
        self.say(f"healed {fault.kind}")
        if isinstance(fault, DiskFull):
            self.disk_full_fail_stops += fault.fail_stopped
            self.disk_full_missed += not fault.fail_stopped

    def _primary(self, cluster: FaultCluster) -> tuple[str, int]:
        """The node most nodes name as primary, and the view they name it for."""
        named: Counter[tuple[str, int]] = Counter()
        for node_id in cluster.node_ids:
            try:
                status = cluster.status(node_id)
            except RpcFailure:
                continue
            named[(cluster.node_ids[status["primary"]], status["view"])] += 1
        return named.most_common(1)[0][0] if named else (cluster.node_ids[0], 0)

    def _lag(self, cluster: FaultCluster, node_id: str) -> int:
        try:
            own = int(cluster.status(node_id)["height"])
        except RpcFailure:
            own = 0
        return max(0, self._highest(cluster, exclude=node_id) - own)

    def _highest(self, cluster: FaultCluster, exclude: str = "") -> int:
        heights = [0]
        for node_id in cluster.node_ids:
            if node_id == exclude:
                continue
            try:
                heights.append(int(cluster.status(node_id)["height"]))
            except (RpcFailure, KeyError):
                continue
        return max(heights)

    def _wait(self, seconds: float, cluster: FaultCluster, load: Load) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._progress(cluster, load)
            time.sleep(0.1)

    def _progress(self, cluster: FaultCluster, load: Load) -> None:
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_EVERY_S:
            return
        self._last_progress = now
        assert load.stream is not None
        self.say(
            f"progress: height {self._highest(cluster)}, acknowledged {load.stream.count()}, "
            f"races {len(load.races)}, faults {sum(self.faults_by_kind.values())}, "
            f"exits {dict(cluster.exits)}, restarts {cluster.restarts}"
        )

    def _figures(self, verdict: checker.Verdict, cluster: FaultCluster) -> None:
        resume = self.primary_resume_s
        verdict.figures.update(
            seed=self.plan.seed,
            fault_phase_s=self.plan.fault_seconds,
            wall_s=round(time.monotonic() - self.started, 1),
            faults_by_kind=dict(self.faults_by_kind),
            node_exits_by_status={str(k): v for k, v in cluster.exits.items()},
            supervisor_restarts=cluster.restarts,
            primary_kill_resume_s_median=round(statistics.median(resume), 2) if resume else None,
            primary_kill_resume_s_max=round(max(resume), 2) if resume else None,
            primary_kill_not_resumed_in_hold=self.primary_not_resumed,
            disk_full_fail_stops=self.disk_full_fail_stops,
            skewed_node_lag_blocks_at_heal=self.skew_lag_blocks,
        )


def run_campaign(plan: Plan, folder: Path | None = None) -> checker.Verdict:
    if folder is not None:
        return Campaign(plan, folder).run()
    with tempfile.TemporaryDirectory(prefix="votechain-faults-") as tmp:
        return Campaign(plan, Path(tmp)).run()
