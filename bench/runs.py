"""The phases of `python -m bench`, each returning a JSON-ready dict of what it measured.

Every phase that loads a cluster reads the cluster's CPU seconds from /proc before and
after (bench/measure.py), and the load generator's own CPU seconds, because on a small
machine the client shares the cores with the cluster it loads.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import resource
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import votingcontract
from bench import etcd, loadgen, profile, vcluster
from bench.loadgen import Progress, Request, RunResult
from bench.measure import cpu_seconds, cpu_used_s, disk_bytes, rss_bytes

IN_FLIGHT = 128
"""Requests in flight in every closed loop (the issue's figure for a city-wide rush)."""
ENROLL_ROUNDS_MAX = 3
"""Enrolments refused with a retryable answer are sent again, at most this often."""
BALLOT_KIND = votingcontract.CastBallot.KIND
ETCD_PUTS_PER_S_PREPARED = 8_000
"""etcd puts made before the closed loop, per second of it (more are made as they go)."""
LONG_RUN_CHUNK_VOTERS = 10_000
"""The long run enrols and signs this many voters at a time, so the client never holds a
million signed ballots."""


@dataclass
class Context:
    """What every phase needs: the event loop runner, the progress display, the plan."""

    runner: asyncio.Runner
    progress: Progress
    say: Callable[[str], None]
    folder: Path
    duration_s: float
    open_duration_s: float


def client_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_measured(
    ctx: Context, pids: Callable[[], list[int]], load: Callable[[], Any]
) -> tuple[Any, dict[str, float]]:
    """Run `load` (a coroutine factory) on the loop; CPU of the processes and the client."""
    cpu_before, client_before = cpu_seconds(pids()), client_cpu_s()
    result = ctx.runner.run(load())
    cpu = {
        "cluster_cpu_s": round(cpu_used_s(cpu_before, cpu_seconds(pids())), 3),
        "client_cpu_s": round(client_cpu_s() - client_before, 3),
    }
    return result, cpu


def etcd_phase(ctx: Context) -> dict[str, Any]:
    """The 4-member etcd cluster's closed-loop maximum with ballot-sized puts."""
    binary = etcd.find_etcd()
    if binary is None:
        ctx.say(etcd.INSTALL_HINT + "; skipping the etcd part")
        return {"skipped": etcd.INSTALL_HINT}
    cluster = etcd.EtcdCluster(ctx.folder / "etcd", binary)
    cluster.folder.mkdir(parents=True)
    ctx.say(f"etcd {etcd.etcd_version(binary)}: starting {cluster.members} members ...")
    cluster.start()
    try:
        # Bodies are made before the clock runs, as votechain's ballots are signed
        # before it: building them in the loop cost the client 0.02 ms per put.
        made = list(cluster.puts(round(ETCD_PUTS_PER_S_PREPARED * ctx.duration_s)))
        puts = itertools.chain(made, cluster.puts(10**9, first=len(made)))
        ctx.say(f"etcd: closed loop, {IN_FLIGHT} in flight, {ctx.duration_s:.0f} s ...")

        async def load() -> RunResult:
            async with loadgen.session(IN_FLIGHT) as http:
                return await loadgen.closed_loop(
                    http,
                    puts,
                    etcd.classify,
                    frozenset({etcd.OK}),
                    IN_FLIGHT,
                    ctx.duration_s,
                    (ctx.progress, "etcd puts", None),
                )

        result, cpu = run_measured(ctx, lambda: cluster.pids, load)
        rss = {f"e{i + 1}": rss_bytes(pid) for i, pid in enumerate(cluster.pids)}
    finally:
        cluster.stop()
    summary = closed_summary(result, cpu)
    summary.update(version=etcd.etcd_version(binary), members=cluster.members)
    summary["rss_mib"] = {k: round(v / 2**20, 1) for k, v in rss.items()}
    ctx.say(
        f"  etcd: {summary['per_s']:,.0f} puts/s, "
        f"{summary['cpu_ms_per_write']:.3f} ms cluster CPU per put"
    )
    return summary


def closed_summary(result: RunResult, cpu: dict[str, float]) -> dict[str, Any]:
    count = result.acknowledged_count
    summary = result.to_dict()
    summary.update(cpu)
    summary["per_s"] = round(result.acknowledged_per_s, 1)
    # Cores the cluster kept busy: well under the machine's cores at the maximum means
    # something other than CPU (pacing, waiting) limits it.
    summary["cluster_cores_busy"] = (
        round(cpu["cluster_cpu_s"] / result.elapsed_s, 2) if result.elapsed_s else None
    )
    summary["cpu_ms_per_write"] = round(cpu["cluster_cpu_s"] * 1000 / count, 3) if count else None
    summary["client_cpu_ms_per_write"] = (
        round(cpu["client_cpu_s"] * 1000 / count, 3) if count else None
    )
    return summary


# --- votechain --------------------------------------------------------------------------


@dataclass
class Prepared:
    cluster: vcluster.BenchCluster
    ballots: Iterator[Request]
    ballot_count: int
    first_ballot_height: int
    """The chain's height when the ballots start: every block above holds ballots only."""
    enrollment: dict[str, Any]
    poll_ids: list[bytes]


def start_cluster(ctx: Context, validators: int, ballots: int, polls: int) -> Prepared:
    """Start a cluster, enroll voters and sign one ballot per voter and poll (untimed,
    except the enrolment rate, which is a figure of its own)."""
    cluster = vcluster.BenchCluster(ctx.folder / f"votechain-{validators}", validators)
    ctx.say(f"votechain: starting {validators} validators ...")
    cluster.start()
    try:
        poll_ids = cluster.create_polls(polls)
        voters = vcluster.voter_keys(-(-ballots // polls), vcluster.fresh_seed())
        enrollment = enroll(ctx, cluster, voters)
        height = cluster.wait_converged()
        ctx.say(f"  signing {len(voters) * polls:,} ballots ...")
        signed = cluster.ballots(voters, poll_ids)[:ballots]
    except BaseException:
        cluster.stop()
        raise
    return Prepared(cluster, iter(signed), len(signed), height + 1, enrollment, poll_ids)


def enroll(ctx: Context, cluster: vcluster.BenchCluster, voters: list[Any]) -> dict[str, Any]:
    ctx.say(f"  enrolling {len(voters):,} voters ({IN_FLIGHT} in flight) ...")
    pending = cluster.enrollments(voters)
    started = time.monotonic()
    outcomes: dict[str, int] = {}
    enrolled = 0
    for _ in range(ENROLL_ROUNDS_MAX):
        result = ctx.runner.run(_closed(ctx, pending, "enrolments"))
        enrolled += result.acknowledged_count
        for outcome, count in result.outcomes.items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
        done = set(result.acknowledged)
        pending = [r for r in pending if r.key not in done]
        if not pending:
            break
    elapsed_s = time.monotonic() - started
    if pending:
        raise RuntimeError(f"{len(pending)} enrolments did not commit: {outcomes}")
    ctx.say(f"  {enrolled:,} enrolled in {elapsed_s:.1f} s ({enrolled / elapsed_s:,.0f}/s)")
    return {
        "voters": enrolled,
        "elapsed_s": round(elapsed_s, 2),
        "per_s": round(enrolled / elapsed_s, 1),
        "outcomes": outcomes,
    }


async def _closed(
    ctx: Context,
    requests: Sequence[Request] | Iterator[Request],
    phase: str,
    duration_s: float | None = None,
    total: int | None = None,
) -> RunResult:
    async with loadgen.session(IN_FLIGHT) as http:
        return await loadgen.closed_loop(
            http,
            iter(requests),
            vcluster.classify,
            vcluster.SUCCESS,
            IN_FLIGHT,
            duration_s,
            (ctx.progress, phase, total if total is not None else _len(requests)),
            retry=vcluster.COME_BACK,
        )


def _len(requests: Sequence[Request] | Iterator[Request]) -> int | None:
    return len(requests) if isinstance(requests, Sequence) else None


def view_changes(statuses: dict[str, dict[str, Any]]) -> dict[str, int]:
    return {n: int(s["consensus"]["view_changes"]) for n, s in statuses.items()}


def with_cluster_figures(
    ctx: Context,
    prepared: Prepared,
    load: Callable[[], Any],
    node_ids: list[str] | None = None,
) -> tuple[RunResult, dict[str, Any]]:
    """Run a load on the cluster; its CPU, the client's, and the view changes it saw."""
    cluster = prepared.cluster
    before = view_changes(cluster.statuses(node_ids))
    result, cpu = run_measured(ctx, lambda: cluster.pids(node_ids), load)
    after_statuses = cluster.statuses(node_ids)
    after = view_changes(after_statuses)
    figures: dict[str, Any] = dict(cpu)
    figures["view_changes"] = max(after[n] - before.get(n, 0) for n in after)
    figures["views_after"] = {n: s["view"] for n, s in after_statuses.items()}
    return result, figures


def closed_max(
    ctx: Context, prepared: Prepared, label: str, profile_dir: Path | None = None
) -> tuple[dict[str, Any], list[bytes]]:
    """The closed-loop maximum; with `profile_dir`, py-spy profiles of the primary and
    one backup over the run (bench/profile.py)."""
    ctx.say(f"{label}: closed loop, {IN_FLIGHT} in flight, {ctx.duration_s:.0f} s ...")
    recordings = _start_profiles(ctx, prepared.cluster, profile_dir)
    result, figures = with_cluster_figures(
        ctx, prepared, lambda: _closed(ctx, prepared.ballots, "ballots", ctx.duration_s, None)
    )
    summary = closed_summary(result, figures)
    summary.update(figures)
    if recordings:
        summary["profiles"] = profile.finish(recordings)
        for name, node_summary in summary["profiles"].items():
            ctx.say(profile.summary_text(name, node_summary))
    if result.sent and result.elapsed_s < ctx.duration_s * 0.9:
        summary["note"] = "ran out of prepared ballots before the duration (raise --ballots)"
    ctx.say(
        f"  {summary['per_s']:,.0f} committed/s, {summary['cpu_ms_per_write'] or 0:.3f} ms "
        f"cluster CPU per ballot ({summary['cluster_cores_busy']} cores busy), "
        f"{summary['view_changes']} view changes, "
        f"outcomes {dict(result.outcomes)}"
    )
    return summary, result.acknowledged


def _start_profiles(
    ctx: Context, cluster: vcluster.BenchCluster, folder: Path | None
) -> list[profile.Recording]:
    if folder is None:
        return []
    py_spy = profile.find_py_spy()
    if py_spy is None:
        ctx.say("no profiles: py-spy is missing (pip install py-spy)")
        return []
    primary = cluster.node_ids[int(cluster.status("n1")["primary"])]
    backup = next(n for n in cluster.node_ids if n != primary)
    pids = {
        f"{primary}-primary": cluster.processes[primary].pid,
        f"{backup}-backup": cluster.processes[backup].pid,
    }
    ctx.say(f"  profiling {', '.join(pids)} with py-spy into {folder}")
    return profile.start(py_spy, pids, folder, ctx.duration_s)


def take_ballots(ctx: Context, prepared: Prepared, rate_per_s: float) -> list[Request]:
    """The prepared ballots an open-loop run at rate_per_s needs (fewer if short)."""
    return list(itertools.islice(prepared.ballots, int(rate_per_s * ctx.open_duration_s)))


def open_run(
    ctx: Context, prepared: Prepared, rate_per_s: float, requests: list[Request] | None = None
) -> tuple[dict[str, Any] | None, list[bytes]]:
    """An open-loop run of rate_per_s x open_duration_s ballots, `requests` or taken from
    the prepared ones now (None if none are left)."""
    wanted = int(rate_per_s * ctx.open_duration_s)
    if requests is None:
        requests = take_ballots(ctx, prepared, rate_per_s)
    if not requests:
        ctx.say(f"votechain: no ballots left for {rate_per_s:,.0f}/s (raise --ballots); skipped")
        return None, []
    ctx.say(
        f"votechain: open loop at {rate_per_s:,.0f}/s offered for "
        f"{len(requests) / rate_per_s:.1f} s ({len(requests):,} ballots) ..."
    )

    async def load() -> RunResult:
        async with loadgen.session(0) as http:
            return await loadgen.open_loop(
                http,
                requests,
                vcluster.classify,
                vcluster.SUCCESS,
                rate_per_s,
                (ctx.progress, f"{rate_per_s:,.0f}/s offered", len(requests)),
            )

    settle(ctx, prepared)
    result, figures = with_cluster_figures(ctx, prepared, load)
    summary = result.to_dict()
    summary.update(figures)
    count = result.acknowledged_count
    summary["cpu_ms_per_write"] = (
        round(figures["cluster_cpu_s"] * 1000 / count, 3) if count else None
    )
    if len(requests) < wanted:
        summary["note"] = f"only {len(requests)} of {wanted} ballots were left (raise --ballots)"
    latency = summary["latency_acknowledged"]
    ctx.say(
        f"  {summary['acknowledged_per_s']:,.0f}/s acknowledged, p50 "
        f"{latency.get('p50_ms', '-')} ms, p99 {latency.get('p99_ms', '-')} ms, "
        f"{figures['view_changes']} view changes, outcomes {dict(result.outcomes)}"
    )
    return summary, result.acknowledged


def loss_check(prepared: Prepared, acknowledged: list[bytes]) -> dict[str, Any]:
    """Every acknowledged ballot is in every node's chain, once; ballots on disk."""
    cluster = prepared.cluster
    head = cluster.wait_converged()
    per_node: dict[str, Any] = {}
    for node_id in cluster.node_ids:
        if node_id not in cluster.processes:
            continue
        txs = list(cluster.chain_txs(node_id, prepared.first_ballot_height, head))
        ids = [tx_id for tx_id, _ in txs]
        present = set(ids)
        per_node[node_id] = {
            "ballot_blocks": head - prepared.first_ballot_height + 1,
            "transactions": len(ids),
            "ballots": sum(1 for _, kind in txs if kind == BALLOT_KIND),
            "duplicates": len(ids) - len(present),
            "acknowledged_missing": sum(1 for a in acknowledged if a not in present),
        }
    return {"acknowledged": len(acknowledged), "head": head, "nodes": per_node}


def count_ballots(cluster: vcluster.BenchCluster, node_id: str, first: int, last: int) -> int:
    return sum(1 for _, kind in cluster.chain_txs(node_id, first, last) if kind == BALLOT_KIND)


def disk_and_memory(
    prepared: Prepared, disk_before: dict[str, int], ballots: int
) -> dict[str, Any]:
    """Bytes on disk and RSS per node. Per transaction: the whole node folder over every
    transaction on the chain (enrolments and polls included), which LevelDB's compactions
    cannot turn negative, unlike the growth over the ballot runs, kept for reference."""
    cluster = prepared.cluster
    head = cluster.wait_converged()
    transactions = sum(1 for _ in cluster.chain_txs(cluster.node_ids[0], 1, head))
    disk = {n: disk_bytes(cluster.config.node_dir(n)) for n in cluster.node_ids}
    rss = {n: rss_bytes(p.pid) for n, p in cluster.processes.items()}
    grown = {
        n: round((disk[n] - disk_before.get(n, 0)) / ballots, 1) if ballots else None for n in disk
    }
    return {
        "ballots_on_chain": ballots,
        "transactions_on_chain": transactions,
        "disk_bytes": disk,
        "disk_bytes_per_tx": {n: round(v / transactions, 1) for n, v in disk.items()},
        "disk_growth_per_ballot": grown,
        "rss_mib": {n: round(v / 2**20, 1) for n, v in rss.items()},
    }


def settle(ctx: Context, prepared: Prepared) -> None:
    """Wait (bounded) until no node holds waiting transactions, so a run does not start
    on the backlog of the one before."""
    deadline = time.monotonic() + vcluster.CONVERGE_TIMEOUT_S
    while time.monotonic() < deadline:
        if all(s["mempool"] == 0 for s in prepared.cluster.statuses().values()):
            return
        time.sleep(0.2)
    ctx.say("  (the mempools did not empty within the bound; starting anyway)")


def catch_up(ctx: Context, prepared: Prepared, ballots: int) -> dict[str, Any]:
    """Stop the last node, commit `ballots` without it, restart it and time its catch-up."""
    cluster = prepared.cluster
    victim = cluster.node_ids[-1]
    others = [n for n in cluster.node_ids if n != victim]
    ballots_to_send = more_ballots(ctx, prepared, ballots)  # enrolled while all nodes run
    cluster.stop(victim)
    height_before = cluster.wait_converged(others)
    victim_url = cluster.config.node(victim).rpc_url
    replacement = cluster.config.node(others[0]).rpc_url
    requests = [
        dataclasses.replace(r, url=r.url.replace(victim_url, replacement)) for r in ballots_to_send
    ]
    ctx.say(f"catch-up: {victim} stopped; committing {len(requests):,} ballots without it ...")
    result = ctx.runner.run(_closed(ctx, requests, "ballots while a node is down"))
    head = cluster.wait_converged(others)
    missed = count_ballots(cluster, others[0], height_before + 1, head)
    ctx.say(f"  restarting {victim}, {head - height_before} blocks ({missed:,} ballots) behind ...")
    started = time.monotonic()
    cluster.start(victim)
    serving = time.monotonic()
    deadline = serving + vcluster.CONVERGE_TIMEOUT_S * 5
    while cluster.status(victim)["height"] < head:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{victim} did not catch up within {deadline - serving:.0f} s")
        time.sleep(0.05)
    caught_up = time.monotonic()
    summary = {
        "node": victim,
        "blocks_behind": head - height_before,
        "ballots_missed": missed,
        "acknowledged_while_down": result.acknowledged_count,
        "start_s": round(serving - started, 2),
        "catch_up_s": round(caught_up - serving, 2),
        "ballots_per_s": round(missed / (caught_up - serving), 1),
        "ballots_per_s_start_included": round(missed / (caught_up - started), 1),
    }
    ctx.say(
        f"  caught up {missed:,} ballots in {caught_up - serving:.1f} s after it served "
        f"({summary['ballots_per_s']:,.0f}/s; start-up {serving - started:.1f} s)"
    )
    return summary


def more_ballots(ctx: Context, prepared: Prepared, count: int) -> list[Request]:
    """`count` signed ballots: what is left of the prepared ones, then ballots of voters
    enrolled now (one per voter and poll)."""
    taken = list(itertools.islice(prepared.ballots, count))
    if len(taken) < count:
        cluster = prepared.cluster
        voters = vcluster.voter_keys(
            -(-(count - len(taken)) // len(prepared.poll_ids)), vcluster.fresh_seed()
        )
        enroll(ctx, cluster, voters)
        cluster.wait_converged()
        taken += cluster.ballots(voters, prepared.poll_ids)[: count - len(taken)]
    return taken


def long_run(ctx: Context, prepared: Prepared, ballots: int) -> dict[str, Any]:
    """Fill the chain to `ballots` ballots in chunks (new voters in the same polls), then
    RSS and disk per node."""
    cluster = prepared.cluster
    head = cluster.wait_converged()
    on_chain = count_ballots(cluster, "n1", prepared.first_ballot_height, head)
    started, chunk = time.monotonic(), 0
    while on_chain < ballots:  # bounded: every chunk commits ballots or raises
        chunk += 1
        wanted = min(ballots - on_chain, LONG_RUN_CHUNK_VOTERS * len(prepared.poll_ids))
        signed = more_ballots(ctx, prepared, wanted)
        result = ctx.runner.run(_closed(ctx, signed, f"long run chunk {chunk}"))
        if not result.acknowledged_count:
            raise RuntimeError(f"long run: chunk {chunk} committed nothing: {result.outcomes}")
        on_chain += result.acknowledged_count
        rss = {n: round(rss_bytes(p.pid) / 2**20) for n, p in cluster.processes.items()}
        ctx.say(f"  long run: {on_chain:,}/{ballots:,} ballots, RSS MiB {rss}")
    cluster.wait_converged()
    disk = {n: disk_bytes(cluster.config.node_dir(n)) for n in cluster.processes}
    return {
        "ballots_on_chain": on_chain,
        "elapsed_s": round(time.monotonic() - started, 1),
        "rss_mib": {n: round(rss_bytes(p.pid) / 2**20, 1) for n, p in cluster.processes.items()},
        "disk_bytes": disk,
    }
