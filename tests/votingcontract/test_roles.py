"""Roles: organisations and their keys (admin), voter enrollment (attester)."""

from __future__ import annotations

from votingcontract import AddOrgKey, EnrollVoter, RegisterOrg, RevokeOrgKey, queries
from votingcontract.limits import KEY_REPLACEMENT_DELAY_MS
from votingcontract.reasons import ReasonCode

from .helpers import BLOCK_INTERVAL_MS, Harness, phone_id_of, policy_poll, seeded_key

R = ReasonCode


def test_genesis_state_holds_admins_and_attesters() -> None:
    h = Harness.create()
    assert queries.is_admin(h.state, h.admin.public_key)
    assert queries.attester_name(h.state, h.attester.public_key) == "phone-verification"
    assert not queries.is_admin(h.state, h.attester.public_key)


def test_only_an_admin_registers_an_org() -> None:
    h = Harness.create()
    body = RegisterOrg("jongno-gu", "Jongno District Office", "district_office", (b"\x01" * 32,))
    assert h.submit(h.attester, body).code == R.NOT_AUTHORIZED
    assert queries.get_org(h.state, "jongno-gu") is None
    assert h.submit(h.admin, body).code == "accepted"
    org = queries.get_org(h.state, "jongno-gu")
    assert org is not None and org.keys == ((b"\x01" * 32, True),)
    assert queries.stats(h.state).orgs == 1


def test_an_org_id_is_registered_once() -> None:
    h = Harness.create()
    h.register_org("jongno-gu")
    body = RegisterOrg("jongno-gu", "Other", "civic_group", (b"\x09" * 32,))
    assert h.submit(h.admin, body).code == R.ORG_EXISTS


def test_an_org_key_belongs_to_one_org() -> None:
    h = Harness.create()
    key = h.register_org("jongno-gu")
    taken = RegisterOrg("mapo-gu", "Mapo", "district_office", (key.public_key,))
    assert h.submit(h.admin, taken).code == R.KEY_IN_USE
    twice = RegisterOrg("mapo-gu", "Mapo", "district_office", (b"\x05" * 32, b"\x05" * 32))
    assert h.submit(h.admin, twice).code == R.KEY_IN_USE
    assert h.submit(h.admin, AddOrgKey("mapo-gu", b"\x05" * 32)).code == R.UNKNOWN_ORG
    assert h.submit(h.admin, AddOrgKey("jongno-gu", key.public_key)).code == R.KEY_IN_USE


def test_admin_adds_and_revokes_org_keys() -> None:
    h = Harness.create()
    first = h.register_org("jongno-gu")
    second = seeded_key("jongno-second")
    assert h.submit(first, AddOrgKey("jongno-gu", second.public_key)).code == R.NOT_AUTHORIZED
    assert h.submit(h.admin, AddOrgKey("jongno-gu", second.public_key)).code == "accepted"
    assert h.create_poll(second, policy_poll("jongno-gu", h.now_ms))
    revoke = RevokeOrgKey("jongno-gu", second.public_key)
    assert h.submit(first, revoke).code == R.NOT_AUTHORIZED
    assert h.submit(h.admin, RevokeOrgKey("nowhere", second.public_key)).code == R.UNKNOWN_ORG
    assert h.submit(h.admin, revoke).code == "accepted"
    assert h.submit(h.admin, revoke).code == R.NOT_APPLICABLE  # already revoked
    assert h.submit(second, policy_poll("jongno-gu", h.now_ms)).code == R.KEY_REVOKED
    # a revoked key is never reused
    assert h.submit(h.admin, AddOrgKey("jongno-gu", second.public_key)).code == R.KEY_IN_USE


def test_revoking_a_key_of_another_org_does_nothing() -> None:
    h = Harness.create()
    jongno = h.register_org("jongno-gu")
    h.register_org("mapo-gu")
    body = RevokeOrgKey("mapo-gu", jongno.public_key)
    assert h.submit(h.admin, body).code == R.NOT_APPLICABLE


def test_only_an_attester_enrolls_voters() -> None:
    h = Harness.create()
    key = seeded_key("voter")
    body = EnrollVoter(phone_id_of("alice"), key.public_key)
    assert h.submit(h.admin, body).code == R.NOT_AUTHORIZED
    assert h.submit(key, body).code == R.NOT_AUTHORIZED
    assert queries.phone_id_of_key(h.state, key.public_key) is None
    assert h.submit(h.attester, body).code == "accepted"
    assert queries.phone_id_of_key(h.state, key.public_key) == phone_id_of("alice")
    assert queries.stats(h.state).voters == 1


def test_enrolling_the_same_key_again_is_refused() -> None:
    h = Harness.create()
    key = h.enroll("alice")
    again = EnrollVoter(phone_id_of("alice"), key.public_key)
    assert h.submit(h.attester, again).code == R.ALREADY_ENROLLED


def test_one_key_belongs_to_one_phone() -> None:
    h = Harness.create()
    key = h.enroll("alice")
    other_phone = EnrollVoter(phone_id_of("bob"), key.public_key)
    assert h.submit(h.attester, other_phone).code == R.KEY_IN_USE


def test_re_enrolling_a_phone_rotates_its_key_after_the_wait() -> None:
    h = Harness.create()
    old = h.enroll("alice")
    new = seeded_key("alice-new-phone")
    assert h.submit(h.attester, EnrollVoter(phone_id_of("alice"), new.public_key)).code == (
        "accepted"
    )
    enrolled_at_ms = h.now_ms - BLOCK_INTERVAL_MS
    info = queries.voter_info(h.state, phone_id_of("alice"), h.now_ms)
    assert info is not None and info.active_key == old.public_key and info.enrollments == 2
    assert info.pending_key == new.public_key
    assert info.pending_effective_at_ms == enrolled_at_ms + KEY_REPLACEMENT_DELAY_MS
    assert queries.is_voter_key_active(h.state, old.public_key, h.now_ms)
    assert not queries.is_voter_key_active(h.state, new.public_key, h.now_ms)
    h.advance(KEY_REPLACEMENT_DELAY_MS)
    info = queries.voter_info(h.state, phone_id_of("alice"), h.now_ms)
    assert info is not None and info.active_key == new.public_key and info.pending_key is None
    assert not queries.is_voter_key_active(h.state, old.public_key, h.now_ms)
    assert queries.is_voter_key_active(h.state, new.public_key, h.now_ms)
    assert queries.stats(h.state).voters == 1  # still one phone
    # the old key can be bound to nothing again, not even its own phone
    back = EnrollVoter(phone_id_of("alice"), old.public_key)
    assert h.submit(h.attester, back).code == R.KEY_IN_USE
