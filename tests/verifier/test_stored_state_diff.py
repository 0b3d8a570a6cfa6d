"""Rule 11 on stored state (PROTOCOL.md 10): a key the replay does not produce, a key the
store lacks, and several differing keys are each reported with the first key in order and
how many differ (issue 12: mutation testing found the report of keys present on one side
only unchecked; with `&` for `|` the verifier would crash instead of report).
"""

from __future__ import annotations

import dataclasses

import pytest

from chain import encoding
from tests.verifier import forge
from verifier.errors import VerificationFailure
from verifier.replay import verify_chain
from verifier.sources import ChainSource


def _failure(state: dict[bytes, bytes]) -> VerificationFailure:
    chain = forge.forge_chain(forge.VALID)
    source: ChainSource = dataclasses.replace(chain, state=state)
    with pytest.raises(VerificationFailure) as caught:
        verify_chain(source, workers=1)
    failure = caught.value
    assert (failure.height, failure.rule) == (7, 11)
    assert failure.subject == "stored state after block 7"
    return failure


def _state() -> dict[bytes, bytes]:
    chain = forge.forge_chain(forge.VALID)
    assert chain.state is not None
    return dict(chain.state)


def test_a_key_only_in_the_store_is_reported() -> None:
    state = _state()
    state[b"zz/extra"] = encoding.encode(5)
    failure = _failure(state)
    assert failure.reason == "has zz/6578747261… = 5, the replay gives nothing (1 key differ)"


def test_a_key_missing_from_the_store_is_reported() -> None:
    state = _state()
    state.pop(max(state))
    failure = _failure(state)
    assert failure.reason.startswith("has voterkey/")
    assert "… = nothing, the replay gives [" in failure.reason
    assert failure.reason.endswith(" (1 key differ)")


def test_several_differing_keys_name_the_first_and_count_them() -> None:
    state = _state()
    state[b"zz/a"] = encoding.encode(1)
    state[b"zz/b"] = encoding.encode(2)
    failure = _failure(state)
    assert failure.reason == "has zz/61… = 1, the replay gives nothing (2 keys differ)"
