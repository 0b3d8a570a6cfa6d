"""`python -m bench.ballotcrypto`: what encrypted polls cost (issue 16, ADR 009).

    python -m bench.ballotcrypto                  # about a minute on an idle machine
    python -m bench.ballotcrypto --ballots 100000 --accumulate 100000   # the full tally

Prints one line per figure and, last, all of them as one JSON object:

1. the group operations through pysodium (µs per call): every other figure is a sum of
   these, so on a loaded machine compare ratios, not seconds;
2. validating one 4-option single-choice encrypted question as it arrives in a
   transaction (decode of its canonical bytes + every proof): issue 16 asks <= 2 ms on
   one core; and a participatory-budget question (6 projects, cap in millions of won);
3. the tally of --ballots ballots: adding each ballot's 4 ciphertexts to the encrypted
   tally (measured on --accumulate ballots, per ballot, and scaled to --ballots when
   fewer), then 3 of 5 trustees' partial decryptions with proofs, their validation,
   the Lagrange combination and the bounded discrete log up to --ballots.

Only public and test values: the scalars come from a seeded generator.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from ballotcrypto import decryption, dkg, elgamal, group, question
from ballotcrypto.context import BallotContext
from ballotcrypto.dlog import BoundedLog
from ballotcrypto.question import QuestionRule
from chain.encoding import decode, encode

CHAIN_ID = "bench"
POLL_ID = bytes(32)
OPTIONS = 4


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--accumulate", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=200, help="validations timed")
    args = parser.parse_args(argv)
    rng = random.Random(16)
    figures: dict[str, Any] = {}
    figures.update(measure_group(rng))
    figures.update(measure_validation(rng, args.runs, figures["mul_us"]))
    figures.update(measure_tally(rng, args.ballots, args.accumulate))
    print(json.dumps(figures, sort_keys=True))
    return 0


def scalar(rng: random.Random) -> int:
    return rng.randrange(1, group.L)


def per_call_us(fn: Callable[[], object], calls: int) -> float:
    """The median of 5 timings of `calls` calls, per call, in µs."""
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls)
    return statistics.median(samples) * 1e6


def report(name: str, value: float, unit: str) -> None:
    print(f"{name:58s} {value:10.3f} {unit}", file=sys.stderr)


def measure_group(rng: random.Random) -> dict[str, float]:
    k = scalar(rng)
    p, q = group.base_mul(scalar(rng)), group.base_mul(scalar(rng))
    figures = {
        "mul_us": per_call_us(lambda: group.mul(k, p), 500),
        "base_mul_us": per_call_us(lambda: group.base_mul(k), 500),
        "add_us": per_call_us(lambda: group.add(p, q), 500),
        "point_from_bytes_us": per_call_us(lambda: group.point_from_bytes(p.encoding, "p"), 500),
    }
    for name, value in figures.items():
        report(name, value, "µs")
    return figures


def measure_validation(rng: random.Random, runs: int, mul_us: float) -> dict[str, float]:
    public_key = group.base_mul(scalar(rng))
    context = BallotContext(CHAIN_ID, POLL_ID, bytes([1]) * 32, 0)
    figures = {}
    shapes = {
        "single_choice_4": (QuestionRule(OPTIONS, 1, 1), [0, 0, 1, 0]),
        "budget_6": (
            QuestionRule(
                6, 0, 6, costs=(120, 300, 80, 450, 200, 150), cap=800, floor=0
            ),  # millions of won, divided by their gcd as budget.py advises
            [1, 0, 1, 0, 1, 0],
        ),
    }
    for name, (rule, selections) in shapes.items():
        encrypted = question.encrypt(
            context,
            public_key,
            rule,
            selections,
            [scalar(rng) for _ in selections],
            [scalar(rng) for _ in range(question.nonce_count(rule))],
        )
        data = encode(encrypted.to_value())

        def validate(rule: QuestionRule = rule, data: bytes = data) -> None:
            question.validate(context, public_key, rule, question.decode(decode(data), rule, "q"))

        count = runs if name == "single_choice_4" else max(runs // 10, 5)
        figures[f"validate_{name}_ms"] = per_call_us(validate, max(count // 5, 1)) / 1000
        figures[f"{name}_bytes"] = len(data)
        # In variable-base multiplications: comparable across loads, unlike milliseconds.
        figures[f"validate_{name}_in_muls"] = figures[f"validate_{name}_ms"] * 1000 / mul_us
        report(f"validate {name} (decode + proofs)", figures[f"validate_{name}_ms"], "ms")
        report(
            f"validate {name}, in variable-base multiplications",
            figures[f"validate_{name}_in_muls"],
            "mul",
        )
        report(f"{name} encoded size", len(data), "bytes")
    return figures


def measure_tally(rng: random.Random, ballots: int, accumulate: int) -> dict[str, float]:
    threshold, trustees = 3, 5
    transport = [scalar(rng) for _ in range(trustees)]
    keys = [group.base_mul(t) for t in transport]
    dealings = [
        dkg.deal(
            CHAIN_ID,
            POLL_ID,
            i,
            [scalar(rng) for _ in range(threshold)],
            keys,
            scalar(rng),
            [scalar(rng) for _ in range(trustees)],
        )
        for i in range(1, trustees + 1)
    ]
    public_key = dkg.joint_public_key(dealings)
    shares = {
        j: dkg.secret_share(
            dkg.receive_share(CHAIN_ID, POLL_ID, d, j, transport[j - 1]) for d in dealings
        )
        for j in range(1, trustees + 1)
    }
    verification_keys = {j: dkg.verification_key(dealings, j) for j in shares}

    # Accumulation: each ballot adds its ciphertexts to the running tally (the state
    # machine does this as it accepts ballots). Sampled ballots are real encryptions.
    sample = min(accumulate, ballots)
    pool = [elgamal.encrypt(public_key, rng.randrange(2), scalar(rng)) for _ in range(64)]
    tally = [elgamal.ZERO] * OPTIONS
    start = time.perf_counter()
    for b in range(sample):
        tally = [elgamal.add(t, pool[(b * 7 + i) % 64]) for i, t in enumerate(tally)]
    accumulate_s = (time.perf_counter() - start) * ballots / sample

    # The tally to decrypt: counts summing to `ballots`, under randomness no one knows.
    counts = [
        ballots // 2,
        ballots // 4,
        ballots // 8,
        ballots - ballots // 2 - ballots // 4 - ballots // 8,
    ]
    final = [elgamal.encrypt(public_key, c, scalar(rng)) for c in counts]
    start = time.perf_counter()
    partials = [
        decryption.partial_decrypt(
            CHAIN_ID, POLL_ID, j, shares[j], final, [scalar(rng) for _ in final]
        )
        for j in (1, 3, 5)
    ]
    trustees_s = time.perf_counter() - start
    start = time.perf_counter()
    table = BoundedLog(ballots)
    outcome = decryption.tally(
        CHAIN_ID, POLL_ID, final, partials, verification_keys, threshold, table
    )
    decrypt_s = time.perf_counter() - start
    if outcome.counts != tuple(counts):
        raise SystemExit(f"tally decrypted to {outcome.counts}, expected {counts}")
    figures = {
        "tally_ballots": ballots,
        "accumulate_sampled_ballots": sample,
        "accumulate_s": accumulate_s,
        "trustees_partial_decrypt_s": trustees_s,
        "validate_combine_dlog_s": decrypt_s,
        "tally_total_s": accumulate_s + trustees_s + decrypt_s,
    }
    report(f"accumulate {ballots} ballots x {OPTIONS} options (from {sample})", accumulate_s, "s")
    report("3 trustees' partial decryptions with proofs", trustees_s, "s")
    report(f"validate 3 partials, combine, dlog up to {ballots}", decrypt_s, "s")
    report("tally total", figures["tally_total_s"], "s")
    return figures


if __name__ == "__main__":
    sys.exit(main())
