"""Issue 13 on a real cluster: overload is refused, not suffered.

Clients flood one node (a backup) far past what it lets wait, without ever pausing for
Retry-After: half of them send without waiting for the commit (a closed loop of clients
that wait is never past capacity, and admission control admits what the cluster can
commit), the other half wait for it, as citizens do. Before, a node took all it was
offered: its event loop fell seconds behind, request timers fired and the cluster
changed views while most requests timed out. Now:

- the excess is answered `busy` (503) with a Retry-After, before any work;
- ballots it did take keep committing all through the flood;
- no replica changes view;
- every ballot answered as committed is in every node's chain, once.

No assertion here is about speed: the figures are in bench/overload.py.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import votingcontract
from chain.keys import PrivateKey
from cli.demo import seed_if_fresh
from tests.cluster.harness import LocalCluster
from tests.cluster.stream import CHOICES, chain_tx_ids

FLOOD_S = 8.0
WORKERS = 16
VOTERS = 16
FLOODED = "n2"
LIMITS = "\n[mempool]\nmin_queue_txs = 4\nmax_queue_s = 0.2\n"
"""Small admission limits (node/admission.py), so a few test threads are a flood; the
text goes after the harness's [consensus] settings."""
ANSWERS_ALLOWED = {"committed", "pending", "busy", "behind"}
"""What a flooded node may answer: committed (or pending, to a client that does not wait),
or retryable refusals. Not `timeout` (a client held until it gave up) and not
`cannot_commit` (peer links lost to a stalled loop)."""


@dataclass
class Flood:
    cluster: LocalCluster
    poll_id: bytes
    voters: list[PrivateKey]
    answers: list[tuple[float, str, str | None, bytes]] = field(default_factory=list)
    """(seconds into the flood, code, Retry-After, tx_id) of every answer."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, seconds: float) -> None:
        start = time.monotonic()
        threads = [
            threading.Thread(target=self._worker, args=(w, start, start + seconds))
            for w in range(WORKERS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 60)

    def _worker(self, worker: int, start: float, end: float) -> None:
        address = self.cluster.config.node(FLOODED)
        connection = http.client.HTTPConnection(address.host, address.rpc_port, timeout=30)
        voter = self.voters[worker % len(self.voters)]
        n = worker
        path = "/v1/tx?wait=commit" if worker % 2 == 0 else "/v1/tx"
        while time.monotonic() < end:
            n += WORKERS
            ballot = votingcontract.CastBallot(self.poll_id, (tuple(CHOICES[n % len(CHOICES)]),))
            tx = self.cluster.sign(voter, ballot)
            body = json.dumps({"tx": tx.encode().hex()})
            try:
                connection.request("POST", path, body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                document = json.loads(response.read())
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(address.host, address.rpc_port, 30)
                continue
            code = document.get("status") if response.status < 300 else document.get("error")
            with self._lock:
                self.answers.append(
                    (
                        time.monotonic() - start,
                        str(code),
                        response.getheader("Retry-After"),
                        tx.tx_id,
                    )
                )
        connection.close()


def test_a_flooded_node_refuses_busy_keeps_committing_and_no_view_changes(
    tmp_path: Path,
) -> None:
    cluster = LocalCluster(tmp_path, consensus=LIMITS)
    cluster.start()
    try:
        polls = seed_if_fresh(cluster.config)
        budget_poll = bytes.fromhex(polls[1])  # the demo participatory budget allows revotes
        voters = [PrivateKey.from_seed(bytes([i + 1]) * 32) for i in range(VOTERS)]
        for i, voter in enumerate(voters):
            reply = cluster.enroll_directly(f"+8210777{i:05d}", voter, FLOODED)
            assert reply["receipt"]["accepted"]
        before = {n: cluster.status(n) for n in cluster.node_ids}

        flood = Flood(cluster, budget_poll, voters)
        flood.run(FLOOD_S)

        after = {n: cluster.status(n) for n in cluster.node_ids}
        codes = Counter(code for _, code, _, _ in flood.answers)
        assert set(codes) <= ANSWERS_ALLOWED, codes
        busy = [retry for _, code, retry, _ in flood.answers if code == "busy"]
        assert len(busy) > codes["committed"], f"not flooded past its limits: {codes}"
        assert all(retry is not None and int(retry) >= 1 for retry in busy), "no Retry-After"
        # Commits keep coming all through the flood, not only before it took hold.
        for third in range(3):
            window = (third * FLOOD_S / 3, (third + 1) * FLOOD_S / 3)
            committed = [
                t for t, code, _, _ in flood.answers if code == "committed" and window[0] <= t
            ]
            assert any(t < window[1] for t in committed), f"no commit in {window} s: {codes}"
        for node_id in cluster.node_ids:
            changes = (
                before[node_id]["consensus"]["view_changes"],
                after[node_id]["consensus"]["view_changes"],
            )
            assert changes[0] == changes[1], f"{node_id} changed view under the flood"
            assert after[node_id]["view"] == before[node_id]["view"]
        assert after[FLOODED]["admission"]["refused"]["queue"] > 0

        acknowledged = {tx_id for _, code, _, tx_id in flood.answers if code == "committed"}
        cluster.wait_converged(timeout_s=60)
        for node_id in cluster.node_ids:
            counts = Counter(chain_tx_ids(cluster, node_id))
            assert all(c == 1 for c in counts.values()), f"{node_id} holds a ballot twice"
            missing = acknowledged - set(counts)
            assert not missing, f"{node_id} lost {len(missing)} acknowledged ballots"
    finally:
        cluster.stop()
