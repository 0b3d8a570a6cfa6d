"""`votechain verify --workers N`: N > 1 verifies signatures in a pool of N processes,
N <= 1 in this process (issue 12: mutation testing found the pool's size and whether there
is one at all unchecked; the verdicts are the same either way, so only this shows it).
"""

from __future__ import annotations

import pytest

from chain.keys import PrivateKey
from verifier.signatures import SignatureChecker


@pytest.mark.parametrize(("asked", "workers"), [(-1, 1), (0, 1), (1, 1)])
def test_one_worker_or_fewer_verifies_in_this_process(asked: int, workers: int) -> None:
    checker = SignatureChecker(asked)
    assert (checker.workers, checker.parallel) == (workers, False)
    checker.close()


def test_more_workers_verify_in_a_pool_of_that_size() -> None:
    key = PrivateKey.from_seed(bytes(32))
    message = bytes(range(32))
    signature = key.sign(message)
    checker = SignatureChecker(3)  # more than this machine's cores: the size is the one asked for
    try:
        assert (checker.workers, checker.parallel) == (3, True)
        assert checker._pool is not None
        assert checker._pool._max_workers == 3  # type: ignore[attr-defined]
        pending = checker.submit(
            [(key.public_key, signature, message), (key.public_key, signature, bytes(32))]
        )
        checker.flush()
        assert pending.result() == [True, False]
    finally:
        checker.close()
    assert not checker.parallel
