"""`votechain up`: run every node of a cluster file, and the attester, as child processes.

Each node is its own OS process (`votechain node -c FILE --id nX`) writing its log to
<data_dir>/<id>/node.log; the phone-verification service is another
(`votechain attester -c FILE`, log <data_dir>/attester/attester.log), apart from every
validator. SIGINT or SIGTERM stops them all: SIGTERM first, then SIGKILL for any still
running after STOP_GRACE_S.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cli.client import RpcClient, RpcFailure
from node.config import ClusterConfig

ATTESTER = "attester"
"""The attester's key among the supervised processes (node ids are the others)."""
STOP_GRACE_S = 10.0
START_TIMEOUT_S = 60.0


def node_command(config_path: Path, node_id: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", "node", "-c", str(config_path), "--id", node_id]


def start_node(config: ClusterConfig, config_path: Path, node_id: str) -> subprocess.Popen[bytes]:
    log_path = config.node_dir(node_id) / "node.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            node_command(config_path, node_id),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def start_attester(config: ClusterConfig, config_path: Path) -> subprocess.Popen[bytes]:
    log_path = config.attester_dir / "attester.log"
    config.attester_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "cli.main", "attester", "-c", str(config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def wait_until_attester_serving(
    config: ClusterConfig, process: subprocess.Popen[bytes], timeout_s: float = START_TIMEOUT_S
) -> None:
    """Wait until the attester answers /v1/status; RpcFailure if it exits or never does."""
    deadline = time.monotonic() + timeout_s
    log_path = config.attester_dir / "attester.log"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            lines = log_path.read_text(errors="replace").strip().splitlines()
            raise RpcFailure(
                f"the attester exited with status {process.returncode}: "
                f"{lines[-1] if lines else 'no output'} (see {log_path})"
            )
        try:
            RpcClient(config.attester.url, timeout_s=2).get("/v1/status")
            return
        except RpcFailure:
            time.sleep(0.2)
    raise RpcFailure(f"the attester did not start within {timeout_s:.0f} s; see {log_path}")


def wait_until_serving(config: ClusterConfig, timeout_s: float = START_TIMEOUT_S) -> None:
    """Wait until every node answers /v1/status, or raise RpcFailure naming the laggards."""
    deadline = time.monotonic() + timeout_s
    waiting = {n.node_id: n for n in config.nodes}
    while waiting and time.monotonic() < deadline:
        for node_id, address in list(waiting.items()):
            try:
                RpcClient(address.rpc_url, timeout_s=2).get("/v1/status")
                del waiting[node_id]
            except RpcFailure:
                pass
        if waiting:
            time.sleep(0.2)
    if waiting:
        raise RpcFailure(
            f"nodes {', '.join(waiting)} did not start within {timeout_s:.0f} s; "
            f"see their node.log under {config.data_dir}"
        )


def stop_nodes(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_S
    for process in processes.values():
        remaining = max(0.1, deadline - time.monotonic())
        try:
            process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_cluster(config: ClusterConfig, config_path: Path, on_ready: Callable[[], None]) -> int:
    """Start all nodes and the attester, call `on_ready`, then run until SIGINT/SIGTERM.

    A node that exits is reported once and left down: the cluster tolerates f of them, and
    an operator (or a fault test) may have stopped it on purpose.
    """
    processes = {n.node_id: start_node(config, config_path, n.node_id) for n in config.nodes}
    processes[ATTESTER] = start_attester(config, config_path)
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        wait_until_serving(config)
        wait_until_attester_serving(config, processes[ATTESTER])
        on_ready()
        reported: set[str] = set()
        while not stopping:
            for node_id, process in processes.items():
                if process.poll() is not None and node_id not in reported:
                    reported.add(node_id)
                    log_path = (
                        config.attester_dir / "attester.log"
                        if node_id == ATTESTER
                        else config.node_dir(node_id) / "node.log"
                    )
                    print(
                        f"{'the attester' if node_id == ATTESTER else 'node ' + node_id} exited "
                        f"with status {process.returncode}; see {log_path}",
                        file=sys.stderr,
                    )
            time.sleep(0.5)
        print("stopping all nodes ...")
        return 0
    finally:
        stop_nodes(processes)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
