"""A cluster for the fault campaign: each node in its own network namespace, on its own
small tmpfs data disk, under a supervisor thread that restarts it as `votechain up` would.

The supervisor lives here rather than reusing `votechain up`, so the campaign decides when
a node may come back (a killed node stays down for the fault's duration) and counts every
exit by status (74: a refused durable write). A node that exits on its own is restarted
after RESTART_BACKOFF_S_MIN, doubling to RESTART_BACKOFF_S_MAX, as cli/runner.py does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from cli.client import RpcClient, RpcFailure
from cli.runner import node_command
from node.config import load_config
from node.setup import init_cluster
from tests.cluster.harness import LocalCluster, free_port
from tests.faults.netns import NodeNetwork

DISK_BYTES = 512 * 1024 * 1024
"""Each node's data disk (tmpfs): room for a 30-minute run; the disk-full fault fills it."""
RESTART_BACKOFF_S_MIN = 1.0
RESTART_BACKOFF_S_MAX = 8.0
HEALTHY_RESET_S = 20.0
SUPERVISE_POLL_S = 0.2
CLIENT_TIMEOUT_S = 10.0
"""Short, so a client stuck on a SIGSTOPped node moves on to another one."""
CLOCK_OFFSET_ENV = "VOTECHAIN_TEST_CLOCK_OFFSET_MS"


class CampaignUnavailable(RuntimeError):
    """A root feature the campaign needs (namespaces, tmpfs) is refused here."""


def campaign_toml(network: NodeNetwork, drift_ms: int) -> str:
    nodes = "".join(
        f'\n[[nodes]]\nid = "n{i + 1}"\nhost = "{network.address(i)}"\n'
        f"peer_port = {free_port()}\nrpc_port = {free_port()}\n"
        for i in range(network.node_count)
    )
    return (
        '[chain]\nchain_id = "votechain-faults"\ndata_dir = "data"\n\n'
        "[consensus]\ntick_ms = 50\nbatch_delay_ticks = 1\ncheckpoint_interval = 5\n"
        f"watermark_window = 10\nrequest_timeout_ticks = 40\nmax_clock_drift_ms = {drift_ms}\n\n"
        f'[attester]\nport = {free_port()}\nsender = "dev_outbox"\nresend_interval_s = 1\n'
        # The load clients and the attester reach the nodes from the driver's address; the
        # campaign's stream is far above one client's RPC rate limit (rpc.client_*).
        f'\n[rpc]\nunlimited_clients = ["{network.driver_address}"]\n' + nodes
    )


class FaultCluster(LocalCluster):
    """LocalCluster's helpers (sign, submit, status, cli) over namespaced, supervised nodes."""

    def __init__(self, folder: Path, node_count: int = 4, drift_ms: int = 5000) -> None:
        try:
            self.network = NodeNetwork(node_count)
        except Exception as exc:  # NetnsUnavailable, or `ip` missing
            raise CampaignUnavailable(f"network namespaces: {exc}") from exc
        self.folder = folder
        self.drift_ms = drift_ms
        self.config_path = folder / "cluster.toml"
        self.config_path.write_text(campaign_toml(self.network, drift_ms))
        self.config = load_config(self.config_path)
        self.mounts: list[Path] = []
        try:
            self._mount_disks()
            self.genesis = init_cluster(self.config).genesis
        except BaseException:
            self.close()
            raise
        self.chain_id = self.genesis.chain_id
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.attester_processes = {}
        self.held: set[str] = set()
        """Nodes the campaign keeps down on purpose; the supervisor leaves them be."""
        self.clock_offset_ms: dict[str, int] = {}
        self.exits: Counter[int] = Counter()
        self.exits_by_node: dict[str, Counter[int]] = {n: Counter() for n in self.node_ids}
        self.restarts = 0
        self._backoff_s: dict[str, float] = {}
        self._started_at: dict[str, float] = {}
        self._next_start: dict[str, float] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None

    # --- processes ----------------------------------------------------------------------

    def start(self, *node_ids: str) -> None:
        for node_id in node_ids or self.node_ids:
            with self._lock:
                self._spawn(node_id)
        for node_id in node_ids or self.node_ids:
            self.wait_serving(node_id, 60)
        if not node_ids and not self.attester_processes:
            self.start_attester()
        if self._supervisor is None:
            self._supervisor = threading.Thread(target=self._supervise, daemon=True)
            self._supervisor.start()

    def wait_serving(self, node_id: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                self.status(node_id)
                return
            except RpcFailure:
                time.sleep(0.2)
        raise AssertionError(f"{node_id} did not serve within {timeout_s} s")

    def send_signal(self, node_id: str, signum: int) -> None:
        with self._lock:
            process = self.processes.get(node_id)
            if process is not None and process.poll() is None:
                process.send_signal(signum)

    def hold_down(self, node_id: str, signum: int = signal.SIGKILL) -> None:
        """Stop the node with `signum` and keep it down until `release`."""
        with self._lock:
            self.held.add(node_id)
            process = self.processes.get(node_id)
        if process is not None and process.poll() is None:
            process.send_signal(signum)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)

    def release(self, node_id: str) -> None:
        """Let the supervisor start the node again now (if it is not running)."""
        with self._lock:
            self.held.discard(node_id)
            self._backoff_s[node_id] = RESTART_BACKOFF_S_MIN
            process = self.processes.get(node_id)
            # only for a node that is down: a plan left for a running node would make the
            # supervisor restart it at its next exit without counting that exit
            if process is None or process.poll() is not None:
                self._next_start[node_id] = 0.0

    def settle(self, node_id: str) -> None:
        """Count the node's exit now if it has exited unseen (the supervisor polls every
        SUPERVISE_POLL_S), so a fault that reads `exits_by_node` right after sees it."""
        with self._lock:
            process = self.processes.get(node_id)
            if (
                process is not None
                and node_id not in self.held
                and node_id not in self._next_start
                and process.poll() is not None
            ):
                self._restart_later_or_now(node_id, process, time.monotonic())

    def restart_with_clock(self, node_id: str, offset_ms: int) -> None:
        self.hold_down(node_id, signal.SIGTERM)
        with self._lock:
            self.clock_offset_ms[node_id] = offset_ms
        self.release(node_id)

    def client(self, node_id: str = "n1", timeout_s: float = CLIENT_TIMEOUT_S) -> RpcClient:
        return RpcClient(self.config.node(node_id).rpc_url, timeout_s=timeout_s)

    def submit(self, tx: Any, node_id: str = "n1", wait: bool = True) -> dict[str, Any]:
        path = "/v1/tx?wait=commit" if wait else "/v1/tx"
        result: dict[str, Any] = self.client(node_id).post(path, {"tx": tx.encode().hex()})
        return result

    def stop(self) -> None:
        """Stop supervising, then every node (SIGTERM) and the attester."""
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=10)
        self.stop_attester()
        for process in list(self.processes.values()):
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)

    def close(self) -> None:
        """Tear down disks and namespaces (after `stop`)."""
        for mount in self.mounts:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)
        self.mounts.clear()
        self.network.close()

    def disk(self, node_id: str) -> Path:
        return self.config.node_dir(node_id) / "chain"

    # --- helpers ------------------------------------------------------------------------

    def _mount_disks(self) -> None:
        for node_id in self.node_ids:
            mount = self.config.node_dir(node_id) / "chain"
            mount.mkdir(parents=True, exist_ok=True)
            result = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(mount)],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise CampaignUnavailable(f"cannot mount a tmpfs: {result.stderr.strip()}")
            self.mounts.append(mount)

    def _spawn(self, node_id: str) -> None:
        index = self.node_ids.index(node_id)
        env = {**os.environ, CLOCK_OFFSET_ENV: str(self.clock_offset_ms.get(node_id, 0))}
        log_path = self.config.node_log_path(node_id)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            self.processes[node_id] = subprocess.Popen(
                self.network.exec_prefix(index) + node_command(self.config_path, node_id),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.folder,
            )
        self._started_at[node_id] = time.monotonic()

    def _supervise(self) -> None:
        while not self._stop.wait(SUPERVISE_POLL_S):
            now = time.monotonic()
            with self._lock:
                for node_id, process in list(self.processes.items()):
                    if node_id in self.held or process.poll() is None:
                        continue
                    self._restart_later_or_now(node_id, process, now)

    def _restart_later_or_now(
        self, node_id: str, process: subprocess.Popen[bytes], now: float
    ) -> None:
        if node_id not in self._next_start:  # first seen exited: count it, plan the restart
            self.exits[process.returncode] += 1
            self.exits_by_node[node_id][process.returncode] += 1
            if now - self._started_at.get(node_id, now) >= HEALTHY_RESET_S:
                self._backoff_s[node_id] = RESTART_BACKOFF_S_MIN
            backoff_s = self._backoff_s.get(node_id, RESTART_BACKOFF_S_MIN)
            self._next_start[node_id] = now + backoff_s
            self._backoff_s[node_id] = min(backoff_s * 2, RESTART_BACKOFF_S_MAX)
            return
        if now >= self._next_start[node_id]:
            del self._next_start[node_id]
            self._spawn(node_id)
            self.restarts += 1
