"""An outsider's check of votechain's secret polls, written from docs/PROTOCOL.md alone.

Issue 16 asks that an outsider can check an encrypted poll from the spec alone. This
module is that outsider: it imports nothing of votechain (only msgpack, pysodium's
ristretto255, hashlib and cryptography's Ed25519) and was written from PROTOCOL.md,
docs/test-vectors/ and docs/adr/ without reading votechain's source.

What it checks, replaying an export file (14.2) block by block and stopping at the
first height where a rule of section 10 fails:

- rules 1-9 as section 10 gives them (canonical decoding, chain ids, links, timestamps,
  proposer, tx_root, repeated tx_ids, transaction signatures, commit certificates);
- rule 10: ``prev_receipts_root`` from the stored receipts, and ``prev_app_hash`` from
  the state writes this checker computes itself (section 9);
- rule 11, **independently, for every secret-poll transaction**: the receipt code of
  every ``trustee_key``, ``trustee_dealing``, ``trustee_check``, ``trustee_decrypt``
  and every ``cast_ballot`` and ``close_poll`` of a secret poll, computed from 11.6
  (close_poll, cast_ballot and "Secret polls") and
  section 15 (Schnorr and Chaum-Pedersen proofs, dealings, complaints recomputed
  through the pad, the key outcome, ballot decoding, 0/1, count and budget proofs, the
  encrypted tally with revotes subtracted, partial decryptions, the Lagrange
  combination and the bounded discrete log), for any number of secret polls. No
  stored receipt code is read to compute these: a secret poll with a roll, gate,
  tickets or geofence (rules 4-8 of ``cast_ballot``) or a key replacement (rule 2's
  ``key_pending``, ``key_revoked``) is reported as outside its scope instead;
- each secret poll's results as 11.7 gives them (``results_view``): the counts once
  counted, else awaiting trustees, except after a failed key set-up or for a poll that
  closed before its key, which awaits no one.

What it takes as given (it does NOT replay the rest of section 11): the receipt codes
of every other transaction (``register_org``, ``enroll_voter``, ``create_poll``, a
public poll's ``close_poll``, ...). For
the state writes of those accepted transactions it applies what 11.6 says they write,
for the features the published vectors use (policy polls without roll, tickets or
images; first enrolments); anything else is reported as outside its scope rather than
guessed. For a ballot of a secret poll it checks the body's field count only, not the
types of its public fields (11.4), so a ``malformed_body`` there is not computed.

Where PROTOCOL.md once left a choice, the app hashes of the vectors decided it and the
spec now says it (11.5): ``etally/``, ``pollkey/`` and ``tracking/`` hold the canonical
encodings of one bin value each (64 n, 32 and 32 bytes), and a secret ballot's fifth
field is one bin value, the 64-byte ``alpha || beta`` items laid end to end.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack
import pysodium  # type: ignore[import-untyped]
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# ---------------------------------------------------------------- section 1, 2

L = 2**252 + 27742317777372353535851937790883648493

TRANSACTION = 0x01
TRANSACTION_ID = 0x02
BLOCK_HEADER = 0x03
MERKLE_LEAF = 0x04
MERKLE_NODE = 0x05
COMMIT_VOTE = 0x06
WRITE_SET = 0x08
APP_HASH = 0x09
GENESIS = 0x0A
MERKLE_ROOT = 0x0E
BALLOT_ZERO_ONE = 0x10
BALLOT_SELECTION_COUNT = 0x11
BALLOT_BUDGET_BIT = 0x12
DECRYPTION_SHARE = 0x13
KEY_KNOWLEDGE = 0x14
SHARE_PAD = 0x15
SHARE_KEY_REVEAL = 0x16
BALLOT_TRACKING = 0x17

WHOLE_QUESTION = 0xFFFF
ZERO32 = bytes(32)


class Undecodable(Exception):
    """Bytes that are not a canonical encoding (section 1)."""


def enc(value: Any) -> bytes:
    return bytes(msgpack.packb(value, use_bin_type=True))


def _allowed(value: Any, depth: int) -> bool:
    if depth > 32:
        return False
    if isinstance(value, list):
        return all(_allowed(item, depth + 1) for item in value)
    return value is None or isinstance(value, (bool, int, bytes, str))


def dec(data: bytes) -> Any:
    """Decode canonically: the only correct decoding re-encodes to the same bytes."""
    try:
        value = msgpack.unpackb(data, raw=False, use_list=True, strict_map_key=True)
    except Exception as exc:  # msgpack raises several types for bad input
        raise Undecodable(f"not msgpack: {exc}") from exc
    if not _allowed(value, 0):
        raise Undecodable("a refused type (map, float, extension) or nesting over 32")
    if enc(value) != data:
        raise Undecodable("not the shortest canonical form")
    return value


def H(domain: int, data: bytes) -> bytes:
    return hashlib.sha256(bytes([domain]) + data).digest()


def int_le(data: bytes) -> int:
    return int.from_bytes(data, "little")


# ---------------------------------------------------------------- section 6


def merkle_root(items: list[bytes]) -> bytes:
    if not items:
        return ZERO32
    level = [H(MERKLE_LEAF, item) for item in items]
    while len(level) > 1:
        nxt = [H(MERKLE_NODE, level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return H(MERKLE_ROOT, struct.pack(">Q", len(items)) + level[0])


# ---------------------------------------------------------------- section 3


def ed25519_ok(pubkey: bytes, signature: bytes, message: bytes) -> bool:
    if len(signature) != 64 or len(pubkey) != 32 or int_le(signature[32:]) >= L:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(pubkey).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# ---------------------------------------------------------------- section 15.1 group

Point = bytes
ID: Point = ZERO32  # the identity O of 15.1


def scalar(n: int) -> bytes:
    return (n % L).to_bytes(32, "little")


def is_point(data: Any) -> bool:
    return (
        isinstance(data, bytes)
        and len(data) == 32
        and bool(pysodium.crypto_core_ristretto255_is_valid_point(data))
    )


def add(p: Point, q: Point) -> Point:
    if p == ID:
        return q
    if q == ID:
        return p
    return bytes(pysodium.crypto_core_ristretto255_add(p, q))


def sub(p: Point, q: Point) -> Point:
    if q == ID:
        return p
    if p == q:
        return ID
    return bytes(pysodium.crypto_core_ristretto255_sub(p, q))


def mul(k: int, p: Point) -> Point:
    # libsodium refuses to return the identity, so k = 0 and p = ID are answered here.
    if k % L == 0 or p == ID:
        return ID
    return bytes(pysodium.crypto_scalarmult_ristretto255(scalar(k), p))


def base(k: int) -> Point:
    if k % L == 0:
        return ID
    return bytes(pysodium.crypto_scalarmult_ristretto255_base(scalar(k)))


def challenge(domain: int, context: list[Any], statement: list[Any], commits: list[Point]) -> int:
    """15.3: c = int_le(H(domain, encode([context, statement, commitments]))) mod L."""
    return int_le(H(domain, enc([context, statement, commits]))) % L


class Malformed(Exception):
    """A value of the wrong shape (malformed_ballot or malformed_body by where it is)."""


def want_list(value: Any, length: int | None = None) -> list[Any]:
    if not isinstance(value, list) or (length is not None and len(value) != length):
        raise Malformed(f"expected an array of {length}, got {type(value).__name__}")
    return value


def want_point(value: Any, non_identity: bool = False) -> Point:
    if not is_point(value):
        raise Malformed("a point that does not decode (RFC 9496 4.3.1)")
    if non_identity and value == ID:
        raise Malformed("the identity where a non-identity point is needed")
    return bytes(value)


def want_scalar(value: Any) -> int:
    if not isinstance(value, bytes) or len(value) != 32 or int_le(value) >= L:
        raise Malformed("a scalar that is not 32 bytes below L")
    return int_le(value)


def want_u64(value: Any, low: int = 0, high: int = 2**64 - 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Malformed(f"expected an integer {low}..{high}")
    return value


Ciphertext = tuple[Point, Point]
Proof = list[tuple[int, int]]


def want_ciphertext(value: Any, alpha_non_identity: bool = False) -> Ciphertext:
    alpha, beta = want_list(value, 2)
    return want_point(alpha, alpha_non_identity), want_point(beta)


def want_disjunctive(value: Any, k: int) -> Proof:
    return [
        (want_scalar(c), want_scalar(v)) for c, v in (want_list(b, 2) for b in want_list(value, k))
    ]


def want_pair(value: Any) -> tuple[int, int]:
    c, v = want_list(value, 2)
    return want_scalar(c), want_scalar(v)


def ct_add(x: Ciphertext, y: Ciphertext) -> Ciphertext:
    return add(x[0], y[0]), add(x[1], y[1])


def ct_sub(x: Ciphertext, y: Ciphertext) -> Ciphertext:
    return sub(x[0], y[0]), sub(x[1], y[1])


def ct_mul(k: int, x: Ciphertext) -> Ciphertext:
    return mul(k, x[0]), mul(k, x[1])


# ---------------------------------------------------------------- 15.4 - 15.6 proofs


def disjunctive_ok(
    domain: int, context: list[Any], Y: Point, ct: Ciphertext, values: list[int], proof: Proof
) -> bool:
    alpha, beta = ct
    commits: list[Point] = []
    total = 0
    for m, (c, v) in zip(values, proof, strict=True):
        beta_j = sub(beta, base(m))
        commits.append(sub(base(v), mul(c, alpha)))  # D1
        commits.append(sub(mul(v, Y), mul(c, beta_j)))  # D2
        total += c
    return total % L == challenge(domain, context, [Y, alpha, beta, values], commits)  # D3


def chaum_pedersen_ok(
    domain: int, context: list[Any], X: Point, Hp: Point, Z: Point, proof: tuple[int, int]
) -> bool:
    c, v = proof
    a = sub(base(v), mul(c, X))  # Q1
    b = sub(mul(v, Hp), mul(c, Z))  # Q2
    return c == challenge(domain, context, [X, Hp, Z], [a, b])  # Q3


def schnorr_ok(context: list[Any], X: Point, proof: tuple[int, int]) -> bool:
    c, v = proof
    a = sub(base(v), mul(c, X))  # S1
    return c == challenge(KEY_KNOWLEDGE, context, [X], [a])  # S2


# ---------------------------------------------------------------- 15.7 key generation


@dataclass(frozen=True)
class TransportKey:
    trustee: int
    T: Point
    proof: tuple[int, int]


@dataclass(frozen=True)
class Dealing:
    dealer: int
    commitments: tuple[Point, ...]
    proof: tuple[int, int]
    shares: tuple[tuple[Point, int], ...]


@dataclass(frozen=True)
class Complaint:
    dealer: int
    recipient: int
    K: Point
    proof: tuple[int, int]


@dataclass(frozen=True)
class Partial:
    trustee: int
    shares: tuple[Point, ...]
    proofs: tuple[tuple[int, int], ...]


def decode_transport_key(value: Any) -> TransportKey:
    trustee, T, proof = want_list(value, 3)
    return TransportKey(want_u64(trustee, 1, 64), want_point(T, True), want_pair(proof))


def decode_dealing(value: Any) -> Dealing:
    dealer, commits, proof, shares = want_list(value, 4)
    return Dealing(
        want_u64(dealer, 1, 64),
        tuple(want_point(c, True) for c in want_list(commits)),
        want_pair(proof),
        tuple(
            (want_point(e, True), want_scalar(z))
            for e, z in (want_list(s, 2) for s in want_list(shares))
        ),
    )


def decode_complaint(value: Any) -> Complaint:
    dealer, recipient, K, proof = want_list(value, 4)
    return Complaint(
        want_u64(dealer, 1, 64), want_u64(recipient, 1, 64), want_point(K, True), want_pair(proof)
    )


def decode_partial(value: Any) -> Partial:
    trustee, shares, proofs = want_list(value, 3)
    shares_l, proofs_l = want_list(shares), want_list(proofs)
    if len(shares_l) > 4096 or len(proofs_l) > 4096:
        raise Malformed("a partial decryption of more than 4,096 shares or proofs")
    return Partial(
        want_u64(trustee, 1, 64),
        tuple(want_point(d) for d in shares_l),
        tuple(want_pair(p) for p in proofs_l),
    )


def trustee_context(chain_id: str, poll_id: bytes, trustee: int, purpose: str) -> list[Any]:
    return [chain_id, poll_id, trustee, purpose]


def feldman(commitments: tuple[Point, ...], j: int) -> Point:
    """Σ_m j^m·C_m (V2's right side, and one dealer's term of S_j)."""
    total = ID
    for m, C in enumerate(commitments):
        total = add(total, mul(pow(j, m, L), C))
    return total


def share_pad(chain_id: str, poll_id: bytes, i: int, j: int, E: Point, T: Point, K: Point) -> int:
    first = H(SHARE_PAD, enc([chain_id, poll_id, i, j, E, T, K, 0]))
    second = H(SHARE_PAD, enc([chain_id, poll_id, i, j, E, T, K, 1]))
    return int_le(first + second) % L  # T2


def complaint_upheld(
    chain_id: str, poll_id: bytes, complaint: Complaint, dealing: Dealing, T_j: Point
) -> bool:
    """15.7: the reveal proof verifies and the unpadded share fails V2."""
    j = complaint.recipient
    if not 1 <= j <= len(dealing.shares):
        return False
    E_j, z_j = dealing.shares[j - 1]
    context = trustee_context(chain_id, poll_id, j, "reveal")
    if not chaum_pedersen_ok(SHARE_KEY_REVEAL, context, T_j, E_j, complaint.K, complaint.proof):
        return False
    s = (z_j - share_pad(chain_id, poll_id, complaint.dealer, j, E_j, T_j, complaint.K)) % L
    return base(s) != feldman(dealing.commitments, j)


# ---------------------------------------------------------------- 15.5, 15.9 ballots


@dataclass(frozen=True)
class Rule:
    """A question's rule for C2: options, [min, max], and a budget's costs, cap, floor."""

    options: int
    min: int
    max: int
    costs: tuple[int, ...] | None
    cap: int
    floor: int


@dataclass(frozen=True)
class Bits:
    bits: tuple[Ciphertext, ...]
    proofs: tuple[Proof, ...]


@dataclass(frozen=True)
class EncryptedQuestion:
    ciphertexts: tuple[Ciphertext, ...]
    zero_one: tuple[Proof, ...]
    count: Proof | None
    upper: Bits | None
    lower: Bits | None


def count_values(rule: Rule) -> list[int] | None:
    if rule.min == 0 and rule.max >= rule.options:
        return None
    return list(range(rule.min, min(rule.max, rule.options) + 1))


def decode_bits(value: Any, n: int) -> Bits:
    cts, proofs = want_list(value, 2)
    return Bits(
        tuple(want_ciphertext(c) for c in want_list(cts, n)),
        tuple(want_disjunctive(p, 2) for p in want_list(proofs, n)),
    )


def decode_question(value: Any, rule: Rule) -> EncryptedQuestion:
    cts, zero_one, count, budget = want_list(value, 4)
    ciphertexts = tuple(want_ciphertext(c, True) for c in want_list(cts, rule.options))
    proofs = tuple(want_disjunctive(p, 2) for p in want_list(zero_one, rule.options))
    values = count_values(rule)
    if (count is None) != (values is None):
        raise Malformed("a count proof where none belongs, or none where one does")
    count_proof = None if values is None else want_disjunctive(count, len(values))
    upper = lower = None
    if rule.costs is None:
        if budget is not None:
            raise Malformed("a budget proof on a question without a budget")
    else:
        upper_v, lower_v = want_list(budget, 2)
        upper = decode_bits(upper_v, max(1, rule.cap.bit_length()))
        if (lower_v is None) != (rule.floor == 0):
            raise Malformed("a lower budget proof present exactly when floor > 0 is broken")
        if rule.floor > 0:
            lower = decode_bits(lower_v, max(1, (sum(rule.costs) - rule.floor).bit_length()))
    return EncryptedQuestion(ciphertexts, proofs, count_proof, upper, lower)


def bits_failure(
    ctx: Callable[[int], list[Any]], Y: Point, bits: Bits, offset: int, target: Ciphertext
) -> str | None:
    # C3: the sum N2 is checked before the bits' proofs.
    total: Ciphertext = (ID, ID)
    for k, B in enumerate(bits.bits):
        total = ct_add(total, ct_mul(2**k, B))
    if total != target:
        return "bits do not add up to the target (N2)"
    for k, (B, P) in enumerate(zip(bits.bits, bits.proofs, strict=True)):
        if not disjunctive_ok(BALLOT_BUDGET_BIT, ctx(offset + k), Y, B, [0, 1], P):
            return f"bit {k}: 0/1"
    return None


def question_failure(
    ctx: Callable[[int], list[Any]], Y: Point, q: EncryptedQuestion, rule: Rule
) -> str | None:
    """The first proof of a question that does not verify (15.4, 15.5), or None."""
    for o, (E, P) in enumerate(zip(q.ciphertexts, q.zero_one, strict=True)):
        if not disjunctive_ok(BALLOT_ZERO_ONE, ctx(o), Y, E, [0, 1], P):
            return f"option {o}: 0/1"
    values = count_values(rule)
    if values is not None and q.count is not None:
        summed: Ciphertext = (ID, ID)
        for E in q.ciphertexts:
            summed = ct_add(summed, E)
        if not disjunctive_ok(
            BALLOT_SELECTION_COUNT, ctx(WHOLE_QUESTION), Y, summed, values, q.count
        ):
            return "selection count"
    if rule.costs is not None and q.upper is not None:
        W: Ciphertext = (ID, ID)
        for w, E in zip(rule.costs, q.ciphertexts, strict=True):
            W = ct_add(W, ct_mul(w, E))  # B1
        U = ct_sub((ID, base(rule.cap)), W)  # B2
        failure = bits_failure(ctx, Y, q.upper, 0, U)
        if failure is not None:
            return f"budget cap: {failure}"
        if rule.floor > 0 and q.lower is not None:
            F = ct_sub(W, (ID, base(rule.floor)))  # B3
            failure = bits_failure(ctx, Y, q.lower, 256, F)
            if failure is not None:
                return f"budget floor: {failure}"
    return None


def question_rules(create_poll: list[Any]) -> list[Rule]:
    rules = []
    for question in create_poll[9]:
        options, low, high, budget = question[1], question[2], question[3], question[4]
        if budget is None:
            rules.append(Rule(len(options), low, high, None, 0, 0))
            continue
        cap, percent = (budget, 0) if isinstance(budget, int) else (budget[0], budget[1])
        floor = -(-cap * percent // 100)  # the ceiling of cap * percent / 100
        rules.append(Rule(len(options), low, high, tuple(o[1] for o in options), cap, floor))
    return rules


def tracking_code(encrypted: Any) -> bytes:
    """15.11: H(BALLOT_TRACKING, encode(encrypted))."""
    return H(BALLOT_TRACKING, enc(encrypted))


def shown_code(code: bytes) -> str:
    text = base64.b32encode(code[:16]).decode().rstrip("=")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


# ---------------------------------------------------------------- 15.8 decryption


def lagrange(j: int, J: list[int]) -> int:
    result = 1
    for m in J:
        if m != j:
            result = result * m * pow(m - j, -1, L) % L  # P1
    return result


def bounded_log(target: Point, bound: int) -> int | None:
    point = ID
    for m in range(bound + 1):
        if point == target:
            return m
        point = add(point, base(1))
    return None


# ---------------------------------------------------------------- state (section 11.5)


@dataclass
class SecretPoll:
    """What this checker keeps of one secret poll (11.5 `secret/`, `etally/`, ...)."""

    trustees: list[bytes]
    threshold: int
    rules: list[Rule]
    transport: list[TransportKey | None]
    transport_raw: list[Any]
    dealings: list[Dealing | None]
    dealings_raw: list[Any]
    checks: list[list[int] | None]
    outcome: list[Any] | None = None
    qualified: list[int] = field(default_factory=list)
    Y: Point | None = None
    S: list[Point] = field(default_factory=list)
    etally: list[Ciphertext] = field(default_factory=list)
    ballots: dict[bytes, list[Ciphertext]] = field(default_factory=dict)
    participants: int = 0
    partials: list[Partial] = field(default_factory=list)
    counted: bool = False
    counts: list[list[int]] | None = None
    complaints: list[tuple[int, int, bool]] = field(default_factory=list)
    closed: bool = False  # status `closed` at the last replayed block's time

    @property
    def phase(self) -> str:
        if None in self.transport_raw:
            return "keys"
        if None in self.dealings_raw:
            return "dealings"
        if None in self.checks:
            return "checks"
        return "ready" if self.Y is not None else "failed"


@dataclass(frozen=True)
class Finding:
    height: int
    rule: int
    position: int | None
    what: str


@dataclass(frozen=True)
class TxResult:
    height: int
    position: int
    kind: str
    stored: str
    computed: str | None  # None: taken as given (not a secret-poll step)
    why: str | None = None  # for bad_ballot_proof: the first check that failed (C3)


@dataclass
class Report:
    finding: Finding | None
    blocks: int
    app_hash: bytes | None
    genesis_hash: bytes
    results: list[TxResult]
    polls: dict[bytes, SecretPoll]
    tracking: dict[tuple[int, int], bytes]

    @property
    def verdict(self) -> Any:
        if self.finding is None:
            return "ok"
        return {"height": self.finding.height, "rule": self.finding.rule}


class _Stop(Exception):
    def __init__(self, rule: int, position: int | None, what: str) -> None:
        super().__init__(what)
        self.rule, self.position, self.what = rule, position, what


def _key(prefix: str, *parts: bytes) -> bytes:
    return prefix.encode() + b"".join(parts)


def _u16(n: int) -> bytes:
    return struct.pack(">H", n)


class Replay:
    """Section 10's rules and the parts of section 11 said in the module docstring."""

    def __init__(self, genesis: list[Any]) -> None:
        self.genesis = genesis
        self.chain_id: str = genesis[1]
        self.validators = [v[1] for v in genesis[3]]
        self.state: dict[bytes, bytes] = {}
        self.polls: dict[bytes, list[Any]] = {}  # poll id -> [create_poll, closes_at, closed_early]
        self.secret: dict[bytes, SecretPoll] = {}
        self.voterkeys: dict[bytes, bytes] = {}
        self.results: list[TxResult] = []
        self.tracking: dict[tuple[int, int], bytes] = {}
        self.writes: dict[bytes, bytes | None] = {}
        genesis_writes: dict[bytes, bytes | None] = {}
        for admin in genesis[4]:
            genesis_writes[_key("admin/", admin)] = enc(True)
        for name, key in genesis[5]:
            genesis_writes[_key("attester/", key)] = enc(name)
        self.state.update({k: v for k, v in genesis_writes.items() if v is not None})
        self.app_hash = H(APP_HASH, ZERO32 + self._write_set_hash(genesis_writes))
        self.genesis_hash = H(GENESIS, enc(genesis))
        self.prev_hash = self.genesis_hash
        self.prev_time: int = genesis[2]
        self.receipts_root = ZERO32
        self.seen: set[bytes] = set()
        self._pos = 0
        self._why: str | None = None

    # ---- state helpers

    @staticmethod
    def _write_set_hash(writes: dict[bytes, bytes | None]) -> bytes:
        return H(WRITE_SET, enc([[k, writes[k]] for k in sorted(writes)]))

    def _put(self, key: bytes, value: bytes | None) -> None:
        self.writes[key] = value
        if value is None:
            self.state.pop(key, None)
        else:
            self.state[key] = value

    def _count(self, key: bytes, delta: int) -> None:
        now = dec(self.state[key]) if key in self.state else 0
        self._put(key, enc(now + delta) if now + delta else None)

    # ---- one block

    def block(self, h: int, block_v: Any, cert: Any, receipts: Any) -> None:
        if not (isinstance(block_v, list) and len(block_v) == 2):
            raise _Stop(1, None, "the block is not [header, transactions]")
        header, txs = block_v
        if not (isinstance(header, list) and len(header) == 9 and isinstance(txs, list)):
            raise _Stop(1, None, "the header or transaction list has the wrong shape")
        if header[0] != 1:
            raise _Stop(1, None, "header version is not 1")
        for pos, tx in enumerate(txs):
            if not (isinstance(tx, list) and len(tx) == 7 and tx[0] == 1):
                raise _Stop(1, pos, "a transaction of the wrong shape or version")
        if header[1] != self.chain_id or any(tx[1] != self.chain_id for tx in txs):
            raise _Stop(2, None, "a chain id is not genesis's")
        if header[2] != h or header[4] != self.prev_hash:
            raise _Stop(3, None, "height or prev_hash does not link")
        if header[3] <= self.prev_time:
            raise _Stop(4, None, "timestamp not after the parent's")
        if header[8] not in self.validators:
            raise _Stop(5, None, "the proposer is not a validator")
        tx_ids = [H(TRANSACTION_ID, enc(tx)) for tx in txs]
        if header[5] != merkle_root(tx_ids):
            raise _Stop(6, None, "tx_root is not the Merkle root of the tx_ids")
        if len(set(tx_ids)) != len(tx_ids) or self.seen & set(tx_ids):
            raise _Stop(7, None, "a tx_id appears twice")
        for pos, tx in enumerate(txs):
            if not ed25519_ok(tx[3], tx[6], H(TRANSACTION, enc(tx[:6]))):
                raise _Stop(8, pos, "a transaction's signature does not verify")
        block_hash = H(BLOCK_HEADER, enc(header))
        self._certificate(h, block_hash, cert)
        if header[6] != self.app_hash:
            raise _Stop(10, None, "prev_app_hash is not the app hash of this replay's state")
        if header[7] != self.receipts_root:
            raise _Stop(10, None, "prev_receipts_root is not the root of the stored receipts")
        self.writes = {}
        ctx = (self.chain_id, h, header[3])
        mine: list[bytes] = []
        if not isinstance(receipts, list) or len(receipts) != len(txs):
            raise _Stop(11, None, "not one stored receipt per transaction")
        for pos, (tx, tx_id, stored_bytes) in enumerate(zip(txs, tx_ids, receipts, strict=True)):
            try:
                stored = dec(stored_bytes)
            except Undecodable:
                raise _Stop(11, pos, "a stored receipt does not decode") from None
            if not (isinstance(stored, list) and len(stored) == 4):
                raise _Stop(11, pos, "a stored receipt is not [tx_id, position, code, poll_id]")
            code, poll_id = self._execute(ctx, pos, tx, tx_id, stored[2])
            receipt = enc([tx_id, pos, code, poll_id])
            mine.append(receipt)
            if receipt != stored_bytes:
                raise _Stop(11, pos, f"stored receipt {stored!r} but the replay gives {code!r}")
        self.seen.update(tx_ids)
        self.app_hash = H(APP_HASH, self.app_hash + self._write_set_hash(self.writes))
        self.receipts_root = merkle_root(mine)
        for poll_id, sp in self.secret.items():
            sp.closed = self._status(poll_id, header[3]) == "closed"
        self.prev_hash = block_hash
        self.prev_time = header[3]

    def _certificate(self, h: int, block_hash: bytes, cert: Any) -> None:
        n = len(self.validators)
        f = (n - 1) // 3
        quorum = (n + f) // 2 + 1
        if not (isinstance(cert, list) and len(cert) == 5):
            raise _Stop(9, None, "the certificate has the wrong shape")
        chain_id, view, height, cert_hash, votes = cert
        if chain_id != self.chain_id or height != h or cert_hash != block_hash:
            raise _Stop(9, None, "the certificate is for another chain, height or block")
        sign_bytes = H(COMMIT_VOTE, enc([chain_id, view, height, cert_hash]))
        signers = [v[0] for v in votes]
        if len(set(signers)) != len(signers) or any(s not in self.validators for s in signers):
            raise _Stop(9, None, "a certificate signer twice or not a validator")
        if not all(ed25519_ok(v[0], v[1], sign_bytes) for v in votes) or len(signers) < quorum:
            raise _Stop(9, None, "a certificate signature fails or the quorum is short")

    # ---- execution (11.1)

    def _execute(
        self, ctx: tuple[str, int, int], pos: int, tx: list[Any], tx_id: bytes, stored_code: str
    ) -> tuple[str, bytes | None]:
        kind, signer = tx[2], tx[3]
        self._pos = pos
        self._why = None
        handler = {
            "cast_ballot": self._cast_ballot,
            "close_poll": self._close_poll,
            "trustee_key": self._trustee_step,
            "trustee_dealing": self._trustee_step,
            "trustee_check": self._trustee_step,
            "trustee_decrypt": self._trustee_step,
        }.get(kind)
        try:
            body = dec(tx[5])
        except Undecodable:
            body = None
        if (
            handler is not None
            and isinstance(body, list)
            and body
            and self._is_secret_step(kind, body)
        ):
            code, poll_id = handler(ctx, kind, signer, body, tx_id)
            self.results.append(TxResult(ctx[1], pos, kind, stored_code, code, self._why))
            return code, poll_id
        # Not a secret-poll step: the stored code is taken as given (module docstring).
        self.results.append(TxResult(ctx[1], pos, kind, stored_code, None))
        poll_id = self._given_poll_id(kind, body, tx_id, stored_code)
        if stored_code == "accepted":
            self._given_writes(ctx, kind, signer, body, tx_id)
        return stored_code, poll_id

    def _is_secret_step(self, kind: str, body: list[Any]) -> bool:
        if kind.startswith("trustee_"):
            return True
        poll_id = body[0]
        return isinstance(poll_id, bytes) and poll_id in self.secret

    @staticmethod
    def _given_poll_id(kind: str, body: Any, tx_id: bytes, code: str) -> bytes | None:
        if kind == "create_poll":
            return tx_id if code == "accepted" else None
        names_poll = {"close_poll", "extend_poll", "extend_roll", "issue_tickets", "cast_ballot"}
        if kind in names_poll and code != "malformed_body" and isinstance(body, list):
            poll_id = body[0]
            return poll_id if isinstance(poll_id, bytes) else None
        return None

    def _unsupported(self, what: str) -> None:
        raise _Stop(0, None, f"outside this checker's scope: {what}")

    def _given_writes(
        self, ctx: tuple[str, int, int], kind: str, signer: bytes, body: Any, tx_id: bytes
    ) -> None:
        _, height, now = ctx
        if kind == "register_org":
            org_id, name, category, keys = body
            self._put(_key("org/", org_id.encode()), enc([name, category, height]))
            for k in keys:
                self._put(_key("orgkey/", k), enc([org_id, True]))
            self._count(b"stat/orgs", 1)
        elif kind == "enroll_voter":
            phone_id, voter_key = body
            if _key("phone/", phone_id) in self.state:
                self._unsupported("a key replacement (enroll_voter of an enrolled phone)")
            self._put(_key("phone/", phone_id), enc([voter_key, height, 1, None]))
            self._count(b"stat/voters", 1)
            self._put(_key("voterkey/", voter_key), enc([phone_id]))
            self.voterkeys[voter_key] = phone_id
        elif kind == "create_poll":
            if body[0] != "policy" or any(a is not None for a in body[10]):
                self._unsupported("a citizen poll or a poll with access restrictions")
            if any(len(q) > 5 or any(len(o) > 2 for o in q[1]) for q in body[9]):
                self._unsupported("images")
            self.polls[tx_id] = [body, body[6], None]
            self._put(_key("poll/", tx_id), enc([body, signer, None, height, body[6], None]))
            self._count(b"stat/polls_policy", 1)
            if len(body) == 12:
                trustees, threshold = body[11]
                n = len(trustees)
                rules = question_rules(body)
                options = sum(r.options for r in rules)
                self.secret[tx_id] = SecretPoll(
                    trustees=list(trustees),
                    threshold=threshold,
                    rules=rules,
                    transport=[None] * n,
                    transport_raw=[None] * n,
                    dealings=[None] * n,
                    dealings_raw=[None] * n,
                    checks=[None] * n,
                    etally=[(ID, ID)] * options,
                )
                self._write_secret(tx_id)
                self._put(_key("etally/", tx_id), enc(bytes(64 * options)))
        elif kind == "close_poll":
            self._write_close(body[0], now)
        else:
            self._unsupported(f"the writes of an accepted {kind}")

    def _status(self, poll_id: bytes, now: int) -> str:
        create, closes_at, closed_early = self.polls[poll_id]
        if closed_early is not None or now >= closes_at:
            return "closed"
        return "upcoming" if now < create[5] else "open"

    def _write_secret(self, poll_id: bytes) -> None:
        sp = self.secret[poll_id]
        value = [sp.transport_raw, sp.dealings_raw, sp.checks, sp.outcome]
        self._put(_key("secret/", poll_id), enc(value))

    # ---- close_poll of a secret poll (11.6 close_poll)

    def _close_poll(
        self,
        ctx: tuple[str, int, int],
        kind: str,
        signer: bytes,
        body: list[Any],
        tx_id: bytes,
    ) -> tuple[str, bytes | None]:
        _, _, now = ctx
        if len(body) != 1:
            return "malformed_body", None
        poll_id = body[0]
        # Rule 2: a secret poll here is a policy poll (citizen polls are outside this
        # checker's scope), so its manager is an active key of its org.
        orgkey = self.state.get(_key("orgkey/", signer))
        if orgkey is None or dec(orgkey)[0] != self.polls[poll_id][0][1]:
            return "not_authorized", poll_id
        if dec(orgkey)[1] is not True:
            return "key_revoked", poll_id
        if self._status(poll_id, now) == "closed":
            return "closed", poll_id
        self._write_close(poll_id, now)
        return "accepted", poll_id

    def _write_close(self, poll_id: bytes, now: int) -> None:
        self.polls[poll_id][2] = now
        record = dec(self.state[_key("poll/", poll_id)])
        self._put(_key("poll/", poll_id), enc([*record[:5], now]))

    # ---- cast_ballot in a secret poll (11.6 rules 1-3, C1-C3, 13)

    def _cast_ballot(
        self,
        ctx: tuple[str, int, int],
        kind: str,
        signer: bytes,
        body: list[Any],
        tx_id: bytes,
    ) -> tuple[str, bytes | None]:
        chain_id, height, now = ctx
        if len(body) not in (6, 7):
            return "malformed_body", None
        poll_id = body[0]
        sp = self.secret[poll_id]
        # Rule 2: this checker replays first enrolments only (a key replacement is
        # outside its scope), so every enrolled key is active: key_pending and
        # key_revoked cannot arise, and nothing is taken from the stored receipt.
        if signer not in self.voterkeys:
            return "not_enrolled", poll_id
        status = self._status(poll_id, now)
        if status == "closed":
            return "closed", poll_id
        if status == "upcoming":
            return "not_open", poll_id
        if sp.Y is None:
            return "awaiting_key", poll_id
        # Rules 4-8: the vectors' secret poll has no roll, gate, ticket or geofence
        # (create_poll of such a poll is refused above as outside this checker's scope).
        encrypted = body[6] if len(body) == 7 else None
        if body[1] != [] or not isinstance(encrypted, list) or len(encrypted) != len(sp.rules):
            return "malformed_ballot", poll_id  # C1
        try:
            questions = [decode_question(q, r) for q, r in zip(encrypted, sp.rules, strict=True)]
        except (Malformed, ValueError, TypeError):
            return "malformed_ballot", poll_id  # C2
        for q_index, (q, rule) in enumerate(zip(questions, sp.rules, strict=True)):

            def context(option: int, q_index: int = q_index) -> list[Any]:
                return [chain_id, poll_id, signer, q_index, option]

            failure = question_failure(context, sp.Y, q, rule)
            if failure is not None:
                self._why = f"question {q_index}: {failure}"
                return "bad_ballot_proof", poll_id  # C3
        voter_id = self.voterkeys[signer]
        previous = sp.ballots.get(voter_id)
        revote = self.polls[poll_id][0][8]
        if previous is not None and not revote:
            return "duplicate", poll_id
        E = [ct for q in questions for ct in q.ciphertexts]
        if previous is not None:
            sp.etally = [ct_sub(t, p) for t, p in zip(sp.etally, previous, strict=True)]
        else:
            sp.participants += 1
            self._count(_key("participants/", poll_id), 1)
            self._count(b"stat/participations", 1)
        sp.etally = [ct_add(t, e) for t, e in zip(sp.etally, E, strict=True)]
        sp.ballots[voter_id] = E
        flat = b"".join(a + b for a, b in E)
        self._put(_key("etally/", poll_id), enc(b"".join(a + b for a, b in sp.etally)))
        self._put(_key("ballot/", poll_id, voter_id), enc([[], height, tx_id, None, flat]))
        self._put(_key("participation/", voter_id, poll_id), enc([height, tx_id]))
        code = tracking_code(encrypted)
        self.tracking[(height, self._pos)] = code
        self._put(_key("tracking/", code), enc(tx_id))
        self._count(b"stat/ballots", 1)
        return "accepted", poll_id

    # ---- trustee steps (11.6, 15.7, 15.8)

    def _trustee_step(
        self,
        ctx: tuple[str, int, int],
        kind: str,
        signer: bytes,
        body: list[Any],
        tx_id: bytes,
    ) -> tuple[str, bytes | None]:
        chain_id, _, now = ctx
        try:
            poll_id, message = want_list(body, 2)
            if not isinstance(poll_id, bytes) or len(poll_id) != 32:
                raise Malformed("poll_id is not a hash")
            decoded: Any
            if kind == "trustee_key":
                decoded = decode_transport_key(message)
            elif kind == "trustee_dealing":
                decoded = decode_dealing(message)
            elif kind == "trustee_check":
                decoded = [decode_complaint(c) for c in want_list(message)]
                if len(decoded) > 16:
                    raise Malformed("more than 16 complaints")
            else:
                decoded = decode_partial(message)
        except (Malformed, ValueError, TypeError):
            return "malformed_body", None
        if poll_id not in self.polls:
            return "unknown_poll", poll_id
        if poll_id not in self.secret:
            return "not_applicable", poll_id
        sp = self.secret[poll_id]
        n = len(sp.trustees)
        if kind == "trustee_check":
            j = next((i + 1 for i, t in enumerate(sp.trustees) if t == signer), 0)
        elif kind == "trustee_key":
            j = decoded.trustee
        elif kind == "trustee_dealing":
            j = decoded.dealer
        else:
            j = decoded.trustee
        if not (1 <= j <= n and sp.trustees[j - 1] == signer):
            return "not_trustee", poll_id
        if kind == "trustee_decrypt":
            return self._decrypt(ctx, sp, poll_id, j, decoded)
        step = {"trustee_key": "keys", "trustee_dealing": "dealings", "trustee_check": "checks"}[
            kind
        ]
        if self._status(poll_id, now) == "closed":
            return "closed", poll_id
        if sp.phase != step:
            return "wrong_phase", poll_id
        taken = {"keys": sp.transport_raw, "dealings": sp.dealings_raw, "checks": sp.checks}[step]
        if taken[j - 1] is not None:
            return "wrong_phase", poll_id
        if kind == "trustee_key":
            context = trustee_context(chain_id, poll_id, j, "transport-key")
            if not schnorr_ok(context, decoded.T, decoded.proof):
                return "bad_trustee_proof", poll_id
            sp.transport[j - 1] = decoded
            sp.transport_raw[j - 1] = message
        elif kind == "trustee_dealing":
            if len(decoded.commitments) != sp.threshold or len(decoded.shares) != n:
                return "bad_trustee_proof", poll_id
            context = trustee_context(chain_id, poll_id, j, "coefficient")
            if not schnorr_ok(context, decoded.commitments[0], decoded.proof):
                return "bad_trustee_proof", poll_id
            sp.dealings[j - 1] = decoded
            sp.dealings_raw[j - 1] = message
        else:
            named: list[int] = []
            T_j = sp.transport[j - 1]
            assert T_j is not None
            for complaint in decoded:
                dealing = sp.dealings[complaint.dealer - 1] if complaint.dealer <= n else None
                if complaint.recipient != j or dealing is None or complaint.dealer in named:
                    return "bad_trustee_proof", poll_id
                upheld = complaint_upheld(chain_id, poll_id, complaint, dealing, T_j.T)
                sp.complaints.append((complaint.dealer, complaint.recipient, upheld))
                if not upheld:
                    return "bad_trustee_proof", poll_id
                named.append(complaint.dealer)
            sp.checks[j - 1] = sorted(named)
            if None not in sp.checks:
                self._outcome(poll_id, sp)
        self._write_secret(poll_id)
        return "accepted", poll_id

    def _outcome(self, poll_id: bytes, sp: SecretPoll) -> None:
        disqualified = {d for check in sp.checks if check for d in check}
        n = len(sp.trustees)
        Q = [i for i in range(1, n + 1) if i not in disqualified]
        sp.qualified = Q
        Y = ID
        for i in Q:
            dealing = sp.dealings[i - 1]
            assert dealing is not None
            Y = add(Y, dealing.commitments[0])
        if len(Q) < sp.threshold or Y == ID:
            sp.outcome = [Q, None, []]
            return
        S = []
        for j in range(1, n + 1):
            S_j = ID
            for i in Q:
                dealing = sp.dealings[i - 1]
                assert dealing is not None
                S_j = add(S_j, feldman(dealing.commitments, j))
            S.append(S_j)
        sp.Y, sp.S = Y, S
        sp.outcome = [Q, Y, S]
        self._put(_key("pollkey/", poll_id), enc(Y))

    def _decrypt(
        self, ctx: tuple[str, int, int], sp: SecretPoll, poll_id: bytes, j: int, partial: Partial
    ) -> tuple[str, bytes | None]:
        chain_id, _, now = ctx
        if sp.phase != "ready" or self._status(poll_id, now) != "closed":
            return "wrong_phase", poll_id
        if any(p.trustee == j for p in sp.partials):
            return "wrong_phase", poll_id
        if len(partial.shares) != len(sp.etally) or len(partial.proofs) != len(sp.etally):
            return "bad_trustee_proof", poll_id
        context = trustee_context(chain_id, poll_id, j, "decryption")
        S_j = sp.S[j - 1]
        for (alpha, _), D, proof in zip(sp.etally, partial.shares, partial.proofs, strict=True):
            if not chaum_pedersen_ok(DECRYPTION_SHARE, context, S_j, alpha, D, proof):
                return "bad_trustee_proof", poll_id
        sp.partials.append(partial)
        if not sp.counted and len(sp.partials) == sp.threshold:
            self._count_votes(poll_id, sp)
        value = [[[p.trustee, list(p.shares)] for p in sp.partials], sp.counted]
        self._put(_key("decryption/", poll_id), enc(value))
        return "accepted", poll_id

    def _count_votes(self, poll_id: bytes, sp: SecretPoll) -> None:
        J = sorted(p.trustee for p in sp.partials)
        by_trustee = {p.trustee: p for p in sp.partials}
        lambdas = {j: lagrange(j, J) for j in J}
        flat: list[int] = []
        for index, (_, beta) in enumerate(sp.etally):
            combined = ID
            for j in J:
                combined = add(combined, mul(lambdas[j], by_trustee[j].shares[index]))
            m = bounded_log(sub(beta, combined), sp.participants)  # P2
            if m is None:
                raise _Stop(11, None, "a tally ciphertext decrypts outside [0, participants]")
            flat.append(m)
        counts: list[list[int]] = []
        index = 0
        for q, rule in enumerate(sp.rules):
            counts.append(flat[index : index + rule.options])
            for o in range(rule.options):
                if flat[index + o] > 0:
                    self._put(_key("tally/", poll_id, _u16(q), _u16(o)), enc(flat[index + o]))
            index += rule.options
        sp.counts = counts
        sp.counted = True


# ---------------------------------------------------------------- section 14.2 export files


def read_frames(data: bytes) -> list[bytes]:
    frames, offset = [], 0
    while offset < len(data):
        if offset + 4 > len(data):
            raise Undecodable("a frame length runs past the end of the file")
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        if length > 64 * 2**20 or offset + 4 + length > len(data):
            raise Undecodable("a frame runs past the end of the file or over 64 MiB")
        frames.append(data[offset + 4 : offset + 4 + length])
        offset += 4 + length
    return frames


def check_export(path: Path, genesis_hash: bytes | None = None) -> Report:
    """Replay an export file; the report names the first failing height and rule."""
    data = path.read_bytes()
    frames = read_frames(data)
    end = dec(frames[-1])
    body_len = len(data) - 4 - len(frames[-1])
    if not (
        isinstance(end, list)
        and len(end) == 3
        and end[0] == "end"
        and end[1] == len(frames) - 2
        and end[2] == hashlib.sha256(data[:body_len]).digest()
    ):
        raise Undecodable("the end frame is missing, miscounts the blocks or has a bad checksum")
    head = dec(frames[0])
    if not (isinstance(head, list) and head[:2] == ["votechain-export", 1]):
        raise Undecodable("the first frame is not a header frame")
    replay = Replay(head[2])
    if genesis_hash is not None and replay.genesis_hash != genesis_hash:
        raise Undecodable("the genesis is not the pinned one")
    finding = None
    blocks = 0
    for h, raw in enumerate(frames[1:-1], start=1):
        try:
            try:
                frame = dec(raw)
            except Undecodable as exc:
                raise _Stop(1, None, str(exc)) from None
            if not (isinstance(frame, list) and len(frame) == 5 and frame[:2] == ["block", h]):
                raise _Stop(1, None, "the frame does not hold block h")
            replay.block(h, frame[2], frame[3], frame[4])
        except _Stop as stop:
            finding = Finding(h, stop.rule, stop.position, stop.what)
            break
        blocks = h
    return Report(
        finding=finding,
        blocks=blocks,
        app_hash=replay.app_hash if finding is None else None,
        genesis_hash=replay.genesis_hash,
        results=replay.results,
        polls=replay.secret,
        tracking=replay.tracking,
    )


def results_view(sp: SecretPoll) -> dict[str, Any]:
    """11.7 for a secret poll: counts once counted; none awaited when the key set-up
    failed or the poll closed before its key (no key step is taken after close);
    otherwise awaiting trustees."""
    if sp.phase == "failed" or (sp.closed and sp.Y is None):
        return {"key_phase": sp.phase}
    if not sp.counted:
        return {
            "key_phase": sp.phase,
            "awaiting_trustees": {"partials": len(sp.partials), "threshold": sp.threshold},
        }
    return {"key_phase": sp.phase, "questions": sp.counts}
