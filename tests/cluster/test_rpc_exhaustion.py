"""Issue 9, finding 5, on a real cluster: half-open requests no longer exhaust a node.

Before, 19,990 half-open requests from one client used all of a validator's 20,000 file
descriptors ("Too many open files") and its consensus shared the loss. Here one client
(127.0.0.2) opens thousands of connections to n1's RPC port and sends each an unfinished
request head. With the default limits n1 holds at most 64 of them
(rpc.max_connections_per_client), refuses the rest at once and closes the held ones at
the head timeout, while another client is answered and the cluster keeps committing.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import time

from chain.keys import PrivateKey
from node.config import RpcSettings
from tests.cluster.harness import LocalCluster

HALF_OPEN = 3_000
PARTIAL_HEAD = b"GET /v1/status HTTP/1.1\r\nHost: votechain\r\nX-Slow: "
FD_SLACK = 40
"""Descriptors n1 may open for other reasons meanwhile (peer reconnects, LevelDB files)."""


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def closed_by_limits(cluster: LocalCluster, reason: str) -> float:
    text = cluster.client("n1").get_bytes("/metrics").decode()
    match = re.search(
        rf'votechain_connections_closed_by_limits_total\{{reason="{reason}"\}} (\S+)', text
    )
    return float(match.group(1)) if match else 0.0


def test_half_open_requests_from_one_client_are_capped_and_timed_out(
    cluster: LocalCluster,
) -> None:
    settings = RpcSettings()
    address = cluster.config.node("n1")
    pid = cluster.processes["n1"].pid
    baseline = open_fds(pid)
    attack: list[socket.socket] = []
    try:
        for _ in range(HALF_OPEN):
            s = socket.socket()
            s.bind(("127.0.0.2", 0))
            s.settimeout(10)
            s.connect((address.host, address.rpc_port))
            with contextlib.suppress(OSError):  # refused ones may be closed already
                s.sendall(PARTIAL_HEAD)
            attack.append(s)
        time.sleep(0.5)
        assert open_fds(pid) <= baseline + settings.max_connections_per_client + FD_SLACK
        # Another client is answered and the cluster commits meanwhile.
        height = cluster.status("n1")["height"]
        voter = PrivateKey.from_seed(secrets.token_bytes(32))
        result = cluster.enroll_directly(f"+8210{secrets.randbelow(10**8):08d}", voter)
        assert result["receipt"]["accepted"]
        assert cluster.status("n1")["height"] > height
        # Past the head timeout nothing of the attack is held.
        time.sleep(settings.header_timeout_s + 1)
        assert open_fds(pid) <= baseline + FD_SLACK
    finally:
        for s in attack:
            s.close()
    assert closed_by_limits(cluster, "rpc_refused_per_client_cap") >= HALF_OPEN // 2
    assert closed_by_limits(cluster, "rpc_header_timeout") >= 1
    assert all(cluster.status(node)["height"] > 0 for node in cluster.node_ids)
