"""Queries for RPC, CLI and UI: polls by status, org and creator; results; history; stats."""

from __future__ import annotations

import pytest

from votingcontract import CastBallot, ClosePoll, queries

from .helpers import DAY_MS, HOUR_MS, Harness, citizen_poll, phone_id_of, policy_poll


def test_list_polls_by_status_org_creator_and_kind() -> None:
    h = Harness.create()
    city = h.register_org("seoul-city")
    mapo = h.register_org("mapo-gu", "district_office")
    alice = h.enroll("alice")
    upcoming = h.create_poll(city, policy_poll("seoul-city", h.now_ms, opens_in_ms=DAY_MS))
    open_city = h.create_poll(city, policy_poll("seoul-city", h.now_ms))
    open_mapo = h.create_poll(mapo, policy_poll("mapo-gu", h.now_ms, lasts_ms=HOUR_MS))
    mine = h.create_poll(alice, citizen_poll(h.now_ms))
    h.submit(city, ClosePoll(open_city))
    now = h.now_ms

    def ids(**filters: object) -> list[bytes]:
        return [p.poll_id for p in queries.list_polls(h.state, now, **filters)]  # type: ignore[arg-type]

    assert ids() == [mine, open_mapo, open_city, upcoming]  # newest first
    assert ids(status="upcoming") == [upcoming]
    assert ids(status="open") == [mine, open_mapo]
    assert ids(status="closed") == [open_city]
    assert ids(org_id="seoul-city") == [open_city, upcoming]
    assert ids(creator=alice.public_key) == [mine]
    assert ids(creator=phone_id_of("alice")) == [mine]
    assert ids(kind="policy", status="open") == [open_mapo]
    later = [p.poll_id for p in queries.list_polls(h.state, now + HOUR_MS, status="closed")]
    assert set(later) == {open_city, open_mapo}
    with pytest.raises(ValueError, match="status must be one of"):
        queries.list_polls(h.state, now, status="finished")


def test_poll_to_dict_reports_status_at_the_given_time() -> None:
    h = Harness.create()
    city = h.register_org("seoul-city")
    poll_id = h.create_poll(city, policy_poll("seoul-city", h.now_ms, opens_in_ms=HOUR_MS))
    poll = queries.get_poll(h.state, poll_id)
    assert poll is not None
    assert poll.to_dict(h.now_ms)["status"] == "upcoming"
    assert poll.to_dict(h.now_ms + HOUR_MS)["status"] == "open"
    assert poll.to_dict(h.now_ms + HOUR_MS + DAY_MS)["status"] == "closed"
    assert poll.to_dict()["poll_id"] == poll_id.hex()
    assert queries.get_poll(h.state, b"\x00" * 32) is None
    assert queries.results(h.state, b"\x00" * 32, h.now_ms) is None


def test_live_results_are_readable_while_open() -> None:
    h = Harness.create()
    city = h.register_org("seoul-city")
    poll_id = h.create_poll(city, policy_poll("seoul-city", h.now_ms, visibility="live"))
    h.submit(h.enroll("alice"), CastBallot(poll_id, ((1,),)))
    result = queries.results(h.state, poll_id, h.now_ms)
    assert result is not None and result.visible and result.status == "open"
    assert result.to_dict()["questions"][0]["options"][1]["percent"] == "100.00"


def test_participation_history_lists_each_poll_once_oldest_first() -> None:
    h = Harness.create()
    city = h.register_org("seoul-city")
    alice = h.enroll("alice")
    first = h.create_poll(city, policy_poll("seoul-city", h.now_ms, title="first"))
    second = h.create_poll(city, policy_poll("seoul-city", h.now_ms, title="second"))
    r2 = h.submit(alice, CastBallot(second, ((0,),)))
    r1 = h.submit(alice, CastBallot(first, ((0,),)))
    history = queries.participation_history(h.state, phone_id_of("alice"))
    assert [(e.poll_id, e.tx_id) for e in history] == [(second, r2.tx_id), (first, r1.tx_id)]
    assert history[0].height < history[1].height
    assert history[0].to_dict()["phone_id"] == phone_id_of("alice").hex()
    assert queries.participation_history(h.state, phone_id_of("bob")) == []


def test_stats_count_orgs_voters_polls_and_ballots() -> None:
    h = Harness.create()
    city = h.register_org("seoul-city")
    alice, bob = h.enroll("alice"), h.enroll("bob")
    poll_id = h.create_poll(city, policy_poll("seoul-city", h.now_ms))
    h.create_poll(alice, citizen_poll(h.now_ms))
    h.submit(alice, CastBallot(poll_id, ((0,),)))
    h.submit(bob, CastBallot(poll_id, ((1,),)))
    h.submit(bob, CastBallot(poll_id, ((1,),)))  # duplicate: not counted
    assert queries.stats(h.state).to_dict() == {
        "orgs": 1,
        "voters": 2,
        "polls": 2,
        "polls_policy": 1,
        "polls_citizen": 1,
        "ballots": 2,
        "participations": 2,
    }


def test_org_queries() -> None:
    h = Harness.create()
    key = h.register_org("seoul-city", keys=2)
    h.register_org("mapo-gu", "district_office")
    org = queries.get_org(h.state, "seoul-city")
    assert org is not None and len(org.keys) == 2 and org.category == "city_department"
    assert [o.org_id for o in queries.list_orgs(h.state)] == ["mapo-gu", "seoul-city"]
    assert queries.org_of_key(h.state, key.public_key) == "seoul-city"
    assert queries.get_org(h.state, "busan") is None
    assert org.to_dict()["keys"][0]["active"] is True
