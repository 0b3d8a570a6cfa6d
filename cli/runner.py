"""`votechain up`: run every node of a cluster file, its observers and its attesters, as
child processes.

Each node is its own OS process (`votechain node -c FILE --id nX`) writing its log to
<log_dir>/<id>.log; each observer ([[observers]], `votechain observer -c FILE --id oX`)
likewise; each instance of the phone-verification service is another (`votechain attester
-c FILE [--id aX]`, log <log_dir>/attester.log, or <log_dir>/<id>.log for each of
[[attesters]]), apart from every validator. The log folder is [chain] log_dir, by default
beside the data directory (node/config.py).

Supervision: a process that exits with a non-zero status (a node that stopped on a
refused disk write, exit 74, or that could not start) is started again after a back-off
of RESTART_BACKOFF_S_MIN doubling to RESTART_BACKOFF_S_MAX, reset once it has run for
HEALTHY_RESET_S; each exit and restart is said on stderr. A process that exits 0 was
stopped on purpose and stays down. SIGINT or SIGTERM stops them all: SIGTERM first, then
SIGKILL for any still running after STOP_GRACE_S.
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

STOP_GRACE_S = 15.0
"""A node stops in well under 3 s (node/service.py); this leaves room on a loaded machine."""
START_TIMEOUT_S = 60.0
RESTART_BACKOFF_S_MIN = 1.0
RESTART_BACKOFF_S_MAX = 60.0
HEALTHY_RESET_S = 60.0
"""A process that ran this long since its last start gets the shortest back-off again."""
SUPERVISE_POLL_S = 0.5


def node_command(config_path: Path, node_id: str) -> list[str]:
    # --log-file -: the child logs to stderr only, which this process sends to the log
    # file, so tracebacks outside logging land there too and no line is written twice.
    return [
        sys.executable,
        "-m",
        "cli.main",
        "node",
        "-c",
        str(config_path),
        "--id",
        node_id,
        "--log-file",
        "-",
    ]


def start_node(config: ClusterConfig, config_path: Path, node_id: str) -> subprocess.Popen[bytes]:
    return _start_logged(node_command(config_path, node_id), config.node_log_path(node_id))


def observer_command(config_path: Path, observer_id: str) -> list[str]:
    command = node_command(config_path, observer_id)
    command[command.index("node")] = "observer"
    return command


def start_observer(
    config: ClusterConfig, config_path: Path, observer_id: str
) -> subprocess.Popen[bytes]:
    return _start_logged(
        observer_command(config_path, observer_id), config.node_log_path(observer_id)
    )


def attester_command(config_path: Path, attester_id: str) -> list[str]:
    command = node_command(config_path, attester_id)
    command[command.index("node")] = "attester"
    return command


def start_attester(
    config: ClusterConfig, config_path: Path, attester_id: str | None = None
) -> subprocess.Popen[bytes]:
    """Start attester `attester_id` (None: the only one of the file)."""
    address = config.attester_address(attester_id)
    config.attester_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return _start_logged(
        attester_command(config_path, address.attester_id),
        config.attester_log_path_of(address.attester_id),
    )


def _start_logged(command: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )


def wait_until_attester_serving(
    config: ClusterConfig,
    process: subprocess.Popen[bytes],
    timeout_s: float = START_TIMEOUT_S,
    attester_id: str | None = None,
) -> None:
    """Wait until attester `attester_id` (None: the only one) answers /v1/status;
    RpcFailure if it exits or never does."""
    address = config.attester_address(attester_id)
    deadline = time.monotonic() + timeout_s
    log_path = config.attester_log_path_of(address.attester_id)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RpcFailure(
                f"attester {address.attester_id} exited with status {process.returncode}: "
                f"{last_line(log_path)} (see {log_path})"
            )
        try:
            RpcClient(address.url, timeout_s=2).get("/v1/status")
            return
        except RpcFailure:
            time.sleep(0.2)
    raise RpcFailure(
        f"attester {address.attester_id} did not start within {timeout_s:.0f} s; see {log_path}"
    )


def wait_until_serving(
    config: ClusterConfig, timeout_s: float = START_TIMEOUT_S, observers: bool = False
) -> None:
    """Wait until every node (or, with `observers`, every observer) answers /v1/status,
    or raise RpcFailure naming the laggards."""
    deadline = time.monotonic() + timeout_s
    addresses = config.observers if observers else config.nodes
    waiting = {a.node_id: a for a in addresses}
    while waiting and time.monotonic() < deadline:
        for node_id, address in list(waiting.items()):
            try:
                RpcClient(address.rpc_url, timeout_s=2, ca_file=config.client_ca_path).get(
                    "/v1/status"
                )
                del waiting[node_id]
            except RpcFailure:
                pass
        if waiting:
            time.sleep(0.2)
    if waiting:
        raise RpcFailure(
            f"nodes {', '.join(waiting)} did not start within {timeout_s:.0f} s; "
            f"see their logs under {config.log_dir}"
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
    """Start all nodes and attesters, call `on_ready`, then supervise them until
    SIGINT/SIGTERM (see the module docstring)."""
    supervisor = Supervisor(config, config_path)
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        wait_until_serving(config)
        wait_until_serving(config, observers=True)
        for address in config.attester_addresses:
            wait_until_attester_serving(
                config, supervisor.processes[address.attester_id], attester_id=address.attester_id
            )
        on_ready()
        while not stopping:
            supervisor.check(time.monotonic())
            time.sleep(SUPERVISE_POLL_S)
        print("stopping all nodes ...")
        return 0
    finally:
        stop_nodes(supervisor.processes)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class Supervisor:
    """The child processes of `votechain up` and their restart back-offs."""

    def __init__(self, config: ClusterConfig, config_path: Path) -> None:
        self.config, self.config_path = config, config_path
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.started_at: dict[str, float] = {}
        self.backoff_s: dict[str, float] = {}
        self.restart_at: dict[str, float] = {}
        self.done: set[str] = set()
        now = time.monotonic()
        self.observer_ids = {o.node_id for o in config.observers}
        self.attester_ids = [a.attester_id for a in config.attester_addresses]
        """Process names are ids: config keeps node, observer and attester ids apart."""
        names = [*(n.node_id for n in config.nodes), *sorted(self.observer_ids)]
        for name in [*names, *self.attester_ids]:
            self._start(name, now)

    def check(self, now: float) -> None:
        """Note exits, and start again every process whose back-off has run out."""
        for name, process in list(self.processes.items()):
            if name in self.done or name in self.restart_at or process.poll() is None:
                continue
            if process.returncode == 0:
                self.done.add(name)
                say(f"{self.describe(name)} exited with status 0; left down ({self.log_of(name)})")
                continue
            if now - self.started_at[name] >= HEALTHY_RESET_S:
                self.backoff_s[name] = RESTART_BACKOFF_S_MIN
            delay_s = self.backoff_s[name]
            self.backoff_s[name] = min(delay_s * 2, RESTART_BACKOFF_S_MAX)
            self.restart_at[name] = now + delay_s
            say(
                f"{self.describe(name)} exited with status {process.returncode}: "
                f"{last_line(self.log_of(name))}; restarting in {delay_s:.0f} s "
                f"(log {self.log_of(name)})"
            )
        for name, at in list(self.restart_at.items()):
            if now >= at:
                del self.restart_at[name]
                self._start(name, now)
                say(f"{self.describe(name)} restarted")

    def log_of(self, name: str) -> Path:
        if name in self.attester_ids:
            return self.config.attester_log_path_of(name)
        return self.config.node_log_path(name)

    def describe(self, name: str) -> str:
        if name in self.attester_ids:
            return "the attester" if len(self.attester_ids) == 1 else f"attester {name}"
        return f"node {name}"

    def _start(self, name: str, now: float) -> None:
        if name in self.attester_ids:
            self.processes[name] = start_attester(self.config, self.config_path, name)
        elif name in self.observer_ids:
            self.processes[name] = start_observer(self.config, self.config_path, name)
        else:
            self.processes[name] = start_node(self.config, self.config_path, name)
        self.started_at[name] = now
        self.backoff_s.setdefault(name, RESTART_BACKOFF_S_MIN)


def say(line: str) -> None:
    print(f"votechain up: {line}", file=sys.stderr, flush=True)


def last_line(log_path: Path) -> str:
    """Why a process stopped, from the end of its log (logs grow large): its last
    "error: ..." line, which asyncio's shutdown warnings may follow, else its last line."""
    try:
        with open(log_path, "rb") as log:
            log.seek(0, 2)
            size = log.tell()
            log.seek(max(0, size - 4096))
            lines = log.read().decode(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    errors = [line for line in lines if line.startswith("error: ")]
    return errors[-1] if errors else lines[-1] if lines else "no output"
