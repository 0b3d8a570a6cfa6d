"""python -m tests.faults [--minutes M] [--seed N] [--folder DIR] [--json FILE]

The long fault campaign (docs/OPERATIONS.md, "Fault campaign"). Needs root (network
namespaces, tmpfs). Prints a progress line every 10 s and a JSON summary of the figures;
exits 1 if the checker found a failure, 2 if the machine cannot run it.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

from tests.faults.campaign import Plan, run_campaign
from tests.faults.cluster import CampaignUnavailable


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults")
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the fault phase")
    parser.add_argument("--seed", type=int, default=None, help="default: a fresh one, printed")
    parser.add_argument("--folder", type=Path, help="keep the cluster here (default: a tmp dir)")
    parser.add_argument("--json", type=Path, help="also write the summary figures here")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else secrets.randbelow(2**32)
    if args.folder is not None:
        args.folder.mkdir(parents=True, exist_ok=True)
    try:
        verdict = run_campaign(Plan.long(seed, args.minutes), args.folder)
    except CampaignUnavailable as exc:
        print(f"cannot run the fault campaign here: {exc}", file=sys.stderr)
        return 2
    summary = {**verdict.figures, "failures": verdict.failures}
    print(json.dumps(summary, indent=2, sort_keys=True))
    if args.json is not None:
        args.json.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return 1 if verdict.failures else 0


if __name__ == "__main__":
    sys.exit(main())
