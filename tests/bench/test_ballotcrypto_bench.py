"""`python -m bench.ballotcrypto`, tiny: every figure and issue 16's targets reach the
result file, so the benchmark cannot rot unnoticed. No figure is asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_tiny_run_writes_every_figure_and_the_targets(tmp_path: Path) -> None:
    out = tmp_path / "ballotcrypto.json"
    command = [
        sys.executable, "-m", "bench.ballotcrypto", "--ballots", "1000", "--accumulate", "40",
        "--runs", "10", "--pool-ballots", "16", "--out", str(out),
    ]  # fmt: skip
    done = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    figures = result["figures"]
    # The tally decrypted to the counts encrypted (the bench exits otherwise), with the
    # trustees the issue names by default: 2 of 3.
    assert (figures["tally_threshold"], figures["tally_trustees"]) == (2, 3)
    assert figures["tally_ballots"] == 1000 and figures["accumulate_sampled_ballots"] == 40
    for workers in (1, 2):
        assert figures[f"pool_{workers}_ballots_per_s"] > 0
        assert figures[f"pool_{workers}_cpu_bound_ballots_per_s"] > 0
    assert figures["single_choice_4_bytes"] == 906
    assert [t["status"] in ("PASS", "MISS") for t in result["targets"]] == [True] * 4
    assert len(result["load_average_after"]) == 3
    assert "validate a 4-option single-choice encrypted ballot" in done.stdout


def test_the_profiler_loop_only_validates(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.ballotcrypto", "--loop", "validate", "3"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == "" and done.stderr == ""
    assert not list(tmp_path.iterdir())  # no result file
