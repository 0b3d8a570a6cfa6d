"""Issue 11: a validator's data disk fills up under load — on a real disk.

n1's chain store is a small tmpfs (mounting needs root; the test is skipped where the
mount is refused). The cluster runs under `votechain up`, as an operator runs it. When
the disk is full, n1 stops at its first refused write (exit 74, a FATAL line in its log,
which lives outside the data directory), `votechain up` says so and restarts it with
back-off, and each restart is refused while the disk is full, naming the path. The other
three keep committing. Once space is back, the next restart succeeds and n1 catches up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import votingcontract
from chain.keys import PrivateKey
from node.setup import load_pepper
from tests.cluster.harness import ROOT, LocalCluster, wait_for
from tests.small_disk import fill

TMPFS_BYTES = 8 * 1024 * 1024


@pytest.fixture
def n1_disk(tmp_path: Path) -> Iterator[tuple[LocalCluster, Path]]:
    cluster = LocalCluster(tmp_path)
    mount = cluster.config.node_dir("n1") / "chain"
    mount.mkdir(parents=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield cluster, mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def enroll(cluster: LocalCluster, phone: str) -> None:
    """Enroll through n2 (n1 is the node whose disk fills), waiting for the commit."""
    pepper = load_pepper(cluster.config)
    phone_id = votingcontract.phone_id(pepper, votingcontract.normalise_e164(phone))
    body = votingcontract.EnrollVoter(phone_id=phone_id, voter_key=PrivateKey.generate().public_key)
    reply = cluster.submit(cluster.sign(cluster.key("attester"), body), node_id="n2")
    assert reply["status"] == "committed", reply


def test_a_full_data_disk_stops_the_node_which_restarts_and_catches_up_once_space_is_back(
    n1_disk: tuple[LocalCluster, Path],
) -> None:
    cluster, mount = n1_disk
    up_output = cluster.folder / "up.out"
    with open(up_output, "wb") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "up", "-c", str(cluster.config_path), "--no-demo"],
            cwd=cluster.folder,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    n1_log = cluster.config.node_log_path("n1")
    try:
        wait_for(lambda: "stop with Ctrl-C" in up_output.read_text(), 90, "votechain up ready")
        assert not n1_log.is_relative_to(cluster.config.data_dir), "the log is off the data disk"
        filler = fill(mount)
        committed = 0
        for i in range(40):
            enroll(cluster, f"+8210555{i:05d}")
            committed += 1
            if "exited with status 74" in up_output.read_text():
                break
        wait_for(lambda: "exited with status 74" in up_output.read_text(), 30, "n1 fail-stop")
        log = n1_log.read_text()
        assert "FATAL" in log and "No space left on device" in log
        assert str(mount) in log, "the message names the store's path"
        # While the disk is full every restart is refused, naming the path.
        wait_for(
            lambda: "cannot start" in n1_log.read_text(), 30, "a refused restart on a full disk"
        )
        assert "restarting in" in up_output.read_text()
        # The other three commit on without n1.
        enroll(cluster, "+821055599999")
        os.remove(filler)
        statuses = cluster.wait_converged(timeout_s=120)
        assert statuses[0]["height"] >= committed + 1
        assert "node n1 restarted" in up_output.read_text()
    except AssertionError as error:
        tail = n1_log.read_text().splitlines()[-15:] if n1_log.exists() else []
        raise AssertionError(
            f"{error}\n--- votechain up:\n{up_output.read_text()}\n--- n1.log:\n" + "\n".join(tail)
        ) from error
    finally:
        up.send_signal(signal.SIGINT)
        up.wait(timeout=60)
