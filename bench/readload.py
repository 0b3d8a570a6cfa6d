"""Read load against an observer: many GETs of poll pages and results (issue 13, "Reads
scale past the validators").

A push notification brings a million page loads and result refreshes; they go to the
observers behind the city's load balancer, never to the validators. Two uses:

- `read_load(...)`: a closed loop of `concurrency` workers, each GETting the next path of
  a mix (poll list, poll page, results) from the given URLs for `duration_s`; returns
  answers by status, the rate and the latency. The benchmark harness runs it beside its
  ballot load. `python -m bench.readload load --url URL ...` runs it alone.
- `python -m bench.readload isolation`: the experiment that shows validators do not
  feel it. It starts 4 validators and 1 observer (`votechain node` / `votechain
  observer` processes, as `votechain up` does), enrolls voters, and measures the
  validators' committed ballots per second in a closed loop twice: without reads, then
  while a separate read-load process hammers the observer. It prints and writes (under
  bench/results/) both rates and their ratio, the reads served, and each process's CPU.

On one machine the observer and the read-load client take CPU the validators would
otherwise have; in the deployment modelled (observers on their own machines) they do
not. Two ways to model that: `--pin` puts the validators (and the ballot client) on the
first half of the CPUs and the observer and the readers on the other half, in both
phases; `--nice 19` leaves them unpinned but lets them use only CPU the validators leave
idle. Phases alternate (`--rounds` pairs), so a change in the machine's other load
shows as scatter between rounds rather than as a difference between the phases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

import votingcontract
from chain.keyfile import load_key
from chain.keys import PrivateKey
from chain.tx import Transaction
from cli.client import RpcClient
from cli.demo import seed_if_fresh
from cli.localports import free_port
from cli.runner import start_node, start_observer, wait_until_serving
from node.config import ClusterConfig, load_config
from node.setup import init_cluster, load_pepper

RESULTS_DIR = Path(__file__).resolve().parent / "results"
CLIENT_TIMEOUT_S = 30.0
CONNECTIONS_PER_CLIENT = 2048
"""The bench client is one address holding many connections (a city's readers are many
addresses); rpc.max_connections_per_client is raised to this in the bench cluster."""
PERCENTILES = (0.5, 0.9, 0.99)


# --- the read load -------------------------------------------------------------------


def read_paths(poll_ids: Sequence[str]) -> list[str]:
    """The mix a citizen's page loads make: the open polls, then per poll its page and
    its results (results twice: the refresh button)."""
    paths = ["/v1/polls?status=open"]
    for poll_id in poll_ids:
        results = f"/v1/polls/{poll_id}/results"
        paths += [f"/v1/polls/{poll_id}", results, results]
    return paths


@dataclass
class ReadResult:
    concurrency: int
    elapsed_s: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    latencies_s: list[float] = field(default_factory=list)

    @property
    def answered_ok(self) -> int:
        return self.statuses["200"]

    def to_dict(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_s)
        return {
            "concurrency": self.concurrency,
            "elapsed_s": round(self.elapsed_s, 2),
            "requests": sum(self.statuses.values()),
            "ok_per_s": round(self.answered_ok / self.elapsed_s, 1) if self.elapsed_s else 0.0,
            "by_status": dict(self.statuses),
            "latency_ms": {
                f"p{round(p * 100)}": round(_percentile(ordered, p) * 1000, 1) for p in PERCENTILES
            },
        }


async def read_load(
    urls: Sequence[str], paths: Sequence[str], concurrency: int, duration_s: float
) -> ReadResult:
    """`concurrency` workers GET paths (in turn, over `urls` in turn) for `duration_s`."""
    result = ReadResult(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
    started = time.monotonic()
    deadline = started + duration_s
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def worker(index: int) -> None:
            n = index
            while time.monotonic() < deadline:
                url = urls[n % len(urls)] + paths[n % len(paths)]
                n += concurrency
                sent = time.monotonic()
                try:
                    async with http.get(url) as response:
                        await response.read()
                        status = str(response.status)
                except TimeoutError:
                    status = "client_timeout"
                except aiohttp.ClientError:
                    status = "unreachable"
                result.statuses[status] += 1
                result.latencies_s.append(time.monotonic() - sent)

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    result.elapsed_s = time.monotonic() - started
    return result


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# --- the ballot load (validators' commit rate) ------------------------------------------


@dataclass
class WriteResult:
    elapsed_s: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def committed_per_s(self) -> float:
        return self.outcomes["committed"] / self.elapsed_s if self.elapsed_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "elapsed_s": round(self.elapsed_s, 2),
            "committed_per_s": round(self.committed_per_s, 1),
            "outcomes": dict(self.outcomes),
        }


async def write_load(
    urls: Sequence[str], txs: Iterable[bytes], concurrency: int, duration_s: float
) -> WriteResult:
    """A closed loop of POST /v1/tx?wait=commit of pre-signed transactions, round-robin
    over the validators, until `duration_s` has passed or the transactions run out."""
    result = WriteResult()
    queue = iter(enumerate(txs))
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
    started = time.monotonic()
    deadline = started + duration_s
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def worker() -> None:
            while time.monotonic() < deadline:
                item = next(queue, None)
                if item is None:
                    return
                index, data = item
                url = f"{urls[index % len(urls)]}/v1/tx?wait=commit"
                try:
                    async with http.post(
                        url, data=data, headers={"Content-Type": "application/msgpack"}
                    ) as response:
                        document = json.loads(await response.read())
                    outcome = str(document.get("status") or document.get("error"))
                except (TimeoutError, aiohttp.ClientError, ValueError):
                    outcome = "unreachable"
                result.outcomes[outcome] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed_s = time.monotonic() - started
    return result


# --- the isolation experiment ----------------------------------------------------------


def isolation_toml() -> str:
    nodes = "".join(
        f'\n[[nodes]]\nid = "n{i + 1}"\nhost = "127.0.0.1"\n'
        f"peer_port = {free_port()}\nrpc_port = {free_port()}\n"
        for i in range(4)
    )
    return (
        '[chain]\nchain_id = "votechain-readload"\ndata_dir = "data"\n\n'
        f"[rpc]\nmax_connections_per_client = {CONNECTIONS_PER_CLIENT}\n"
        f"max_connections = {CONNECTIONS_PER_CLIENT}\n\n"
        f'[attester]\nport = {free_port()}\nsender = "dev_outbox"\n'
        + nodes
        + f'\n[[observers]]\nid = "o1"\nhost = "127.0.0.1"\nrpc_port = {free_port()}\n'
    )


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_isolation(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="votechain-readload-"))
    config_path = folder / "cluster.toml"
    config_path.write_text(isolation_toml())
    config = load_config(config_path)
    init_cluster(config)
    say(f"cluster in {folder}")
    cpus = sorted(os.sched_getaffinity(0))
    half = max(1, len(cpus) // 2)
    validator_cpus, reader_cpus = set(cpus[:half]), set(cpus[half:] or cpus)
    if args.pin:
        # The ballot client stands for phones elsewhere; it shares the validators' CPUs
        # in both phases, so the readers' CPUs hold only what the reads cost.
        os.sched_setaffinity(0, validator_cpus)
    processes = {n.node_id: start_node(config, config_path, n.node_id) for n in config.nodes}
    processes["o1"] = start_observer(config, config_path, "o1")
    if args.pin:
        os.sched_setaffinity(processes["o1"].pid, reader_cpus)
    os.setpriority(os.PRIO_PROCESS, processes["o1"].pid, args.nice)
    try:
        wait_until_serving(config)
        wait_until_serving(config, observers=True)
        poll_ids = seed_if_fresh(config)
        validator_urls = [n.rpc_url for n in config.nodes]
        observer_url = config.observer("o1").rpc_url
        voters = [PrivateKey.from_seed(os.urandom(32)) for _ in range(args.voters)]
        say(f"enrolling {len(voters)} voters ...")
        enrolled = asyncio.run(
            write_load(validator_urls, enrollments(config, voters), 64, duration_s=600)
        )
        say(f"  {enrolled.to_dict()}")
        ballots = revote_ballots(config, bytes.fromhex(poll_ids[1]), voters, args.ballots)
        pids = {name: p.pid for name, p in processes.items()}
        phases: list[dict[str, Any]] = []
        for round_index in range(args.rounds):
            for hammered in (False, True):
                phase = "observer_hammered" if hammered else "without_reads"
                readers = None
                if hammered:
                    readers = start_readers(args, observer_url, poll_ids, reader_cpus)
                    time.sleep(1.0)  # the readers are at full speed before the clock runs
                before = {name: cpu_s(pid) for name, pid in pids.items()}
                say(f"round {round_index + 1} {phase}: ballots for {args.seconds:.0f} s ...")
                writes = asyncio.run(
                    write_load(validator_urls, ballots, args.concurrency, args.seconds)
                )
                after = {name: cpu_s(pid) for name, pid in pids.items()}
                entry: dict[str, Any] = {
                    "round": round_index + 1,
                    "phase": phase,
                    "ballots": writes.to_dict(),
                    "cpu_s": {name: round(after[name] - before[name], 2) for name in pids},
                    "load_average_1m": os.getloadavg()[0],
                }
                if readers is not None:
                    stdout, _ = readers.communicate(timeout=args.seconds + 60)
                    entry["reads"] = json.loads(stdout)
                say(f"  {entry}")
                phases.append(entry)
        rates = {
            phase: [p["ballots"]["committed_per_s"] for p in phases if p["phase"] == phase]
            for phase in ("without_reads", "observer_hammered")
        }
        base, loaded = (sum(rates[p]) for p in ("without_reads", "observer_hammered"))
        observer_status = RpcClient(observer_url).get("/v1/status")
        return {
            "experiment": "observer isolation (bench/readload.py)",
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "load_average_at_end": os.getloadavg(),
            },
            "settings": {
                "validators": 4,
                "observers": 1,
                "voters": args.voters,
                "ballot_concurrency": args.concurrency,
                "read_concurrency": args.read_concurrency,
                "seconds_per_phase": args.seconds,
                "rounds": args.rounds,
                "pinned": args.pin,
                "observer_and_reader_nice": args.nice,
                "validator_and_ballot_client_cpus": sorted(validator_cpus) if args.pin else None,
                "observer_and_reader_cpus": sorted(reader_cpus) if args.pin else None,
            },
            "committed_per_s": rates,
            "commit_rate_ratio": round(loaded / base, 3) if base else None,
            "reads_ok_per_s": [p["reads"]["ok_per_s"] for p in phases if "reads" in p],
            "observer_behind_blocks_at_end": observer_status.get("behind_blocks"),
            "phases": phases,
        }
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def revote_ballots(
    config: ClusterConfig, poll_id: bytes, voters: Sequence[PrivateKey], count: int
) -> Iterator[bytes]:
    """`count` ballots signed as needed, voter after voter, on a poll that takes revotes
    (the demo budget poll; options 0..3 each fit its cap): one voter's ballots are
    len(voters) apart, so none waits on its own signer quota."""
    for i in range(count):
        body = votingcontract.CastBallot(poll_id, ((i % 4,),))
        yield sign(config, voters[i % len(voters)], body)


def start_readers(
    args: argparse.Namespace, url: str, poll_ids: Sequence[str], cpus: set[int]
) -> subprocess.Popen[bytes]:
    """The read load in its own process (its CPU is not the ballot client's)."""
    command = [
        sys.executable,
        "-m",
        "bench.readload",
        "load",
        "--url",
        url,
        "--concurrency",
        str(args.read_concurrency),
        "--seconds",
        str(args.seconds + 1.0),
        *(arg for poll_id in poll_ids for arg in ("--poll", poll_id)),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE)
    if args.pin:
        os.sched_setaffinity(process.pid, cpus)
    os.setpriority(os.PRIO_PROCESS, process.pid, args.nice)
    return process


def enrollments(config: ClusterConfig, voters: Sequence[PrivateKey]) -> list[bytes]:
    attester = load_key(config.attester_key_path)
    pepper = load_pepper(config)
    txs = []
    for i, voter in enumerate(voters):
        phone = votingcontract.normalise_e164(f"+8210{i:08d}")
        body = votingcontract.EnrollVoter(
            phone_id=votingcontract.phone_id(pepper, phone), voter_key=voter.public_key
        )
        txs.append(sign(config, attester, body))
    return txs


def sign(config: ClusterConfig, key: PrivateKey, body: Any) -> bytes:
    nonce = int.from_bytes(os.urandom(7), "big")
    return Transaction.create(key, config.chain_id, body.KIND, body.encode(), nonce).encode()


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.readload", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("load", help="GET poll pages and results from URL; JSON on stdout")
    p.add_argument("--url", action="append", required=True, help="an observer's RPC URL")
    p.add_argument("--poll", action="append", default=[], help="a poll id (hex)")
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--seconds", type=float, default=20.0)
    p = sub.add_parser("isolation", help="validators' commit rate with and without reads")
    p.add_argument("--voters", type=int, default=2000)
    p.add_argument("--ballots", type=int, default=1_000_000, help="at most this many in all")
    p.add_argument("--rounds", type=int, default=3, help="pairs of phases, interleaved")
    p.add_argument("--concurrency", type=int, default=64, help="ballots in flight")
    p.add_argument("--read-concurrency", type=int, default=64, help="reads in flight")
    p.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    p.add_argument("--pin", action="store_true", help="validators and readers on apart CPUs")
    p.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness of the observer and the readers (19: they take only CPU the "
        "validators leave, as on machines of their own)",
    )
    args = parser.parse_args(argv)
    if args.command == "load":
        result = asyncio.run(
            read_load(
                [u.rstrip("/") for u in args.url],
                read_paths(args.poll),
                args.concurrency,
                args.seconds,
            )
        )
        print(json.dumps(result.to_dict()))
        return 0
    report = run_isolation(args)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"readload-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    say(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
