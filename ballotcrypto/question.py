"""One question of an encrypted ballot: its option ciphertexts and their proofs.

For a question with options 0..n-1, selection bounds [min, max] and, on a participatory
budget, costs w_i, a cap and a minimum spend (floor), the voter sends

    [[E_0, …, E_{n-1}], [P_0, …, P_{n-1}], count proof | nil, budget proof | nil]

E_i = Enc(s_i; r_i) with s_i 1 if option i is chosen; P_i its 0/1 proof (zero_one.py,
context at (question, i)); the count proof (selection_count.py) unless the bounds are
[0, n] or wider, which the 0/1 proofs already imply; the budget proof (budget.py) on a
budget question. The state machine verifies all of them before it adds E_i to the tally.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ballotcrypto import budget, elgamal, selection_count, zero_one
from ballotcrypto.budget import BudgetProof
from ballotcrypto.context import BallotContext
from ballotcrypto.disjunctive import DisjunctiveProof
from ballotcrypto.elgamal import Ciphertext
from ballotcrypto.errors import InvalidBallotProof, MalformedCrypto
from ballotcrypto.group import Point
from chain.encoding import Value


@dataclass(frozen=True, slots=True)
class QuestionRule:
    """The public terms a question's proofs are checked against (from the poll spec)."""

    options: int
    minimum: int
    maximum: int
    costs: tuple[int, ...] | None = None
    cap: int = 0
    floor: int = 0

    @property
    def counts_selections(self) -> bool:
        """False when the bounds exclude nothing that 0/1 selections could add up to."""
        return not (self.minimum == 0 and self.maximum >= self.options)


@dataclass(frozen=True, slots=True)
class EncryptedQuestion:
    ciphertexts: tuple[Ciphertext, ...]
    option_proofs: tuple[DisjunctiveProof, ...]
    count_proof: DisjunctiveProof | None
    budget_proof: BudgetProof | None

    def to_value(self) -> list[Value]:
        return [
            [c.to_value() for c in self.ciphertexts],
            [p.to_value() for p in self.option_proofs],
            None if self.count_proof is None else self.count_proof.to_value(),
            None if self.budget_proof is None else self.budget_proof.to_value(),
        ]


def nonce_count(rule: QuestionRule) -> int:
    """Random scalars `encrypt` takes besides the encryption randomness."""
    count = rule.options * zero_one.NONCES
    if rule.counts_selections:
        count += selection_count.nonce_count(rule.minimum, min(rule.maximum, rule.options))
    if rule.costs is not None:
        count += budget.nonce_count(rule.costs, rule.cap, rule.floor)
    return count


def encrypt(
    context: BallotContext,
    public_key: Point,
    rule: QuestionRule,
    selections: Sequence[int],
    randomness: Sequence[int],
    nonces: Sequence[int],
) -> EncryptedQuestion:
    """Encrypt `selections` (0/1 per option) with `randomness` (one secret scalar in
    [1, L) per option, kept for a Benaloh audit) and prove them well formed."""
    if len(selections) != rule.options or len(randomness) != rule.options:
        raise ValueError(f"{len(selections)} selections for {rule.options} options")
    if len(nonces) != nonce_count(rule):
        raise ValueError(f"expected {nonce_count(rule)} nonces, got {len(nonces)}")
    rest = iter(nonces)
    ciphertexts = tuple(
        elgamal.encrypt(public_key, s, r) for s, r in zip(selections, randomness, strict=True)
    )
    option_proofs = tuple(
        zero_one.prove(
            context.at(context.question, i),
            public_key,
            ciphertexts[i],
            selections[i],
            randomness[i],
            _take(rest, zero_one.NONCES),
        )
        for i in range(rule.options)
    )
    count_proof = None
    if rule.counts_selections:
        high = min(rule.maximum, rule.options)
        count_proof = selection_count.prove(
            context,
            public_key,
            ciphertexts,
            selections,
            randomness,
            rule.minimum,
            high,
            _take(rest, selection_count.nonce_count(rule.minimum, high)),
        )
    budget_proof = None
    if rule.costs is not None:
        budget_proof = budget.prove(
            context,
            public_key,
            selections,
            randomness,
            rule.costs,
            rule.cap,
            rule.floor,
            _take(rest, budget.nonce_count(rule.costs, rule.cap, rule.floor)),
        )
    return EncryptedQuestion(ciphertexts, option_proofs, count_proof, budget_proof)


def validate(
    context: BallotContext, public_key: Point, rule: QuestionRule, question: EncryptedQuestion
) -> None:
    """Raises InvalidBallotProof naming the first proof of the question that fails."""
    where = f"question {context.question}"
    _check_shape(rule, question, where)
    for i, (ciphertext, proof) in enumerate(
        zip(question.ciphertexts, question.option_proofs, strict=True)
    ):
        if not zero_one.verify(context.at(context.question, i), public_key, ciphertext, proof):
            raise InvalidBallotProof(f"{where} option {i}: 0/1")
    if question.count_proof is not None and not selection_count.verify(
        context,
        public_key,
        question.ciphertexts,
        rule.minimum,
        min(rule.maximum, rule.options),
        question.count_proof,
    ):
        raise InvalidBallotProof(f"{where}: selection count")
    if (
        question.budget_proof is not None
        and rule.costs is not None
        and not budget.verify(
            context,
            public_key,
            question.ciphertexts,
            rule.costs,
            rule.cap,
            rule.floor,
            question.budget_proof,
        )
    ):
        raise InvalidBallotProof(f"{where}: budget")


def decode(value: Any, rule: QuestionRule, what: str) -> EncryptedQuestion:
    """The question's encoded array, shaped by `rule`; malformed input is refused."""
    if not isinstance(value, list) or len(value) != 4:
        raise MalformedCrypto(f"{what}: expected [ciphertexts, proofs, count, budget]")
    raw_cts, raw_proofs, raw_count, raw_budget = value
    if not isinstance(raw_cts, list) or len(raw_cts) != rule.options:
        raise MalformedCrypto(f"{what}: expected {rule.options} ciphertexts")
    if not isinstance(raw_proofs, list) or len(raw_proofs) != rule.options:
        raise MalformedCrypto(f"{what}: expected {rule.options} option proofs")
    ciphertexts = tuple(
        elgamal.decode_ciphertext(c, f"{what}.ciphertexts[{i}]", fresh=True)
        for i, c in enumerate(raw_cts)
    )
    option_proofs = tuple(
        zero_one.decode_proof(p, f"{what}.proofs[{i}]") for i, p in enumerate(raw_proofs)
    )
    count_proof = None
    if rule.counts_selections:
        high = min(rule.maximum, rule.options)
        count_proof = selection_count.decode_proof(raw_count, rule.minimum, high, f"{what}.count")
    elif raw_count is not None:
        raise MalformedCrypto(f"{what}.count: must be nil for bounds [0, {rule.options}]")
    budget_proof = None
    if rule.costs is not None:
        budget_proof = budget.decode_proof(
            raw_budget, rule.costs, rule.cap, rule.floor, f"{what}.budget"
        )
    elif raw_budget is not None:
        raise MalformedCrypto(f"{what}.budget: must be nil on a question without a budget")
    return EncryptedQuestion(ciphertexts, option_proofs, count_proof, budget_proof)


def _check_shape(rule: QuestionRule, question: EncryptedQuestion, where: str) -> None:
    """What decode ensures, again for a question built in memory: a missing proof is a
    failed proof, never a skipped one."""
    if len(question.ciphertexts) != rule.options or len(question.option_proofs) != rule.options:
        raise InvalidBallotProof(f"{where}: {len(question.ciphertexts)} ciphertexts")
    if (question.count_proof is None) == rule.counts_selections:
        raise InvalidBallotProof(f"{where}: selection count proof missing or not expected")
    if (question.budget_proof is None) != (rule.costs is None):
        raise InvalidBallotProof(f"{where}: budget proof missing or not expected")


def _take(source: Any, count: int) -> list[int]:
    return [next(source) for _ in range(count)]
