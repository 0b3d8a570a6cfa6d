"""Run many simulation seeds: `.venv/bin/python -m tests.simulation --seeds 10000`.

Options: --start S (first seed, default 0), --seeds N (how many), --seed X (just one),
--scenario NAME (force a scenario), --trace (print the trace of a single seed), --jobs J
(processes; default: all cores). Exits non-zero if any seed fails, after printing each
failing seed's report.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time

from tests.simulation.cluster import SimResult, run_seed
from tests.simulation.options import SCENARIOS, options_for_seed


def _run(args: tuple[int, str | None]) -> SimResult:
    seed, scenario = args
    return run_seed(options_for_seed(seed, scenario))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.simulation", description=__doc__)
    parser.add_argument("--seeds", type=int, default=100, help="how many seeds to run")
    parser.add_argument("--start", type=int, default=0, help="first seed")
    parser.add_argument("--seed", type=int, help="run just this seed")
    parser.add_argument("--scenario", choices=SCENARIOS, help="force one scenario")
    parser.add_argument("--trace", action="store_true", help="print the trace of --seed")
    parser.add_argument("--jobs", type=int, default=multiprocessing.cpu_count())
    args = parser.parse_args(argv)

    if args.seed is not None:
        options = options_for_seed(args.seed, args.scenario)
        print(f"options: {options.describe()}")
        result = run_seed(options, keep_trace=args.trace)
        print(
            result.report(trace_lines=10**9 if args.trace else 150)
            if (args.trace or not result.ok)
            else result.summary()
        )
        return 0 if result.ok else 1

    seeds = [(s, args.scenario) for s in range(args.start, args.start + args.seeds)]
    started = time.monotonic()
    failures: list[SimResult] = []
    with multiprocessing.Pool(args.jobs) as pool:
        for done, result in enumerate(pool.imap_unordered(_run, seeds, chunksize=4), 1):
            if not result.ok:
                failures.append(result)
                print(result.report(), flush=True)
            if done % 500 == 0:
                rate = done / (time.monotonic() - started) * 60
                print(f"{done} seeds, {len(failures)} failed, {rate:.0f} seeds/min", flush=True)
    elapsed = time.monotonic() - started
    print(
        f"{len(seeds)} seeds from {args.start}: {len(failures)} failed "
        f"in {elapsed:.1f}s ({len(seeds) / elapsed * 60:.0f} seeds/min)"
    )
    if failures:
        print("failing seeds:", " ".join(str(r.options.seed) for r in failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
