"""Which Ed25519 signatures votechain accepts, pinned (PROTOCOL.md section 3).

Ed25519 implementations disagree on edge cases (Chalkias, Garillot, Nikolaenko,
"Taming the many EdDSAs", 2020). A verifier in another language must accept exactly
what the validators accept, so the rule is stated in section 3 and pinned here with the
paper's published vectors (github.com/novifinancial/ed25519-speccheck, cases.json) and
two cases of our own. If a library upgrade changes any answer, this test fails: the
change would split verifiers from validators.

The rule: cofactorless verification, encode([S]B - [k]A) == R as bytes (so a
non-canonical R never verifies); S < L; A decoded with y reduced mod p (a non-canonical
A is accepted); small-order A and R are not refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from chain.keys import PrivateKey, sodium_accepts, verify_signature

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
IDENTITY = (1).to_bytes(32, "little")
IDENTITY_NON_CANONICAL = (P + 1).to_bytes(32, "little")


@dataclass(frozen=True)
class Case:
    number: int
    what: str
    public_key: str
    signature: str
    message: str
    accepted: bool


SPECCHECK = [
    Case(
        0,
        "small-order A and R, S = 0",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a0000000000000000000000000000000000000000000000000000000000000000",
        "8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6",
        True,
    ),
    Case(
        1,
        "small-order A, mixed-order R",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
        "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
        True,
    ),
    Case(
        2,
        "mixed-order A, small-order R",
        "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e",
        "aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab",
        True,
    ),
    Case(
        3,
        "mixed-order A and R, both equations hold",
        "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
        "9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009",
        "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
        True,
    ),
    Case(
        4,
        "valid only under the cofactored equation",
        "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
        "160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09",
        "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
        False,
    ),
    Case(
        5,
        "valid only under the cofactored equation (second variant)",
        "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
        "21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405",
        "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
        False,
    ),
    Case(
        6,
        "S > L",
        "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
        "e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514",
        "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
        False,
    ),
    Case(
        7,
        "S much larger than L",
        "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
        "8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa19427e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22",
        "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
        False,
    ),
    Case(
        8,
        "non-canonical R (y + p)",
        "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f454d370c8d9fc323a41450f8d513eafeb5b0697390c1e505a0d4ddc71f566607",
        "fdaebc429f4a735932a160da1301080c13280eea8bc280d1b392c6b9e6ba3a5a",
        False,
    ),
    Case(
        9,
        "non-canonical R (y + p)",
        "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f084d5b99c2a9463d9c8bd5026916996984eeec87ddf1d3be329006ace1b37b09",
        "84b698d39be126ff55fe45079e6c8bf64a0d7db6994560b4e96b7021eb39c1a1",
        False,
    ),
]


@pytest.mark.parametrize("case", SPECCHECK, ids=[f"case-{c.number}" for c in SPECCHECK])
def test_the_speccheck_vectors_get_the_documented_answer(case: Case) -> None:
    got = verify_signature(
        bytes.fromhex(case.public_key), bytes.fromhex(case.signature), bytes.fromhex(case.message)
    )
    assert got is case.accepted, case.what


def test_a_small_order_key_verifies_a_trivial_signature_on_any_message() -> None:
    """Why section 3 warns that a key must come from a real private key: the identity
    point as a public key accepts R = identity, S = 0 for every message."""
    trivial = IDENTITY + bytes(32)
    for message in (b"", b"any message", bytes(32)):
        assert verify_signature(IDENTITY, trivial, message)
        assert verify_signature(IDENTITY_NON_CANONICAL, trivial, message)


def test_a_non_canonical_r_never_verifies() -> None:
    assert not verify_signature(IDENTITY, IDENTITY_NON_CANONICAL + bytes(32), b"any message")


def openssl_accepts(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """The rule as section 3 states it: OpenSSL's answer, asked directly."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@pytest.mark.parametrize("case", SPECCHECK, ids=[f"case-{c.number}" for c in SPECCHECK])
def test_libsodium_accepts_no_speccheck_vector_the_rule_refuses(case: Case) -> None:
    """The fast path may only be stricter: a signature libsodium accepts is one the rule
    accepts. Cases 0-2 (a small-order A or R) are the ones it refuses and OpenSSL decides."""
    key, sig, message = (bytes.fromhex(h) for h in (case.public_key, case.signature, case.message))
    assert openssl_accepts(key, sig, message) is case.accepted
    if sodium_accepts(key, sig, message):
        assert case.accepted, case.what
    if case.number in (0, 1, 2):
        assert not sodium_accepts(key, sig, message), "the rule's answer comes from OpenSSL"


SMALL_ORDER_ENCODINGS = [
    IDENTITY,
    IDENTITY_NON_CANONICAL,
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),  # y = -1
    bytes(32),  # y = 0, order 4
]


@st.composite
def mangled_signatures(draw: st.DrawFn) -> tuple[bytes, bytes, bytes]:
    """An honest signature, then changed the ways section 3's edge cases are made."""
    signer = PrivateKey.from_seed(draw(st.binary(min_size=32, max_size=32)))
    message = draw(st.binary(max_size=64))
    key, sig = bytearray(signer.public_key), bytearray(signer.sign(message))
    change = draw(st.sampled_from(["none", "flip", "small_a", "small_r", "s_plus_l", "y_plus_p"]))
    if change == "flip":
        target = draw(st.sampled_from(["key", "sig", "message"]))
        if target == "message" and message:
            index = draw(st.integers(0, len(message) - 1))
            message = message[:index] + bytes([message[index] ^ 1]) + message[index + 1 :]
        else:
            buffer = key if target == "key" else sig
            index = draw(st.integers(0, len(buffer) - 1))
            buffer[index] ^= 1 << draw(st.integers(0, 7))
    elif change == "small_a":
        key = bytearray(draw(st.sampled_from(SMALL_ORDER_ENCODINGS)))
    elif change == "small_r":
        sig[:32] = draw(st.sampled_from(SMALL_ORDER_ENCODINGS))
    elif change == "s_plus_l":
        s = int.from_bytes(sig[32:], "little") + L
        if s < 2**256:
            sig[32:] = s.to_bytes(32, "little")
    elif change == "y_plus_p":  # the non-canonical twin of a key, where one exists
        y = int.from_bytes(key, "little") & (2**255 - 1)
        if y + P < 2**255:
            key = bytearray((y + P | (key[31] >> 7) << 255).to_bytes(32, "little"))
    return bytes(key), bytes(sig), message


@settings(max_examples=400, deadline=None)
@given(mangled_signatures())
def test_the_fast_path_never_changes_an_answer(case: tuple[bytes, bytes, bytes]) -> None:
    key, sig, message = case
    expected = openssl_accepts(key, sig, message)
    if sodium_accepts(key, sig, message):
        assert expected, "libsodium accepted what the rule refuses"
    assert verify_signature(key, sig, message) is expected


def test_an_honest_signature_is_accepted_by_libsodium_alone() -> None:
    """The speed of every node's checks rests on this (issue 13): honest signatures never
    need the second, slower check."""
    for seed in range(20):
        signer = PrivateKey.from_seed(bytes([seed]) * 32)
        message = bytes([seed]) * 32
        assert sodium_accepts(signer.public_key, signer.sign(message), message)
