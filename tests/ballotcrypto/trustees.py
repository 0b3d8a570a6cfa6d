"""A k-of-n key generation run honestly, for the trustee tests."""

from __future__ import annotations

from dataclasses import dataclass

from ballotcrypto import dkg
from ballotcrypto.dkg import Dealing, TransportKey
from ballotcrypto.group import Point
from tests.ballotcrypto.fixtures import CHAIN_ID, POLL_ID, Scalars


@dataclass(frozen=True)
class Ceremony:
    threshold: int
    transport_secrets: list[int]
    transport_keys: list[TransportKey]
    dealings: list[Dealing]
    secret_shares: dict[int, int]
    public_key: Point
    verification_keys: dict[int, Point]

    @property
    def trustees(self) -> int:
        return len(self.transport_keys)


def run_ceremony(threshold: int, trustees: int, seed: int) -> Ceremony:
    scalars = Scalars(seed)
    transport_secrets = scalars.many(trustees)
    transport_keys = [
        dkg.make_transport_key(CHAIN_ID, POLL_ID, j, t, scalars.one())
        for j, t in enumerate(transport_secrets, start=1)
    ]
    keys = [key.public for key in transport_keys]
    dealings = [
        dkg.deal(
            CHAIN_ID,
            POLL_ID,
            i,
            scalars.many(threshold),
            keys,
            scalars.one(),
            scalars.many(trustees),
        )
        for i in range(1, trustees + 1)
    ]
    secret_shares = {
        j: dkg.secret_share(
            dkg.receive_share(CHAIN_ID, POLL_ID, dealing, j, transport_secrets[j - 1])
            for dealing in dealings
        )
        for j in range(1, trustees + 1)
    }
    return Ceremony(
        threshold,
        transport_secrets,
        transport_keys,
        dealings,
        secret_shares,
        dkg.joint_public_key(dealings),
        {j: dkg.verification_key(dealings, j) for j in range(1, trustees + 1)},
    )
