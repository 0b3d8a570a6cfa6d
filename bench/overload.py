"""Open-loop overload of a local 4-validator cluster: is the excess refused, not suffered?

    python -m bench.overload --rate 1000 --seconds 10            # one offered rate
    python -m bench.overload --rate 500 --rate 1000 --profile n1 # several; py-spy on n1

Steps, each said on stderr:

1. a cluster of `votechain node` processes on free loopback ports in a temporary folder
   (the product's default settings, except rpc.max_connections_per_client, raised because
   every simulated citizen here shares the address 127.0.0.1);
2. the demo polls, and --voters voters enrolled by the attester's key (no SMS);
3. the ballots, signed before any timing: each voter casts several on the demo budget
   poll, which allows revotes;
4. per offered rate, an open-loop run: ballot i is due at t0 + i / rate and is sent then
   whatever happened to the ones before (as POST /v1/tx?wait=commit, msgpack body, over
   --connections keep-alive connections, round-robin over the nodes); latency counts from
   the due time, so queueing in this client is not hidden, and "on the wire" from when
   the request was sent, which is what the node took;
5. after each run: answers by code, acknowledged (committed) ballots per second, latency
   percentiles per code, view changes and heights from /v1/status, busy refusals from
   /metrics, a per-second timeline (answers; each node's view and loop lag), and a check
   that every ballot acknowledged as committed is in the chain.

With --profile NODE, py-spy records that node during each run (speedscope JSON in the
temporary folder) and the top functions by own time and by total time are printed and
kept. --node-loop asyncio runs the nodes on asyncio's loop instead of uvloop, to compare.
Results: bench/results/overload-<UTC time>.json. The load generator runs on the same
machine as the cluster and takes CPU from it: its CPU seconds and its own loop's lateness
are in the results (a late client inflates every latency). Other modules (python -m
bench) call `run_overload`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

import votingcontract
from chain.keyfile import load_key
from chain.keys import PrivateKey
from chain.tx import Transaction
from cli.demo import seed_if_fresh
from cli.localports import free_port
from cli.runner import start_node, stop_nodes, wait_until_serving
from node import eventloop
from node.config import ClusterConfig, load_config
from node.setup import init_cluster, load_pepper

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
PRODUCT_PACKAGES = ("chain", "consensus", "votingcontract", "node")
CHOICES = [[0], [1], [2], [3], [0, 1], [1, 3], [0, 3], [1, 2], [0, 1, 3]]
"""Option sets of the demo budget poll that fit under its cap."""
MAX_CONNECTIONS_PER_CLIENT = 4096
"""Every simulated citizen connects from 127.0.0.1; in a city each has their own address."""
CONNECTIONS = 512
"""Keep-alive connections the load generator holds open, over all nodes: a ballot due when
all are busy waits for one, and that wait counts in its latency. (Thousands of fresh
connections a second from one process overflow the nodes' accept queues: the kernel drops
the SYNs and the client retries after 1, 3, 7 s, which measures the kernel, not the node.)"""
CLIENT_TIMEOUT_S = 30.0
"""Longer than the node's commit wait (20 s), so the node's own `timeout` answer is seen."""
ENROLL_IN_FLIGHT = 64
CHECK_IN_FLIGHT = 8
"""The node's heavy-read pool holds 8 (rpc.max_pending_reads); more would be told busy."""
CHECK_ATTEMPTS = 100
SETTLE_S = 3.0
"""Pause between runs, so one run's backlog does not count in the next."""


@dataclass
class Answer:
    due_s: float
    """When it was due, from the run's start."""
    latency_s: float
    """From the due time to the answer."""
    service_s: float
    """From the moment the request was on the wire (a connection was free) to the answer."""
    code: str
    """committed, pending, or the error code (or `client_error` for a failed connection)."""
    retry_after: str | None
    tx_id: bytes


@dataclass
class RunResult:
    offered_per_s: float
    seconds: float
    sent: int
    answers: dict[str, int]
    acknowledged_per_s: float
    """Ballots answered committed, per second of the sending window (due times)."""
    committed_txs: int
    """Transactions the cluster committed from the run's start to its end (n1's metrics)."""
    committed_per_s: float
    """committed_txs per second over the time from the first send to the last answer."""
    latency_ms: dict[str, dict[str, float]]
    """Per answer code: p50, p90, p99, max (from the due time)."""
    service_ms: dict[str, dict[str, float]]
    """The same from when the request went on the wire: what the node took."""
    busy_without_retry_after: int
    view_changes: dict[str, int]
    """Per node: view changes during this run (from /v1/status)."""
    heights: dict[str, int]
    busy_refusals: dict[str, int]
    """Per node: busy refusals of POST /v1/tx during this run (from /metrics)."""
    acknowledged_missing: int
    """Ballots answered committed that GET /v1/tx does not find (must be 0)."""
    client_cpu_s: float
    node_cpu_s: dict[str, float]
    """Per node: CPU seconds (user + system) from the run's start to its last answer."""
    node_cpu_ms_per_answer: float
    """All nodes' CPU over every answer of the run (committed and refused alike)."""
    client_loop_lag_ms: dict[str, float]
    """How late the load generator's own loop ran: latencies include it."""
    timeline: list[dict[str, Any]] = field(default_factory=list)
    """Per second of due time: answers by code; and each node's view and smoothed loop lag
    (from /v1/status, sampled every second while the run lasts)."""
    profile: dict[str, Any] = field(default_factory=dict)


# --- the cluster -------------------------------------------------------------------------


def cluster_toml(nodes: int, extra: str) -> str:
    listed = "".join(
        f'\n[[nodes]]\nid = "n{i + 1}"\nhost = "127.0.0.1"\n'
        f"peer_port = {free_port()}\nrpc_port = {free_port()}\n"
        for i in range(nodes)
    )
    return (
        '[chain]\nchain_id = "votechain-bench"\ndata_dir = "data"\n\n'
        f"[rpc]\nmax_connections_per_client = {MAX_CONNECTIONS_PER_CLIENT}\n"
        f"max_connections = {MAX_CONNECTIONS_PER_CLIENT}\n{extra}\n"
        f'[attester]\nport = {free_port()}\nsender = "dev_outbox"\n' + listed
    )


@dataclass
class BenchCluster:
    folder: Path
    config_path: Path
    config: ClusterConfig
    processes: dict[str, subprocess.Popen[bytes]]

    @classmethod
    def start(cls, folder: Path, nodes: int = 4, extra_toml: str = "") -> BenchCluster:
        config_path = folder / "cluster.toml"
        config_path.write_text(cluster_toml(nodes, extra_toml))
        config = load_config(config_path)
        init_cluster(config)
        processes = {n.node_id: start_node(config, config_path, n.node_id) for n in config.nodes}
        cluster = cls(folder, config_path, config, processes)
        try:
            wait_until_serving(config)
        except BaseException:
            cluster.stop()
            raise
        return cluster

    @property
    def urls(self) -> list[str]:
        return [n.rpc_url for n in self.config.nodes]

    def pid(self, node_id: str) -> int:
        return self.processes[node_id].pid

    def stop(self) -> None:
        stop_nodes(self.processes)


# --- preparing voters and ballots --------------------------------------------------------


async def enroll(
    session: aiohttp.ClientSession, cluster: BenchCluster, voters: list[PrivateKey]
) -> None:
    attester = load_key(cluster.config.attester_key_path)
    pepper = load_pepper(cluster.config)
    chain_id = cluster.config.chain_id
    urls = cluster.urls
    gate = asyncio.Semaphore(ENROLL_IN_FLIGHT)

    async def one(index: int, voter: PrivateKey) -> None:
        number = votingcontract.normalise_e164(f"+8210{index:08d}")
        body = votingcontract.EnrollVoter(
            phone_id=votingcontract.phone_id(pepper, number), voter_key=voter.public_key
        )
        tx = Transaction.create(attester, chain_id, body.KIND, body.encode(), secrets.randbits(63))
        async with gate:
            for attempt in range(50):
                code, _ = await post_tx(session, urls[(index + attempt) % len(urls)], tx)
                if code in ("committed", "already_committed"):
                    return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"voter {index} could not be enrolled (last answer {code})")

    await asyncio.gather(*(one(i, v) for i, v in enumerate(voters)))
    # Every node must have applied the enrolments before ballots are checked against them.
    await wait_converged(session, urls)


def sign_ballots(
    chain_id: str, poll_id: bytes, voters: list[PrivateKey], count: int
) -> list[Transaction]:
    ballots = []
    for i in range(count):
        body = votingcontract.CastBallot(poll_id, (tuple(CHOICES[i % len(CHOICES)]),))
        voter = voters[i % len(voters)]
        ballots.append(
            Transaction.create(voter, chain_id, body.KIND, body.encode(), secrets.randbits(63))
        )
    return ballots


# --- the open-loop run -------------------------------------------------------------------


async def post_tx(
    session: aiohttp.ClientSession, url: str, tx: Transaction, sent: list[float] | None = None
) -> tuple[str, str | None]:
    """POST a ballot with wait=commit; (answer code, Retry-After header). The loop time
    the request went on the wire is appended to `sent` (see sent_tracing)."""
    try:
        async with session.post(
            f"{url}/v1/tx?wait=commit",
            data=tx.encode(),
            headers={"Content-Type": "application/msgpack"},
            trace_request_ctx={"sent": sent} if sent is not None else None,
        ) as response:
            body = await response.read()
            retry_after = response.headers.get("Retry-After")
            # 200 is committed, 202 pending (node/rpc.py): the committed answer (proofs,
            # kilobytes) is not parsed, so this process spends its CPU on sending.
            if response.status in (200, 202):
                return ("committed" if response.status == 200 else "pending"), retry_after
            return str(json.loads(body).get("error", f"http_{response.status}")), retry_after
    except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError, ValueError):
        return "client_error", None


async def open_loop(
    session: aiohttp.ClientSession, urls: list[str], ballots: list[Transaction], rate: float
) -> tuple[list[Answer], float]:
    """Send ballot i at start + i / rate; returns the answers and the run's wall time."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    answers: list[Answer] = []

    async def one(i: int, tx: Transaction, due: float) -> None:
        sent: list[float] = []
        code, retry_after = await post_tx(session, urls[i % len(urls)], tx, sent)
        now = loop.time()
        service_s = now - sent[0] if sent else now - due
        answers.append(Answer(due - start, now - due, service_s, code, retry_after, tx.tx_id))

    tasks = []
    for i, tx in enumerate(ballots):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, tx, due)))
    await asyncio.gather(*tasks)
    return answers, loop.time() - start


async def run_once(
    session: aiohttp.ClientSession,
    cluster: BenchCluster,
    ballots: list[Transaction],
    rate: float,
    profile_node: str | None,
    profile_path: Path | None,
) -> RunResult:
    urls = cluster.urls
    before = await statuses(session, urls)
    busy_before = await busy_counts(session, urls)
    committed_before = await committed_count(session, urls[0])
    seconds = len(ballots) / rate
    profiler = None
    if profile_node is not None and profile_path is not None:
        profiler = start_profiler(cluster.pid(profile_node), seconds, profile_path)
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    nodes_before = {n: process_cpu_s(cluster.pid(n)) for n in cluster.processes}
    samples: list[list[dict[str, Any]]] = []
    client_lags_ms: list[float] = []
    # Its own connections: the load's pool may be all taken by waiting ballots.
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as own:
        sampler = asyncio.create_task(sample_statuses(own, urls, samples))
        watcher = asyncio.create_task(watch_loop(client_lags_ms))
        answers, wall_s = await open_loop(session, urls, ballots, rate)
        sampler.cancel()
        watcher.cancel()
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    node_cpu = {n: round(process_cpu_s(cluster.pid(n)) - nodes_before[n], 2) for n in nodes_before}
    committed_after = await committed_count(session, urls[0])
    after = await statuses(session, urls)
    busy_after = await busy_counts(session, urls)
    profile: dict[str, Any] = {}
    if profiler is not None and profile_path is not None:
        profiler.wait(timeout=seconds + 60)
        profile = summarise_profile(profile_path)
        profile["node"] = profile_node
    acknowledged = [a.tx_id for a in answers if a.code == "committed"]
    await wait_converged(session, urls)  # the node asked may not have applied the last blocks
    missing = await count_missing(session, urls[0], acknowledged)
    nodes = [s["node"] for s in after]
    busy = [a for a in answers if a.code == "busy"]
    committed = committed_after - committed_before
    return RunResult(
        offered_per_s=rate,
        seconds=seconds,
        sent=len(ballots),
        answers=dict(Counter(a.code for a in answers).most_common()),
        acknowledged_per_s=round(len(acknowledged) / seconds, 1),
        committed_txs=committed,
        committed_per_s=round(committed / wall_s, 1),
        latency_ms=latency_table(answers),
        service_ms=latency_table(answers, service=True),
        busy_without_retry_after=sum(1 for a in busy if a.retry_after is None),
        view_changes={
            n: a["consensus"]["view_changes"] - b["consensus"]["view_changes"]
            for n, a, b in zip(nodes, after, before, strict=True)
        },
        heights={s["node"]: s["height"] for s in after},
        busy_refusals={n: busy_after[i] - busy_before[i] for i, n in enumerate(nodes)},
        acknowledged_missing=missing,
        timeline=timeline(answers, samples),
        client_loop_lag_ms=percentiles(client_lags_ms or [0.0]),
        node_cpu_s=node_cpu,
        node_cpu_ms_per_answer=round(1000 * sum(node_cpu.values()) / max(1, len(answers)), 3),
        client_cpu_s=round(
            cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime, 2
        ),
        profile=profile,
    )


async def watch_loop(lags_ms: list[float], interval_s: float = 0.05) -> None:
    """How late this process's own loop wakes: if it is late, so are its latencies."""
    loop = asyncio.get_running_loop()
    while True:
        asleep = loop.time()
        await asyncio.sleep(interval_s)
        lags_ms.append((loop.time() - asleep - interval_s) * 1000)


async def sample_statuses(
    session: aiohttp.ClientSession, urls: list[str], samples: list[list[dict[str, Any]]]
) -> None:
    """Every second until cancelled: each node's view and admission signals."""
    while True:
        await asyncio.sleep(1.0)
        try:
            found = await statuses(session, urls)
        except (aiohttp.ClientError, TimeoutError):
            samples.append([])
            continue
        samples.append(
            [
                {"view": s["view"], "loop_lag_ms": s.get("admission", {}).get("loop_lag_ms")}
                for s in found
            ]
        )


def timeline(answers: list[Answer], samples: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    seconds = max((int(a.due_s) for a in answers), default=-1) + 1
    rows: list[dict[str, Any]] = [{"answers": Counter()} for _ in range(seconds)]
    for answer in answers:
        rows[int(answer.due_s)]["answers"][answer.code] += 1
    for second, sample in enumerate(samples[:seconds]):
        rows[second]["nodes"] = sample
    return [{"second": i, **row, "answers": dict(row["answers"])} for i, row in enumerate(rows)]


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def latency_table(answers: list[Answer], service: bool = False) -> dict[str, dict[str, float]]:
    by_code: dict[str, list[float]] = {}
    for answer in answers:
        seconds = answer.service_s if service else answer.latency_s
        by_code.setdefault(answer.code, []).append(seconds * 1000)
    return {code: percentiles(values) for code, values in sorted(by_code.items())}


def sent_tracing() -> aiohttp.TraceConfig:
    """Notes when each request's headers went out (after waiting for a free connection)."""
    tracing = aiohttp.TraceConfig()

    async def on_headers_sent(
        session: aiohttp.ClientSession, context: Any, params: aiohttp.TraceRequestHeadersSentParams
    ) -> None:
        sent = (context.trace_request_ctx or {}).get("sent")
        if sent is not None:
            sent.append(asyncio.get_running_loop().time())

    tracing.on_request_headers_sent.append(on_headers_sent)
    return tracing


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": round(ordered[-1], 1)}


# --- reading the cluster -----------------------------------------------------------------


async def statuses(session: aiohttp.ClientSession, urls: list[str]) -> list[dict[str, Any]]:
    result = []
    for url in urls:
        async with session.get(f"{url}/v1/status") as response:
            result.append(await response.json())
    return result


async def wait_converged(
    session: aiohttp.ClientSession, urls: list[str], timeout_s: float = 120.0
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        heads = {(s["height"], s["mempool"] == 0) for s in await statuses(session, urls)}
        if len(heads) == 1 and next(iter(heads))[1]:
            return
        await asyncio.sleep(0.3)
    raise RuntimeError(f"the nodes did not converge within {timeout_s} s")


async def metric_values(session: aiohttp.ClientSession, url: str, name: str) -> dict[str, float]:
    """Samples of one metric family from a node's /metrics, by their label text."""
    async with session.get(f"{url}/metrics") as response:
        text = await response.text()
    values = {}
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            sample, _, value = line.rpartition(" ")
            values[sample[len(name) :]] = float(value)
    return values


async def busy_counts(session: aiohttp.ClientSession, urls: list[str]) -> list[int]:
    counts = []
    for url in urls:
        values = await metric_values(session, url, "votechain_rpc_errors_total")
        counts.append(int(values.get('{code="busy"}', 0)))
    return counts


async def committed_count(session: aiohttp.ClientSession, url: str) -> int:
    values = await metric_values(session, url, "votechain_txs_committed_total")
    return int(sum(values.values()))


async def count_missing(session: aiohttp.ClientSession, url: str, tx_ids: list[bytes]) -> int:
    """How many of `tx_ids` the node answers 404 for (not in its chain). Other answers
    (busy: its read pool is full) are asked again; one never answered counts as missing."""
    gate = asyncio.Semaphore(CHECK_IN_FLIGHT)

    async def found(tx_id: bytes) -> bool:
        async with gate:
            for _ in range(CHECK_ATTEMPTS):
                try:
                    async with session.get(f"{url}/v1/tx/{tx_id.hex()}") as response:
                        await response.read()
                        if response.status in (200, 404):
                            return response.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.2)
            say(f"{tx_id.hex()} was never answered 200 or 404; counted as missing")
            return False

    results = await asyncio.gather(*(found(t) for t in tx_ids))
    return sum(1 for r in results if not r)


# --- profiling ---------------------------------------------------------------------------


def start_profiler(pid: int, seconds: float, path: Path) -> subprocess.Popen[bytes] | None:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        say("py-spy is not installed (pip install py-spy); running without a profile")
        return None
    command = [
        py_spy, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))),
        "--format", "speedscope", "--output", str(path), "--rate", "100", "--nonblocking",
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarise_profile(path: Path, top: int = 12) -> dict[str, Any]:
    """The functions with the most samples on top of the stack (own) and anywhere in it
    (total), as percentages of all samples."""
    if not path.exists():
        return {}
    document = json.loads(path.read_text())
    frames = document["shared"]["frames"]
    own: Counter[int] = Counter()
    total: Counter[int] = Counter()
    samples = 0
    for profile in document["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            samples += weight
            if stack:
                own[stack[-1]] += weight
            for frame in set(stack):
                total[frame] += weight

    def file_of(index: int) -> str:
        return str(frames[index].get("file", "")).split("site-packages/")[-1]

    def named(index: int) -> str:
        file = file_of(index).split(f"{ROOT}/")[-1]
        return f"{frames[index]['name']} ({file}:{frames[index].get('line', '?')})"

    def ours(index: int) -> bool:
        # Totals of the product's own functions: the loop and the CLI hold every sample.
        return file_of(index).startswith(tuple(f"{ROOT}/{p}/" for p in PRODUCT_PACKAGES))

    def table(counts: Counter[int], keep: Any = None) -> list[tuple[str, float]]:
        chosen = [(i, c) for i, c in counts.most_common() if keep is None or keep(i)][:top]
        return [(named(i), round(100 * c / max(1, samples), 1)) for i, c in chosen]

    return {
        "file": str(path),
        "sampled_s": round(samples, 1),
        "own": table(own),
        "total": table(total, ours),
    }


# --- the command -------------------------------------------------------------------------


async def run_overload(
    rates: list[float],
    seconds: float,
    voters: int,
    profile_node: str | None = None,
    keep: Path | None = None,
    extra_toml: str = "",
    connections: int = CONNECTIONS,
    node_loop: str = "uvloop",
) -> dict[str, Any]:
    """Start a cluster, prepare, run each offered rate; the results as a JSON document.
    `node_loop` is the nodes' event loop (uvloop or asyncio; this process keeps its own)."""
    os.environ[eventloop.EVENT_LOOP_ENV] = node_loop  # read by the node processes only
    folder = Path(tempfile.mkdtemp(prefix="votechain-overload-")) if keep is None else keep
    folder.mkdir(parents=True, exist_ok=True)
    say(f"starting a 4-node cluster in {folder}")
    cluster = BenchCluster.start(folder, extra_toml=extra_toml)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    runs: list[RunResult] = []
    try:
        connector = aiohttp.TCPConnector(limit=connections, limit_per_host=0)
        timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, trace_configs=[sent_tracing()]
        ) as session:
            polls = await asyncio.to_thread(seed_if_fresh, cluster.config)
            budget_poll = bytes.fromhex(polls[1])  # the demo participatory budget: revotes
            keys = [PrivateKey.from_seed(i.to_bytes(4, "big") * 8) for i in range(1, voters + 1)]
            say(f"enrolling {voters} voters")
            began = time.monotonic()
            await enroll(session, cluster, keys)
            say(f"enrolled in {time.monotonic() - began:.1f} s")
            for rate in rates:
                count = int(rate * seconds)
                ballots = sign_ballots(cluster.config.chain_id, budget_poll, keys, count)
                say(f"offering {rate:g} ballots/s for {seconds:g} s ({count} ballots)")
                profile_path = (
                    Path(tempfile.gettempdir())
                    / f"overload-{stamp}-{rate:g}-{profile_node}.speedscope.json"
                    if profile_node
                    else None
                )
                result = await run_once(session, cluster, ballots, rate, profile_node, profile_path)
                runs.append(result)
                say(describe(result))
                await wait_converged(session, cluster.urls)
                await asyncio.sleep(SETTLE_S)
    finally:
        cluster.stop()
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return {
        "bench": "overload",
        "time": stamp,
        "machine": machine(),
        "voters": voters,
        "connections": connections,
        "node_loop": node_loop,
        "runs": [asdict(r) for r in runs],
    }


def describe(result: RunResult) -> str:
    lines = [
        f"offered {result.offered_per_s:g}/s: acknowledged {result.acknowledged_per_s:g}/s, "
        f"cluster committed {result.committed_per_s:g}/s, answers {result.answers}",
        f"  view changes {result.view_changes}, busy refusals {result.busy_refusals}, "
        f"busy without Retry-After {result.busy_without_retry_after}, "
        f"acknowledged but missing {result.acknowledged_missing}, "
        f"client CPU {result.client_cpu_s} s, client loop lag {result.client_loop_lag_ms}",
        f"  node CPU {result.node_cpu_s} s, {result.node_cpu_ms_per_answer} ms per answer",
    ]
    for code, table in result.latency_ms.items():
        lines.append(f"  latency {code}: {table}")
    for code, table in result.service_ms.items():
        lines.append(f"  on the wire {code}: {table}")
    for row in result.timeline:
        lags = [n.get("loop_lag_ms") for n in row.get("nodes", [])]
        views = [n.get("view") for n in row.get("nodes", [])]
        lines.append(f"  second {row['second']}: {row['answers']} views {views} loop lag {lags}")
    if result.profile:
        profile = result.profile
        lines.append(f"  profile of {profile['node']} ({profile['sampled_s']} s sampled, % of it)")
        lines += [f"    own   {pct:5.1f}%  {name}" for name, pct in result.profile["own"]]
        lines += [f"    total {pct:5.1f}%  {name}" for name, pct in result.profile["total"]]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.overload", description=__doc__)
    parser.add_argument("--rate", type=float, action="append", help="offered ballots/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument("--voters", type=int, default=1000)
    parser.add_argument("--profile", metavar="NODE", help="py-spy this node (n1 = primary)")
    parser.add_argument("--keep", type=Path, help="run the cluster in this folder, keep it")
    parser.add_argument("--toml", default="", help="extra cluster.toml text (sections)")
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--node-loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = parser.parse_args(argv)
    document = eventloop.run(
        run_overload(
            args.rate or [1000.0],
            args.seconds,
            args.voters,
            args.profile,
            args.keep,
            args.toml,
            args.connections,
            args.node_loop,
        )
    )
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"overload-{document['time']}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    say(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
