"""Listing polls by status, organisation, creator and kind: every poll that matches, the
newest first, whatever order the state holds them in (issue 12: mutation testing found a
filter that stopped at the first non-matching poll unnoticed).
"""

from __future__ import annotations

import pytest

from votingcontract import queries

from .helpers import HOUR_MS, Harness, citizen_poll, phone_id_of, policy_poll


@pytest.fixture
def h() -> Harness:
    return Harness.create()


def test_each_filter_finds_every_match_among_others(h: Harness) -> None:
    city, district = h.register_org("seoul-city"), h.register_org("gangnam-gu")
    alice = h.enroll("alice")
    made = [
        h.create_poll(city, policy_poll("seoul-city", h.now_ms)),
        h.create_poll(district, policy_poll("gangnam-gu", h.now_ms, opens_in_ms=HOUR_MS)),
        h.create_poll(alice, citizen_poll(h.now_ms)),
        h.create_poll(city, policy_poll("seoul-city", h.now_ms, opens_in_ms=HOUR_MS)),
        h.create_poll(district, policy_poll("gangnam-gu", h.now_ms)),
    ]
    newest_first = made[::-1]

    def ids(**filters: object) -> list[bytes]:
        return [p.poll_id for p in queries.list_polls(h.state, h.now_ms, **filters)]  # type: ignore[arg-type]

    assert ids() == newest_first
    assert ids(org_id="seoul-city") == [made[3], made[0]]
    assert ids(org_id="gangnam-gu") == [made[4], made[1]]
    assert ids(status="upcoming") == [made[3], made[1]]
    assert ids(status="open") == [made[4], made[2], made[0]]
    assert ids(status="closed") == []
    assert ids(kind="citizen") == [made[2]]
    assert ids(kind="policy") == [made[4], made[3], made[1], made[0]]
    assert ids(creator=alice.public_key) == [made[2]] == ids(creator=phone_id_of("alice"))
    assert ids(creator=city.public_key) == [made[3], made[0]]


def test_an_unknown_status_is_refused_listing_the_known_ones(h: Harness) -> None:
    with pytest.raises(
        ValueError, match=r"^status must be one of upcoming, open, closed, got 'old'$"
    ):
        queries.list_polls(h.state, h.now_ms, status="old")


def test_unknown_keys_name_no_organisation_and_no_attester(h: Harness) -> None:
    stranger = bytes(32)
    assert queries.org_of_key(h.state, stranger) is None
    assert queries.attester_name(h.state, stranger) is None
    assert queries.attester_name(h.state, h.attester.public_key) == "phone-verification"


def test_a_shortened_id_finds_exactly_the_polls_it_begins(h: Harness) -> None:
    """`votechain vote 3f9a…` and the web app's short links name a poll by a prefix of its
    id: odd and even lengths, a whole id, and a prefix no poll has."""
    city = h.register_org("seoul-city")
    made = [h.create_poll(city, policy_poll("seoul-city", h.now_ms)) for _ in range(12)]

    def ids(prefix: str) -> set[bytes]:
        return {p.poll_id for p in queries.list_polls(h.state, h.now_ms, id_prefix=prefix)}

    for poll_id in made:
        full = poll_id.hex()
        for length in (1, 2, 3, 64):
            expected = {p for p in made if p.hex().startswith(full[:length])}
            assert ids(full[:length]) == expected, full[:length]
    unused = next(
        f"{i:03x}" for i in range(4096) if not any(p.hex().startswith(f"{i:03x}") for p in made)
    )
    assert ids(unused) == set()
    assert ids("") == set(made)
    for bad in ("AB", "xyz", "0" * 65):
        with pytest.raises(ValueError, match="id_prefix"):
            ids(bad)
