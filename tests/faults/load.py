"""The campaign's load: enrolled voters, a ballot stream, and double-vote races.

Most voters are enrolled with the attester's key directly (fast set-up for load, as
tests/cluster/harness.py does); a few go through the real attester and its development
outbox, so the checker's "no number in clear" looks for numbers that did pass through the
system. A race sends two different ballots of one voter to two nodes at the same moment
on the poll that allows no revote: exactly one may ever be accepted.
"""

from __future__ import annotations

import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import votingcontract
from chain.keys import PrivateKey
from cli.client import RpcFailure
from cli.demo import seed_if_fresh
from node.setup import load_pepper
from tests.cluster.stream import BallotStream
from tests.faults.cluster import FaultCluster

ENROLL_WORKERS = 16
ATTESTER_ENROLLMENTS = 2


def phone(index: int) -> str:
    """The campaign's numbers: +82 10 7xxx xxxx (never a real subscriber block here)."""
    return f"+82107{index:07d}"


@dataclass
class Race:
    voter: int
    tx_ids: tuple[bytes, bytes]
    accepted_replies: int = 0
    """How many of the two submissions came back committed and accepted."""


@dataclass
class Load:
    cluster: FaultCluster
    stream_voters: int
    race_voters: int
    workers: int
    seed: int
    phones: list[str] = field(default_factory=list)
    races: list[Race] = field(default_factory=list)
    stream: BallotStream | None = None
    race_poll: bytes = b""
    race_keys: list[PrivateKey] = field(default_factory=list)
    pepper: bytes = b""
    _threads: list[threading.Thread] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def prepare(self) -> None:
        polls = seed_if_fresh(self.cluster.config)
        self.race_poll = bytes.fromhex(polls[0])  # the demo satisfaction poll: no revote
        budget_poll = bytes.fromhex(polls[1])  # the participatory budget allows revotes
        self._enroll_through_attester()
        self.pepper = load_pepper(self.cluster.config)
        total = self.stream_voters + self.race_voters
        keys = [PrivateKey.from_seed(i.to_bytes(4, "big") * 8) for i in range(1, total + 1)]
        self.phones += [phone(i) for i in range(ATTESTER_ENROLLMENTS, ATTESTER_ENROLLMENTS + total)]
        with ThreadPoolExecutor(ENROLL_WORKERS) as pool:
            list(pool.map(self._enroll, range(total), keys))
        self.race_keys = keys[self.stream_voters :]
        self.stream = BallotStream(
            self.cluster, budget_poll, keys[: self.stream_voters], targets=lambda: self.targets
        )

    @property
    def targets(self) -> list[str]:
        return self.cluster.node_ids

    def start(self, race_interval_s: float) -> None:
        assert self.stream is not None
        self._threads.append(self.stream.run(self.workers))
        racer = threading.Thread(target=self._race_loop, args=(race_interval_s,), daemon=True)
        racer.start()
        self._threads.append(racer)

    def stop(self) -> None:
        self._stop.set()
        assert self.stream is not None
        self.stream.stop(self._threads[0])
        for thread in self._threads[1:]:
            thread.join(timeout=60)

    # --- helpers ------------------------------------------------------------------------

    def _enroll_through_attester(self) -> None:
        for i in range(ATTESTER_ENROLLMENTS):
            number = phone(i)
            key_file = f"citizen{i}.pem"
            self.cluster.cli("keygen", key_file)
            reply = json.loads(
                self.cluster.cli("enroll", "--phone", number, "--key", key_file, "--json").stdout
            )
            assert reply["receipt"]["accepted"], reply
            self.phones.append(number)

    def _enroll(self, index: int, key: PrivateKey) -> None:
        number = phone(ATTESTER_ENROLLMENTS + index)
        phone_id = votingcontract.phone_id(self.pepper, votingcontract.normalise_e164(number))
        body = votingcontract.EnrollVoter(phone_id=phone_id, voter_key=key.public_key)
        tx = self.cluster.sign(self.cluster.key("attester"), body)
        nodes = self.cluster.node_ids
        for attempt in range(20):
            try:
                reply = self.cluster.submit(tx, nodes[(index + attempt) % len(nodes)])
            except RpcFailure as exc:
                if exc.code == "already_committed":
                    return
                continue
            if reply.get("status") == "committed":
                assert reply["receipt"]["accepted"], reply
                return
        raise AssertionError(f"could not enroll voter {index}")

    def _race_loop(self, interval_s: float) -> None:
        rng = random.Random(self.seed)
        next_voter = 0
        while not self._stop.wait(interval_s) and next_voter < len(self.race_keys):
            self._race(rng, next_voter)
            next_voter += 1

    def _race(self, rng: random.Random, voter: int) -> None:
        key = self.race_keys[voter]
        first, second = rng.sample(range(4), 2)
        txs = [
            self.cluster.sign(key, votingcontract.CastBallot(self.race_poll, ((choice,),)))
            for choice in (first, second)
        ]
        nodes = rng.sample(self.cluster.node_ids, 2)
        race = Race(voter, (txs[0].tx_id, txs[1].tx_id))
        with self._lock:
            self.races.append(race)

        def send(i: int) -> None:
            try:
                reply: dict[str, Any] = self.cluster.submit(txs[i], nodes[i])
            except RpcFailure:
                return  # refused (duplicate), or a node down: the checker reads the chain
            if reply.get("status") == "committed" and reply["receipt"]["accepted"]:
                with self._lock:
                    race.accepted_replies += 1

        pair = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(2)]
        for thread in pair:
            thread.start()
        for thread in pair:
            thread.join(timeout=60)
