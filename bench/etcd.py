"""The reference beside votechain: a 4-member etcd cluster on loopback, default settings.

etcd is a Raft-replicated key-value store that writes every put to its log with fsync
before answering, as votechain commits a ballot. It is loaded the way votechain is:
ballot-sized puts (VALUE_BYTES) as JSON through its gRPC gateway (POST /v3/kv/put with
base64 key and value), round-robin over the members, a fixed number in flight.

The harness installs nothing: `find_etcd` returns None when the binary is missing and the
caller prints INSTALL_HINT and skips this part.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.loadgen import Request
from cli.localports import free_port

INSTALL_HINT = "etcd not found: install it with `apt-get install etcd-server` (Debian/Ubuntu)"
MEMBERS = 4
VALUE_BYTES = 200
"""About a ballot: a cast_ballot transaction with one question is ~200 bytes encoded."""
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
OK = "ok"


def find_etcd() -> str | None:
    return shutil.which("etcd")


@dataclass
class EtcdCluster:
    folder: Path
    binary: str
    members: int = MEMBERS

    def __post_init__(self) -> None:
        self.client_urls = [f"http://127.0.0.1:{free_port()}" for _ in range(self.members)]
        self.peer_urls = [f"http://127.0.0.1:{free_port()}" for _ in range(self.members)]
        self.processes: list[subprocess.Popen[bytes]] = []
        self.key_prefix = secrets.token_hex(4)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def start(self) -> None:
        initial = ",".join(f"e{i + 1}={url}" for i, url in enumerate(self.peer_urls))
        for i in range(self.members):
            name = f"e{i + 1}"
            command = [
                self.binary,
                "--name", name,
                "--data-dir", str(self.folder / name),
                "--listen-client-urls", self.client_urls[i],
                "--advertise-client-urls", self.client_urls[i],
                "--listen-peer-urls", self.peer_urls[i],
                "--initial-advertise-peer-urls", self.peer_urls[i],
                "--initial-cluster", initial,
                "--initial-cluster-token", "votechain-bench",
                "--initial-cluster-state", "new",
            ]  # fmt: skip
            with open(self.folder / f"{name}.log", "ab") as log:
                self.processes.append(
                    subprocess.Popen(
                        command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
                    )
                )
        self._wait_healthy()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []

    def puts(self, count: int, first: int = 0) -> Iterator[Request]:
        """Puts number first..first+count-1: fresh keys with VALUE_BYTES random bytes,
        round-robin over the members."""
        for i in range(first, first + count):
            document = {
                "key": _b64(f"ballot/{self.key_prefix}/{i:09d}".encode()),
                "value": _b64(secrets.token_bytes(VALUE_BYTES)),
            }
            yield Request(
                f"{self.client_urls[i % self.members]}/v3/kv/put",
                json.dumps(document).encode(),
                key=i.to_bytes(8, "big"),
            )

    def _wait_healthy(self) -> None:
        """Every member answers a put (so the cluster has a leader and a quorum)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        pending = list(self.client_urls)
        while pending:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"an etcd member exited; see {self.folder}/*.log")
            if time.monotonic() > deadline:
                raise RuntimeError(f"etcd members {pending} not ready within {START_TIMEOUT_S} s")
            url = pending[0]
            body = json.dumps({"key": _b64(b"bench/ready"), "value": _b64(b"1")}).encode()
            try:
                with urllib.request.urlopen(f"{url}/v3/kv/put", body, timeout=2) as answer:
                    if answer.status == 200:
                        pending.pop(0)
                        continue
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)


def classify(status: int, body: bytes) -> str:
    return OK if status == 200 else f"http_{status}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def etcd_version(binary: str) -> str:
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, env=os.environ
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.splitlines()[0].split(":", 1)[-1].strip() if out else "unknown"
