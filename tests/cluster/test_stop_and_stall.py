"""Issue 11 on real processes: a graceful stop under load, and wait=commit on a node
that cannot commit.

- SIGTERM to a node while a stream of ballots waits on it for commits: the process exits
  0, every client waiting on it got an answer (a retryable `stopping`, or the commit),
  the stream goes on through the other nodes, and nothing acknowledged is lost. The stop
  time is measured and printed; only a generous bound is asserted (the machine is shared).
- wait=commit on a node whose peers are all down answers `cannot_commit` after the
  node's no-quorum grace, not after the full commit_wait_timeout_s.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import pytest

import votingcontract
from chain.keys import PrivateKey
from cli.client import RpcFailure
from node.service import NO_QUORUM_GRACE_S
from node.setup import load_pepper
from tests.cluster.harness import LocalCluster, wait_for
from tests.cluster.stream import BallotStream
from tests.cluster.test_faults import check_everything_acknowledged_is_there_once, prepare

STOP_BOUND_S = 15.0
"""What `votechain up` waits before SIGKILL (cli/runner.py STOP_GRACE_S)."""


def test_sigterm_under_a_ballot_stream_answers_waiting_clients_and_exits_0(
    cluster: LocalCluster,
) -> None:
    poll_id, voters = prepare(cluster)
    alive = list(cluster.node_ids)
    stream = BallotStream(cluster, poll_id, voters, targets=lambda: alive)
    thread = stream.run(workers=12)
    try:
        wait_for(lambda: stream.count() >= 40, 90, "40 ballots before the stop")
        process = cluster.processes.pop("n2")
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=60)
        stop_s = time.monotonic() - started
        alive.remove("n2")
        print(f"n2 stopped in {stop_s:.2f} s under a stream of 12 waiting clients")
        assert status == 0
        assert stop_s < STOP_BOUND_S
        stopped_at = stream.count()
        wait_for(lambda: stream.count() >= stopped_at + 20, 90, "ballots after the stop")
        cluster.start("n2")
        alive.append("n2")
    finally:
        stream.stop(thread)
    assert not stream.refused, stream.refused[:3]
    n2_answers = Counter(code for node, code in stream.retried if node == "n2")
    print(f"answers from n2 that sent a ballot on: {dict(n2_answers)}")
    assert n2_answers["timeout"] == 0, "no client waited on the stopping node for its timeout"
    check_everything_acknowledged_is_there_once(cluster, stream.acknowledged)


def test_wait_commit_on_a_node_without_a_quorum_fails_fast(tmp_path: Path) -> None:
    cluster = LocalCluster(tmp_path)
    cluster.start("n1")  # its three peers never start
    try:
        time.sleep(NO_QUORUM_GRACE_S + 0.5)
        pepper = load_pepper(cluster.config)
        phone_id = votingcontract.phone_id(pepper, votingcontract.normalise_e164("+821077770001"))
        body = votingcontract.EnrollVoter(phone_id, PrivateKey.generate().public_key)
        tx = cluster.sign(cluster.key("attester"), body)
        started = time.monotonic()
        with pytest.raises(RpcFailure) as error:
            cluster.submit(tx, "n1", wait=True)
        waited_s = time.monotonic() - started
        print(f"wait=commit without a quorum answered in {waited_s:.2f} s")
        assert error.value.code == "cannot_commit"
        assert "1 of 4 validators connected" in str(error.value)
        assert waited_s < cluster.config.rpc.commit_wait_timeout_s / 2
    finally:
        cluster.stop()
