"""How fast `votechain verify` replays a chain, next to how fast this machine checks
Ed25519 signatures.

    python -m bench.replay --ballots 100000          # generates the chain (about a minute)
    python -m bench.replay --file chain.export       # or replays a chain already made
    python -m bench.replay --ballots 0 --secret-ballots 5000   # encrypted ballots (issue 16)

Steps, each shown on stderr as it runs:

1. the chain: bench.chaingen writes it (unless --file names one);
2. this machine's Ed25519 rate: single-core verifications per CPU second, with the
   function the replay's workers call (chain.keys.verify_signature), over distinct keys;
3. the replay: verifier.replay.verify_chain on the export, once per worker count
   (--workers, default 1 and 2), each in a fresh process so its CPU seconds and peak
   memory are its own: the main process (reading, decoding, execution, hashing) and
   the signature workers apart.

Every figure is printed and written with the machine's description and its load
average before and after each run to bench/results/replay-<date>.json. The machine may
be shared: wall-clock rates move with other work, CPU seconds much less. So each run
also gets a CPU-bound rate: ballots / max(main CPU s, all CPU s / cores used), what
its CPU seconds allow with the cores free, and that rate divided by the Ed25519 rate of
the same run (the signature checks alone cap it, on 2 cores, at 2 / 1.26 = 1.6: every
ballot is a signed transaction, and enrolments and certificates add 0.26 more).
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cryptography
import msgpack

from bench.chaingen import ChainSpec, seeded_key, write_chain
from chain.keys import verify_signature
from verifier.export import ExportSource
from verifier.replay import Progress, verify_chain

RESULTS_DIR = Path(__file__).parent / "results"
ED25519_KEYS = 64
"""Distinct keys in the Ed25519 measurement, so no key object is reused by accident."""
ED25519_MIN_CPU_S = 2.0
"""The Ed25519 measurement runs for at least this much CPU time."""
SIGNED_MESSAGE_BYTES = 32
PROGRESS_EVERY_S = 2.0
"""What the replay verifies: transactions and commit votes sign 32-byte hashes."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument(
        "--secret-ballots",
        type=int,
        default=0,
        help="encrypted ballots in a secret poll after the others (bench.chaingen)",
    )
    parser.add_argument("--file", type=Path, help="replay this export instead of generating one")
    parser.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    parser.add_argument(
        "--out",
        type=Path,
        help="result file (default: bench/results/replay-DATE.json)",
    )
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",") if w.strip()]

    with tempfile.TemporaryDirectory(prefix="votechain-bench-") as tmp:
        path = args.file
        chain: dict[str, Any] = {}
        if path is None:
            path = Path(tmp) / "chain.export"
            _say(
                f"generating a chain of {args.ballots:,} ballots and {args.secret_ballots:,} "
                "encrypted ones (bench.chaingen) ..."
            )
            started = time.monotonic()
            spec = ChainSpec(ballots=args.ballots, secret_ballots=args.secret_ballots)
            generated = write_chain(spec, path)
            chain["generated_s"] = round(time.monotonic() - started, 1)
            chain["transactions"] = generated.transactions
            chain["secret_ballots"] = args.secret_ballots
        chain.update(file=str(args.file) if args.file else "generated", bytes=path.stat().st_size)
        _say("measuring this machine's single-core Ed25519 rate ...")
        ed25519 = measure_ed25519()
        _say(f"  {ed25519['verifications_per_cpu_s']:,.0f} verifications per CPU second")
        runs = []
        for count in workers:
            _say(f"replaying with {count} worker{'s' if count != 1 else ''} ...")
            run = measure_replay(path, count)
            run["ballots_per_s_vs_ed25519"] = round(
                run["ballots_per_s"] / ed25519["verifications_per_cpu_s"], 3
            )
            # What the CPU seconds allow on this machine with its cores free: the main
            # process cannot go faster than itself, and all the work shares the cores.
            cores = min(os.cpu_count() or 1, count + 1 if count > 1 else 1)
            bound_s = max(run["main_cpu_s"], (run["main_cpu_s"] + run["workers_cpu_s"]) / cores)
            run["cpu_bound_ballots_per_s"] = round(run["ballots"] / bound_s, 1)
            run["cpu_bound_vs_ed25519"] = round(
                run["cpu_bound_ballots_per_s"] / ed25519["verifications_per_cpu_s"], 3
            )
            runs.append(run)
            _say(_describe_run(run))
    result = {
        "what": "votechain verify --file: replay of a bench.chaingen export",
        "date_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "chain": chain,
        "ed25519": ed25519,
        "replays": runs,
    }
    out = args.out or RESULTS_DIR / f"replay-{datetime.date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(_table(result))
    print(f"\nwritten to {out}")


def measure_ed25519() -> dict[str, Any]:
    """Single-core verifications per CPU second (and per wall second, for reference)."""
    message = bytes(SIGNED_MESSAGE_BYTES)
    items = []
    for i in range(ED25519_KEYS):
        key = seeded_key("bench-ed25519", str(i))
        signed = bytes([i + 1]) * SIGNED_MESSAGE_BYTES
        items.append((key.public_key, key.sign(signed), signed))
    assert all(verify_signature(*item) for item in items)
    assert not verify_signature(items[0][0], items[0][1], message)
    count = 0
    cpu_started, wall_started = time.process_time(), time.monotonic()
    while time.process_time() - cpu_started < ED25519_MIN_CPU_S:
        for item in items:
            verify_signature(*item)
        count += len(items)
    cpu_s = time.process_time() - cpu_started
    wall_s = time.monotonic() - wall_started
    return {
        "verifications": count,
        "cpu_s": round(cpu_s, 3),
        "verifications_per_cpu_s": round(count / cpu_s, 1),
        "verifications_per_wall_s": round(count / wall_s, 1),
        "loadavg": _loadavg(),
    }


def measure_replay(path: Path, workers: int) -> dict[str, Any]:
    """verify_chain in a fresh process: its figures, the main process's and workers'."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_replay_child, args=(str(path), workers, results))
    load_before = _loadavg()
    process.start()
    run: dict[str, Any] = {}
    redraw = sys.stderr.isatty()
    while True:
        kind, payload = results.get()
        if kind == "progress":
            # One line redrawn on a terminal; a line per report in a log.
            sys.stderr.write(("\r  " + payload.ljust(76)) if redraw else f"  {payload}\n")
            sys.stderr.flush()
        else:
            run = payload
            break
    process.join()
    if redraw:
        sys.stderr.write("\r" + " " * 78 + "\r")
    if "error" in run:
        raise SystemExit(f"replay failed: {run['error']}")
    run["loadavg_before"], run["loadavg_after"] = load_before, _loadavg()
    return run


def _replay_child(path: str, workers: int, results: Any) -> None:
    last = [0.0]

    def progress(p: Progress) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            rate = p.ballots / p.elapsed_s if p.elapsed_s else 0.0
            results.put(
                (
                    "progress",
                    f"block {p.height}/{p.head}, {p.transactions:,} transactions, "
                    f"{p.ballots:,} ballots ({rate:,.0f}/s)",
                )
            )

    try:
        source = ExportSource(Path(path))
        try:
            report = verify_chain(source, workers=workers, on_progress=progress)
        finally:
            source.close()
    except Exception as exc:  # reported to the parent, which stops
        results.put(("done", {"error": repr(exc)}))
        return
    main = resource.getrusage(resource.RUSAGE_SELF)
    # Pool workers have exited and been waited for by now (verify_chain closes the pool).
    pool = resource.getrusage(resource.RUSAGE_CHILDREN)
    main_cpu_s = main.ru_utime + main.ru_stime
    workers_cpu_s = pool.ru_utime + pool.ru_stime
    results.put(
        (
            "done",
            {
                "workers": workers,
                "blocks": report.blocks,
                "transactions": report.transactions,
                "ballots": report.ballots,
                "signatures": report.signatures,
                "app_hash": report.app_hash,
                "elapsed_s": round(report.elapsed_s, 3),
                "ballots_per_s": round(report.ballots_per_s, 1),
                "main_cpu_s": round(main_cpu_s, 2),
                "workers_cpu_s": round(workers_cpu_s, 2),
                "ballots_per_main_cpu_s": round(report.ballots / main_cpu_s, 1),
                "ballots_per_total_cpu_s": round(report.ballots / (main_cpu_s + workers_cpu_s), 1),
                "main_peak_rss_mib": round(main.ru_maxrss / 1024, 1),
                "worker_peak_rss_mib": round(pool.ru_maxrss / 1024, 1),
            },
        )
    )


def machine_info() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model or platform.processor(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
        "msgpack": ".".join(map(str, msgpack.version)),
    }


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _describe_run(run: dict[str, Any]) -> str:
    return (
        f"  {run['ballots_per_s']:,.0f} ballots/s; CPU s: main {run['main_cpu_s']}, "
        f"workers {run['workers_cpu_s']}; peak RSS {run['main_peak_rss_mib']} MiB; "
        f"load {run['loadavg_before'][0]} -> {run['loadavg_after'][0]}"
    )


def _table(result: dict[str, Any]) -> str:
    ed = result["ed25519"]
    lines = [
        f"machine: {result['machine']['cpu']}, {result['machine']['cpus']} CPUs",
        f"Ed25519: {ed['verifications_per_cpu_s']:,.0f} verifications per CPU s (one core), "
        f"load {ed['loadavg'][0]}",
        "",
        "workers  ballots/s  main CPU s  workers CPU s  CPU-bound ballots/s  "
        "(/ Ed25519)  peak RSS MiB  load",
    ]
    for r in result["replays"]:
        lines.append(
            f"{r['workers']:>7}  {r['ballots_per_s']:>9,.0f}  {r['main_cpu_s']:>10}  "
            f"{r['workers_cpu_s']:>13}  {r['cpu_bound_ballots_per_s']:>19,.0f}  "
            f"{r['cpu_bound_vs_ed25519']:>11}  {r['main_peak_rss_mib']:>12}  "
            f"{r['loadavg_before'][0]}"
        )
    return "\n".join(lines)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
