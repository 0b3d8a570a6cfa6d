"""Issue 11: `votechain up` restarts a node that exits non-zero, and says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from cli.client import RpcFailure
from tests.cluster.harness import ROOT, LocalCluster, wait_for


def test_votechain_up_restarts_a_killed_node_which_serves_again(tmp_path: Path) -> None:
    cluster = LocalCluster(tmp_path)
    output = tmp_path / "up.out"
    with open(output, "wb") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "up", "-c", str(cluster.config_path), "--no-demo"],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    try:
        wait_for(lambda: "stop with Ctrl-C" in output.read_text(), 90, "votechain up ready")
        assert cluster.config.node_log_path("n3").exists()
        found = subprocess.run(
            ["pgrep", "-f", f"{cluster.config_path} --id n3 "], capture_output=True, text=True
        )
        pids = found.stdout.split()
        assert len(pids) == 1, found
        os.kill(int(pids[0]), signal.SIGKILL)
        wait_for(lambda: "node n3 restarted" in output.read_text(), 30, "n3 restarted")
        text = output.read_text()
        assert "node n3 exited with status -9" in text and "restarting in 1 s" in text

        def serving() -> bool:
            try:
                return cluster.status("n3")["node"] == "n3"
            except RpcFailure:
                return False

        wait_for(serving, 60, "n3 serving again")
    finally:
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=60) == 0
    leftover = subprocess.run(["pgrep", "-f", str(cluster.config_path)], capture_output=True)
    assert leftover.stdout == b"", "votechain up left node processes behind"
