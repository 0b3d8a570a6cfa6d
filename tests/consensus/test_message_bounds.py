"""The frame limit is exactly the message bound PROTOCOL.md 12.2 publishes.

A node refuses any frame above `max_message_bytes(n, q)` unread, so the bound is a rule an
operator and an auditor read in the protocol: too low and a valid NewView is cut off, too
high and a peer may make a replica buffer more than the protocol allows.
"""

from __future__ import annotations

import pytest

from chain.block import MAX_BLOCK_BYTES
from consensus.messages import max_message_bytes


def _protocol_bound(n: int, q: int) -> int:
    """PROTOCOL.md 12.2, term by term."""
    pre_prepare = 8_388_608 + 128
    certificate = 512 + 128 * n
    view_change = 128 + certificate + 8 + pre_prepare + 128 * (n - 1)
    return 128 + q * (view_change + pre_prepare)


def test_the_bound_for_four_validators_is_the_published_50_337_176_bytes() -> None:
    bound = max_message_bytes(4, 3)
    assert bound == 50_337_176
    assert isinstance(bound, int)


@pytest.mark.parametrize("n", [1, 4, 7, 10, 31, 100])
def test_the_bound_follows_the_protocols_formula_for_every_cluster_size(n: int) -> None:
    q = 2 * ((n - 1) // 3) + 1  # 2f + 1
    assert MAX_BLOCK_BYTES == 8_388_608
    assert max_message_bytes(n, q) == _protocol_bound(n, q)


def test_each_validator_more_adds_its_certificate_signer_and_prepare_to_every_view_change() -> None:
    """One more validator (same quorum): each of the q view changes grows by one
    certificate signer (128) and one prepare (128)."""
    assert max_message_bytes(5, 3) - max_message_bytes(4, 3) == 3 * (128 + 128)
