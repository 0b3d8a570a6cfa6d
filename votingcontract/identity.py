"""Phone ids, gate keys and ticket statements: identity without phone numbers on chain.

phone_id = HMAC-SHA256(pepper, normalised E.164 number as ASCII). The pepper is a
secret the attester service keeps (every attester of one chain must use the same
pepper, or one phone would get two ids); only the 32-byte phone_id reaches the chain.

Gate keys (password and QR access) are Ed25519 keys anyone who knows the secret can
derive; the poll stores the public key and a ballot carries a signature of

    gate statement   = tagged_hash(GATE, encode(["gate",   chain_id, poll_id, voter_key]))
    ticket statement = tagged_hash(GATE, encode(["ticket", chain_id, poll_id, voter_key]))

The statement tag keeps a gate signature from passing as a ticket signature; voter_key
binds the proof to one voter, so a proof seen on chain cannot be reused by another.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from chain import encoding
from chain.hashing import Domain, tagged_hash
from chain.keys import SEED_SIZE, PrivateKey, verify_signature

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_MAXMEM = 64 * 1024 * 1024
"""password gate seed = scrypt(NFC(password) as UTF-8, salt, N=2**14, r=8, p=1, 32 bytes)."""

E164_MIN_DIGITS = 8
E164_MAX_DIGITS = 15
_SEPARATORS = " -.()/\t"


def normalise_e164(text: str, default_country_code: str | None = None) -> str:
    """The E.164 form "+<digits>" of a phone number, or ValueError saying why not.

    Spaces, dashes, dots, slashes and parentheses are dropped; a leading "00" is read
    as "+". A national number starting with one "0" (010-1234-5678 in Korea) needs
    `default_country_code` ("82"): the trunk 0 is dropped and the code prefixed.
    """
    if not isinstance(text, str):
        raise ValueError(f"a phone number is text, got {type(text).__name__}")
    compact = "".join(ch for ch in text.strip() if ch not in _SEPARATORS)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not compact.startswith("+"):
        if default_country_code is None or not compact.startswith("0"):
            raise ValueError(
                f"{text!r} is not in international form: start with + and the country code"
            )
        if not default_country_code.isdigit():
            raise ValueError(f"country code {default_country_code!r} is not digits")
        compact = "+" + default_country_code + compact[1:]
    digits = compact[1:]
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"{text!r} contains characters other than digits after the +")
    if digits.startswith("0"):
        raise ValueError(f"{text!r}: a country code never starts with 0")
    if not E164_MIN_DIGITS <= len(digits) <= E164_MAX_DIGITS:
        raise ValueError(
            f"{text!r} has {len(digits)} digits; E.164 numbers have "
            f"{E164_MIN_DIGITS} to {E164_MAX_DIGITS}"
        )
    return "+" + digits


def phone_id(pepper: bytes, e164: str) -> bytes:
    """HMAC-SHA256(pepper, e164). `e164` must already be normalised."""
    if normalise_e164(e164) != e164:
        raise ValueError(f"{e164!r} is not a normalised E.164 number; use normalise_e164")
    if not pepper:
        raise ValueError("the attester pepper is empty")
    return hmac.new(pepper, e164.encode("ascii"), hashlib.sha256).digest()


def password_gate_key(password: str, salt: bytes) -> PrivateKey:
    """The gate key of a password poll: scrypt(password, salt) as an Ed25519 seed."""
    if not password:
        raise ValueError("the poll password is empty")
    secret = unicodedata.normalize("NFC", password).encode("utf-8")
    seed = hashlib.scrypt(
        secret,
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=SCRYPT_MAXMEM,
        dklen=SEED_SIZE,
    )
    return PrivateKey.from_seed(seed)


def qr_gate_key(seed: bytes) -> PrivateKey:
    """The gate key of a QR poll: the 32-byte seed carried in the QR code's URL."""
    return PrivateKey.from_seed(seed)


def gate_statement(chain_id: str, poll_id: bytes, voter_key: bytes) -> bytes:
    return tagged_hash(Domain.GATE, encoding.encode(["gate", chain_id, poll_id, voter_key]))


def ticket_statement(chain_id: str, poll_id: bytes, voter_key: bytes) -> bytes:
    return tagged_hash(Domain.GATE, encoding.encode(["ticket", chain_id, poll_id, voter_key]))


def gate_signature(gate_key: PrivateKey, chain_id: str, poll_id: bytes, voter_key: bytes) -> bytes:
    """What a voter's client puts in password_proof or qr_proof."""
    return gate_key.sign(gate_statement(chain_id, poll_id, voter_key))


def ticket_signature(
    ticket_key: PrivateKey, chain_id: str, poll_id: bytes, voter_key: bytes
) -> bytes:
    """What a voter's client puts in a ballot's ticket signature."""
    return ticket_key.sign(ticket_statement(chain_id, poll_id, voter_key))


def verify_gate(
    gate_public_key: bytes, signature: bytes, chain_id: str, poll_id: bytes, voter_key: bytes
) -> bool:
    return verify_signature(
        gate_public_key, signature, gate_statement(chain_id, poll_id, voter_key)
    )


def verify_ticket(
    ticket_public_key: bytes, signature: bytes, chain_id: str, poll_id: bytes, voter_key: bytes
) -> bool:
    return verify_signature(
        ticket_public_key, signature, ticket_statement(chain_id, poll_id, voter_key)
    )
