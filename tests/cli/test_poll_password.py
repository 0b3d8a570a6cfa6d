"""Password polls (issue 9, finding 6): the salt and gate key are public, so a weak
password can be found offline. A 4-digit PIN fell in 4,832 scrypt tries; the CLI now
refuses such passwords before anything is sent, and can generate a strong one."""

from __future__ import annotations

import string

import pytest

import votingcontract
from cli.poll_file import PASSPHRASE_ALPHABET, generate_passphrase, prepare_poll

NOW_MS = 1_800_000_000_000


def poll_document(password: str) -> dict[str, object]:
    return {
        "kind": "policy",
        "org_id": "gangnam-office",
        "title": "Staff canteen",
        "purpose": "",
        "reference_url": "",
        "opens_in_minutes": 0,
        "duration_minutes": 60,
        "visibility": "live",
        "revote": False,
        "questions": [
            {"text": "Menu", "options": ["A", "B"], "min_selections": 1, "max_selections": 1}
        ],
        "access": {"password": password},
    }


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("1234", "4 characters"),
        ("canteen-2026", "12 characters"),
        ("0000000000000000", "only 1 different"),
        ("abababababababab", "only 2 different"),
    ],
)
def test_a_weak_password_is_refused_before_anything_is_sent(password: str, why: str) -> None:
    with pytest.raises(ValueError, match=why) as refused:
        prepare_poll(poll_document(password), NOW_MS)
    assert 'password = "generate"' in str(refused.value)


def test_a_passphrase_of_four_words_is_accepted() -> None:
    prepared = prepare_poll(poll_document("canteen vote for december"), NOW_MS)
    access = prepared.body.access
    assert access.password is not None and prepared.generated_password is None
    gate = votingcontract.password_gate_key("canteen vote for december", access.password[1])
    assert gate.public_key == access.password[0]


def test_generate_makes_a_random_passphrase_that_opens_the_gate() -> None:
    prepared = prepare_poll(poll_document("generate"), NOW_MS)
    password = prepared.generated_password
    assert password is not None and password != "generate"
    groups = password.split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 4]
    assert set("".join(groups)) <= set(PASSPHRASE_ALPHABET)
    gate_key, salt = prepared.body.access.password
    assert votingcontract.password_gate_key(password, salt).public_key == gate_key


def test_generated_passphrases_differ_and_use_the_whole_alphabet() -> None:
    phrases = {generate_passphrase() for _ in range(200)}
    assert len(phrases) == 200
    used = set("".join(phrases).replace("-", ""))
    assert used == set(PASSPHRASE_ALPHABET)
    assert not used & set("01ilo"), "no characters that read alike"
    assert set(PASSPHRASE_ALPHABET) <= set(string.ascii_lowercase + string.digits)
    # 16 characters from 31: about 79 bits, out of reach of an offline scrypt search.
    assert len(PASSPHRASE_ALPHABET) ** 16 > 2**79
