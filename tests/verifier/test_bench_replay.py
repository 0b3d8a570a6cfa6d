"""bench/replay.py, on a small chain: it replays with each worker count, agrees with
itself, and writes the figures an auditor compares (issue 10)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bench import replay


def test_the_replay_benchmark_writes_every_figure_beside_the_ed25519_rate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result.json"
    monkeypatch.setattr(replay, "ED25519_MIN_CPU_S", 0.05)
    monkeypatch.setattr(
        sys, "argv", ["bench.replay", "--ballots", "400", "--workers", "1,2", "--out", str(out)]
    )
    replay.main()
    result = json.loads(out.read_text())
    assert result["machine"]["cpus"] >= 1 and len(result["machine"]["python"]) > 0
    assert result["ed25519"]["verifications_per_cpu_s"] > 0
    first, second = result["replays"]
    assert (first["workers"], second["workers"]) == (1, 2)
    for run in result["replays"]:
        assert run["ballots"] == 400 and run["signatures"] > run["transactions"]
        assert run["main_cpu_s"] > 0 and run["main_peak_rss_mib"] > 0
        assert len(run["loadavg_before"]) == 3
        assert run["cpu_bound_ballots_per_s"] > 0
    assert first["workers_cpu_s"] == 0 < second["workers_cpu_s"]
    assert first["app_hash"] == second["app_hash"]
    assert "written to" in capsys.readouterr().out
