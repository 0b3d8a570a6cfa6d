"""`python -m bench` end to end, tiny: a real 4-validator cluster, every votechain phase
for a second each, so the harness cannot rot unnoticed. No figure is asserted."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from bench import etcd

ROOT = Path(__file__).resolve().parents[2]


def test_a_tiny_run_writes_every_part_and_the_targets(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    command = [
        sys.executable, "-m", "bench", "--no-etcd", "--ballots", "240", "--polls", "2",
        "--duration-s", "1", "--open-duration-s", "1", "--rates", "20",
        "--validators", "4", "--out", str(out),
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
    vc = result["votechain"]
    assert vc["enrollment"]["voters"] == 120
    assert vc["closed_loop"]["acknowledged"] > 0
    assert vc["closed_loop"]["cluster_cpu_s"] > 0
    assert [r["offered_per_s"] for r in vc["open_loop"]] == [20.0]
    loss = vc["loss_check"]
    assert set(loss["nodes"]) == {"n1", "n2", "n3", "n4"}
    assert all(n["acknowledged_missing"] == 0 for n in loss["nodes"].values())
    assert set(vc["disk_and_memory"]["rss_mib"]) == {"n1", "n2", "n3", "n4"}
    assert result["machine"]["cpus"] >= 1 and len(result["loadavg_after"]) == 3
    names = {t["target"]: t["status"] for t in result["targets"]}
    assert names["committed ballots/s vs etcd (closed loop)"] == "NOT RUN"
    assert "| figure | votechain | etcd | ratio |" in done.stdout
    assert "PASS" in done.stdout or "MISS" in done.stdout
    assert "enrolling 120 voters" in done.stderr  # the progress display


def test_etcd_puts_are_ballot_sized_and_spread_over_the_members(tmp_path: Path) -> None:
    cluster = etcd.EtcdCluster(tmp_path, "etcd")
    puts = list(cluster.puts(8))
    assert len({p.url for p in puts}) == etcd.MEMBERS
    assert all(p.url.endswith("/v3/kv/put") for p in puts)
    documents = [json.loads(p.body) for p in puts]
    assert all(len(base64.b64decode(d["value"])) == etcd.VALUE_BYTES for d in documents)
    assert len({d["key"] for d in documents}) == 8
