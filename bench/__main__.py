"""`python -m bench`: votechain beside etcd on this machine, in one run.

    python -m bench --quick                      # about 2 minutes: a smoke run of every part
    python -m bench                              # about 7 minutes: issue 13's figures
    python -m bench --catch-up 50000 --replay 100000 --long-ballots 1000000   # the long parts

Phases, each announced on stderr with counts and an ETA while it runs:

1. this machine's Ed25519 rate (bench.replay.measure_ed25519) and the ceiling it puts on
   any BFT cluster here: cores x rate / validators (every validator checks every ballot);
2. etcd: 4 members on loopback, ballot-sized puts through its JSON gateway, 128 in flight
   (skipped, with how to install it, if `etcd` is missing);
3. votechain, 4 validators: voters enrolled and ballots signed before any clock runs (the
   enrolment rate is a figure of its own); the closed-loop maximum (128 in flight,
   round-robin over the nodes, wait=commit); open-loop runs at --rates and at twice the
   maximum, latency from each ballot's scheduled send; every acknowledged ballot looked
   up in every node's chain; bytes on disk per ballot and RSS per node; optionally the
   catch-up of a node restarted after missing --catch-up ballots, and RSS after
   --long-ballots;
4. the closed-loop maximum again at each other --validators count (a fresh cluster each);
5. optionally the verifier's replay rate of a --replay ballot chain (bench.replay).

Cluster CPU per write is the sum of utime + stime of the cluster's processes
(/proc/PID/stat) over the run, divided by the writes acknowledged. The results, with the
machine, its load average before and after, and issue 13's targets marked PASS or MISS,
go to bench/results/bench-DATE.json; a plot of latency against offered load beside it
when matplotlib is installed (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import report, runs
from bench.loadgen import Progress
from bench.measure import disk_bytes
from bench.replay import RESULTS_DIR, machine_info, measure_ed25519, measure_replay

QUICK = {"ballots": 4_000, "duration_s": 4.0, "open_duration_s": 2.0, "rates": "250,500",
         "validators": "4", "scale_ballots": 1_500}  # fmt: skip
FULL = {"ballots": 80_000, "duration_s": 20.0, "open_duration_s": 10.0,
        "rates": "250,500,1000", "validators": "4,7,10", "scale_ballots": 12_000}  # fmt: skip
OVERLOAD_FACTOR = 2.0
"""The overload run offers this many times the measured closed-loop maximum."""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    result: dict[str, Any] = {
        "what": "python -m bench: votechain beside etcd on one machine",
        "date_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine_info(),
        "loadavg_before": _loadavg(),
        "plan": {k: v for k, v in vars(args).items() if k not in ("out", "profile")},
    }
    try:
        import uvloop

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
        result["client_loop"] = "uvloop"
    except ImportError:
        loop_factory, result["client_loop"] = None, "asyncio"
    with (
        tempfile.TemporaryDirectory(prefix="votechain-bench-") as tmp,
        asyncio.Runner(loop_factory=loop_factory) as runner,
    ):
        ctx = runs.Context(
            runner, Progress(say), say, Path(tmp), args.duration_s, args.open_duration_s
        )
        run_all(ctx, args, result)
    result["loadavg_after"] = _loadavg()
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    targets = report.check_targets(result)
    result["targets"] = [t.to_dict() for t in targets]
    out = args.out or _default_out(args.quick)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(report.summary_table(result))
    print()
    print(report.targets_text(targets))
    print(f"\nwritten to {out}")
    say(report.plot(result, out.with_suffix(".png")))
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a short run of every part")
    parser.add_argument("--ballots", type=int, help="ballots prepared for the 4-validator runs")
    parser.add_argument("--polls", type=int, default=4, help="each voter votes once in each")
    parser.add_argument("--duration-s", type=float, help="length of each closed-loop run")
    parser.add_argument("--open-duration-s", type=float, help="length of each open-loop run")
    parser.add_argument("--rates", help="offered ballots/s of the open-loop runs, e.g. 250,500")
    parser.add_argument("--no-overload", action="store_true", help="skip 2x the maximum")
    parser.add_argument("--no-etcd", action="store_true", help="skip the etcd part")
    parser.add_argument("--validators", help="cluster sizes of the closed loop, e.g. 4,7,10")
    parser.add_argument("--scale-ballots", type=int, help="ballots prepared per other size")
    parser.add_argument(
        "--catch-up", type=int, default=0, metavar="K",
        help="restart a node after it missed K ballots (issue: 50000)",
    )  # fmt: skip
    parser.add_argument(
        "--long-ballots", type=int, default=0, metavar="N",
        help="fill the chain to N ballots, then RSS per node (issue: 1000000)",
    )  # fmt: skip
    parser.add_argument(
        "--replay", type=int, default=0, metavar="N",
        help="verifier replay rate of an N-ballot chain (issue: 100000)",
    )  # fmt: skip
    parser.add_argument(
        "--profile", type=Path, metavar="DIR",
        help="py-spy profiles of the primary and a backup during the closed loop, into DIR",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, help="result file (default bench/results/...)")
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.rates = [float(r) for r in str(args.rates).split(",") if r.strip()]
    args.validators = [int(n) for n in str(args.validators).split(",") if n.strip()]
    if any(n < 4 or (n - 1) % 3 for n in args.validators):
        parser.error("--validators: each count must be 3f+1 (4, 7, 10, ...)")
    return args


def run_all(ctx: runs.Context, args: argparse.Namespace, result: dict[str, Any]) -> None:
    cores = os.cpu_count() or 1
    say("measuring this machine's single-core Ed25519 rate ...")
    ed25519 = measure_ed25519()
    rate = ed25519["verifications_per_cpu_s"]
    ed25519["ceiling_ballots_per_s"] = {
        str(n): round(cores * rate / n, 1) for n in sorted({4, *args.validators})
    }
    result["ed25519"] = ed25519
    say(f"  {rate:,.0f} verifications per CPU second; ceiling {cores} x rate / 4 = "
        f"{cores * rate / 4:,.0f} ballots/s")  # fmt: skip
    result["etcd"] = None if args.no_etcd else runs.etcd_phase(ctx)
    result["votechain"] = votechain_4(ctx, args)
    scaling = [result["votechain"]["closed_loop"] | {"validators": 4}]
    for n in args.validators:
        if n != 4:
            scaling.append(scale_run(ctx, n, args))
    result["votechain"]["scaling"] = scaling
    if args.replay:
        result["replay"] = replay_run(ctx, args.replay)


def votechain_4(ctx: runs.Context, args: argparse.Namespace) -> dict[str, Any]:
    prepared = runs.start_cluster(ctx, 4, args.ballots, args.polls)
    cluster = prepared.cluster
    figures: dict[str, Any] = {"enrollment": prepared.enrollment, "ballots": args.ballots}
    try:
        disk_before = {n: disk_bytes(cluster.config.node_dir(n)) for n in cluster.node_ids}
        # The fixed-rate runs' ballots are set aside first: the closed loop takes as many
        # as it can commit in its time, the overload run what is left after it.
        reserved = {rate: runs.take_ballots(ctx, prepared, rate) for rate in args.rates}
        closed, acknowledged = runs.closed_max(ctx, prepared, "votechain", args.profile)
        figures["closed_loop"] = closed
        figures["open_loop"] = []
        for rate in args.rates:
            run, acks = runs.open_run(ctx, prepared, rate, reserved[rate])
            if run is not None:
                figures["open_loop"].append(run)
            acknowledged += acks
        if not args.no_overload and closed["per_s"]:
            say(f"overload: {OVERLOAD_FACTOR:g} x the maximum of {closed['per_s']:,.0f}/s")
            run, acks = runs.open_run(ctx, prepared, round(OVERLOAD_FACTOR * closed["per_s"]))
            if run is not None:
                figures["overload"] = run
            acknowledged += acks
        say(f"checking {len(acknowledged):,} acknowledged ballots on every node ...")
        loss = runs.loss_check(prepared, acknowledged)
        figures["loss_check"] = loss
        on_chain = next(iter(loss["nodes"].values()))["ballots"]
        figures["disk_and_memory"] = runs.disk_and_memory(prepared, disk_before, on_chain)
        say(f"  disk per transaction {figures['disk_and_memory']['disk_bytes_per_tx']}, "
            f"RSS MiB {figures['disk_and_memory']['rss_mib']}")  # fmt: skip
        if args.catch_up:
            figures["catch_up"] = runs.catch_up(ctx, prepared, args.catch_up)
        if args.long_ballots:
            figures["long_run"] = runs.long_run(ctx, prepared, args.long_ballots)
    finally:
        cluster.stop()
    return figures


def scale_run(ctx: runs.Context, validators: int, args: argparse.Namespace) -> dict[str, Any]:
    prepared = runs.start_cluster(ctx, validators, args.scale_ballots, args.polls)
    try:
        closed, _ = runs.closed_max(ctx, prepared, f"votechain n={validators}")
    finally:
        prepared.cluster.stop()
    closed.update(validators=validators, enrollment=prepared.enrollment)
    return closed


def replay_run(ctx: runs.Context, ballots: int) -> dict[str, Any]:
    from bench.chaingen import ChainSpec, write_chain

    path = ctx.folder / "replay.export"
    say(f"replay: generating a chain of {ballots:,} ballots (bench.chaingen) ...")
    write_chain(ChainSpec(ballots=ballots), path)
    say("replay: votechain verify with 2 workers ...")
    run = measure_replay(path, 2)
    say(f"  {run['ballots_per_s']:,.0f} ballots/s")
    return run


def say(text: str) -> None:
    stamp = datetime.datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {text}", file=sys.stderr, flush=True)


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _default_out(quick: bool) -> Path:
    date = datetime.date.today().isoformat()
    return RESULTS_DIR / f"bench-{date}{'-quick' if quick else ''}.json"


if __name__ == "__main__":
    sys.exit(main())
