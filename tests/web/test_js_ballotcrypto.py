"""The browser's ballot cryptography (webapp/static/js/ballotcrypto.js, PROTOCOL.md section
15) in real headless Chromium, held to Python's ballotcrypto/ byte for byte: the published
vectors (points, the worked challenge, every question's verdict), questions encrypted in
the browser for random rules that Python validates and the reverse, tampered ballots
refused by both at the same check, and the voter's Benaloh check."""

from __future__ import annotations

import base64
import hashlib
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

import votingcontract
from ballotcrypto import benaloh, elgamal, group, question
from ballotcrypto.context import BallotContext
from ballotcrypto.errors import InvalidBallotProof, MalformedCrypto
from ballotcrypto.question import QuestionRule
from chain.encoding import decode, encode
from chain.errors import DecodeError
from chain.hashing import Domain
from cli import demo
from tests.cluster.harness import ROOT
from tests.web.conftest import OpenPage
from tests.web.js_modules import module_server, run, wait_ready
from votingcontract.secret_polls import format_tracking_code, tracking_code

VECTORS = json.loads((ROOT / "docs" / "ballotcrypto-vectors.json").read_text())
CHAIN_ID = "votechain-test"
POLL_ID = bytes(range(32))
VOTER_KEY = bytes([9]) * 32

PRELUDE = """
const bc = vc.ballotcrypto, fromHex = vc.bytes.fromHex, toHex = vc.bytes.toHex;
const ruleOf = (r) => bc.questionRule({options: r.options, minimum: r.min, maximum: r.max,
  costs: r.costs, cap: r.cap, floor: r.floor});
const contextOf = (c) => new bc.BallotContext(c.chain_id, fromHex(c.poll_id),
  fromHex(c.voter_key), c.question);
const keyOf = (h) => bc.pointFromBytes(fromHex(h), "Y");
const verdict = async (c, y, r, questionHex) => {
  try {
    const q = bc.decodeQuestion(vc.encoding.decode(fromHex(questionHex)), r, "question");
    await bc.validateQuestion(c, y, r, q);
    return "valid";
  } catch (error) {
    return `${error.name}: ${error.what ?? error.message}`;
  }
};
"""


@pytest.fixture
def page(open_page: OpenPage) -> Iterator[Page]:
    with module_server() as url:
        yield wait_ready(open_page(url + "/modules.html"))


def js(page: Page, script: str, *args: Any) -> Any:
    return run(page, PRELUDE + script, *args)


def rule_fields(rule: QuestionRule) -> dict[str, Any]:
    return {
        "options": rule.options,
        "min": rule.minimum,
        "max": rule.maximum,
        "costs": None if rule.costs is None else list(rule.costs),
        "cap": rule.cap,
        "floor": rule.floor,
    }


def context_fields(context: BallotContext) -> dict[str, Any]:
    return {
        "chain_id": context.chain_id,
        "poll_id": context.poll_id.hex(),
        "voter_key": context.voter_key.hex(),
        "question": context.question,
    }


def python_verdict(
    context: BallotContext, public_key: group.Point, rule: QuestionRule, raw: bytes
) -> str:
    try:
        question.validate(context, public_key, rule, question.decode(decode(raw), rule, "question"))
    except InvalidBallotProof as error:
        return f"InvalidBallotProof: {error.what}"
    except MalformedCrypto as error:
        return f"MalformedCrypto: {error}"
    return "valid"


# (a) The published vectors.


def test_the_group_vectors_and_refused_encodings_match_section_15_1(page: Page) -> None:
    refused = [
        "ff" * 31 + "7f",  # not reduced
        "01" + "00" * 31,  # negative
        "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",  # non-square
        "00" * 32,  # the identity where a key is expected
        "e2" * 31,  # 31 bytes
    ]
    result = js(
        page,
        """
        const [refused] = args;
        const multiples = [0n, 1n, 2n, 3n].map((m) => toHex(bc.baseMul(m).toBytes()));
        const refusals = refused.map((h) => {
          try { bc.pointFromBytes(fromHex(h), "key"); return "accepted"; }
          catch (error) { return `${error.name}: ${error.message}`; }
        });
        const identity = toHex(bc.pointFromBytes(new Uint8Array(32), "sum", true).toBytes());
        const order = bc.L.toString();
        let scalarL;
        const atL = bc.scalarToBytes(bc.L - 1n).map((b, i) => (i === 0 ? b + 1 : b));
        try { bc.scalarFromBytes(atL, "s"); }
        catch (error) { scalarL = error.message; }
        const drawn = bc.randomScalars(50);
        const inRange = drawn.every((s) => s >= 1n && s < bc.L) && new Set(drawn).size === 50;
        return {multiples, refusals, identity, order, scalarL, inRange};
        """,
        refused,
    )
    assert result["multiples"] == VECTORS["group"]["multiples_of_G"]
    assert result["order"] == VECTORS["group"]["order"]
    assert all(r.startswith("MalformedCrypto: key") for r in result["refusals"]), result
    assert "identity" in result["refusals"][3] and "32 bytes" in result["refusals"][4]
    assert result["identity"] == "00" * 32
    assert result["scalarL"] == "s: scalar is not below the group order"  # L itself
    assert result["inRange"]


def test_the_worked_challenge_is_computed_byte_by_byte(page: Page) -> None:
    worked = VECTORS["challenge_worked"]
    first = VECTORS["questions"][0]
    result = js(
        page,
        """
        const [entry, y] = args;
        const rule = ruleOf(entry.rule), context = contextOf(entry.context), Y = keyOf(y);
        const q = bc.decodeQuestion(vc.encoding.decode(fromHex(entry.question)), rule, "q");
        const ct = q.ciphertexts[0];
        const commitments = [];
        q.optionProofs[0].branches.forEach(([c, v], m) =>
          commitments.push(...bc.branchCommitments(Y, ct, m, c, v)));
        const place = context.at(0, 0);
        const hashed = vc.encoding.encode([place.fields(),
          [Y.toBytes(), ct.alpha.toBytes(), ct.beta.toBytes(), [0, 1]],
          commitments.map((p) => p.toBytes())]);
        const digest = await vc.hashing.taggedHash(vc.hashing.Domain.BALLOT_ZERO_ONE, hashed);
        const c = await bc.challenge(vc.hashing.Domain.BALLOT_ZERO_ONE, place,
          [Y.toBytes(), ct.alpha.toBytes(), ct.beta.toBytes(), [0, 1]], commitments);
        return {commitments: commitments.map((p) => toHex(p.toBytes())), hashed: toHex(hashed),
                digest: toHex(digest), c: toHex(bc.scalarToBytes(c)),
                domain: vc.hashing.Domain.BALLOT_ZERO_ONE};
        """,
        first,
        VECTORS["keys"]["joint_public_key"],
    )
    assert result["commitments"] == worked["commitments"]
    assert result["hashed"] == worked["hashed"]
    assert result["digest"] == worked["digest"]
    assert result["c"] == worked["c"]
    assert result["domain"] == int(worked["domain"], 16)


def test_every_vector_question_gets_its_published_verdict(page: Page) -> None:
    verdicts = js(
        page,
        """
        const [entries, y] = args;
        const out = [];
        for (const e of entries) {
          out.push(await verdict(contextOf(e.context), keyOf(y), ruleOf(e.rule), e.question));
        }
        return out;
        """,
        VECTORS["questions"],
        VECTORS["keys"]["joint_public_key"],
    )
    assert len(verdicts) == len(VECTORS["questions"]) == 12
    for entry, got in zip(VECTORS["questions"], verdicts, strict=True):
        if entry["expected"] == "valid":
            assert got == "valid", entry["name"]
        else:
            expected = entry["expected"].split(" (")[0]
            where = f"question {entry['context']['question']} {expected}"
            assert got == f"InvalidBallotProof: {where}", (entry["name"], entry["expected"])


def test_the_browser_knows_every_hash_domain_of_python_and_the_tracking_code(
    page: Page,
) -> None:
    table = js(page, "return vc.hashing.Domain;")
    python = {domain.name: int(domain) for domain in Domain}
    assert {name: table[name] for name in python} == python
    assert table["BALLOT_TRACKING"] == 0x17
    assert set(table) - set(python) <= {"BALLOT_TRACKING"}


# (b) Questions made on one side validate on the other.


def random_cases(seed: int) -> list[tuple[QuestionRule, list[int]]]:
    """Rules of every shape a poll has, each with selections it allows."""
    rng = random.Random(seed)
    cases: list[tuple[QuestionRule, list[int]]] = []
    for _ in range(2):  # single choice
        n = rng.randint(2, 5)
        chosen = rng.randrange(n)
        cases.append((QuestionRule(n, 1, 1), [int(i == chosen) for i in range(n)]))
    for _ in range(3):  # multiple choice, with and without a count proof
        n = rng.randint(2, 6)
        low = rng.randint(0, 2)
        high = rng.randint(max(low, 1), n + 1)
        count = rng.randint(low, min(high, n))
        picked = set(rng.sample(range(n), count))
        cases.append((QuestionRule(n, low, high), [int(i in picked) for i in range(n)]))
    for floor_too in (False, True):  # participatory budget: cap, and cap with a floor
        n = rng.randint(2, 5)
        costs = tuple(rng.randint(1, 9) * 100 for _ in range(n))
        selections = [rng.randint(0, 1) for _ in range(n)]
        spent = sum(w * s for w, s in zip(costs, selections, strict=True))
        cap = spent + rng.randint(0, 300)
        floor = rng.randint(0, spent) if floor_too else 0
        low = 1 if floor_too and any(selections) else 0
        cases.append((QuestionRule(n, low, n, costs, cap, floor), selections))
    return cases


def test_the_browser_encrypts_exactly_as_python_with_the_same_randomness(page: Page) -> None:
    rng = random.Random(16)
    secret = rng.randrange(1, group.L)
    public_key = group.base_mul(secret)
    jobs = []
    expected = []
    for index, (rule, selections) in enumerate(random_cases(160)):
        context = BallotContext(CHAIN_ID, POLL_ID, VOTER_KEY, index)
        randomness = [rng.randrange(1, group.L) for _ in range(rule.options)]
        nonces = [rng.randrange(0, group.L) for _ in range(question.nonce_count(rule))]
        made = question.encrypt(context, public_key, rule, selections, randomness, nonces)
        expected.append(encode(made.to_value()).hex())
        jobs.append(
            {
                "rule": rule_fields(rule),
                "context": context_fields(context),
                "selections": selections,
                "randomness": [str(r) for r in randomness],
                "nonces": [str(n) for n in nonces],
            }
        )
    made_in_browser = js(
        page,
        """
        const [jobs, y] = args;
        const out = [];
        for (const job of jobs) {
          const rule = ruleOf(job.rule);
          if (bc.nonceCount(rule) !== job.nonces.length) return `nonce count ${job.rule}`;
          const q = await bc.encryptQuestion(contextOf(job.context), keyOf(y), rule,
            job.selections, job.randomness.map(BigInt), job.nonces.map(BigInt));
          out.push(toHex(vc.encoding.encode(bc.questionToValue(q))));
        }
        return out;
        """,
        jobs,
        public_key.encoding.hex(),
    )
    assert made_in_browser == expected


def test_questions_made_in_the_browser_validate_in_python_and_the_reverse(page: Page) -> None:
    rng = random.Random(2016)
    public_key = group.base_mul(rng.randrange(1, group.L))
    cases = random_cases(2016)
    jobs = [
        {
            "rule": rule_fields(rule),
            "context": context_fields(BallotContext(CHAIN_ID, POLL_ID, VOTER_KEY, i)),
            "selections": selections,
        }
        for i, (rule, selections) in enumerate(cases)
    ]
    from_browser = js(
        page,
        """
        const [jobs, y] = args;
        const out = [];
        for (const job of jobs) {
          const {question, randomness} = await bc.encryptFresh(contextOf(job.context),
            keyOf(y), ruleOf(job.rule), job.selections);
          out.push({question: toHex(vc.encoding.encode(bc.questionToValue(question))),
                    randomness: randomness.map(String)});
        }
        return out;
        """,
        jobs,
        public_key.encoding.hex(),
    )
    python_made = []
    for i, ((rule, selections), made) in enumerate(zip(cases, from_browser, strict=True)):
        context = BallotContext(CHAIN_ID, POLL_ID, VOTER_KEY, i)
        raw = bytes.fromhex(made["question"])
        assert python_verdict(context, public_key, rule, raw) == "valid", rule
        decoded = question.decode(decode(raw), rule, "question")
        randomness = [int(r) for r in made["randomness"]]
        assert all(0 < r < group.L for r in randomness)
        assert (
            benaloh.mismatched_options(public_key, decoded.ciphertexts, selections, randomness)
            == []
        ), "the browser encrypted other selections than it was given"
        ours = question.encrypt(
            context,
            public_key,
            rule,
            selections,
            [rng.randrange(1, group.L) for _ in range(rule.options)],
            [rng.randrange(0, group.L) for _ in range(question.nonce_count(rule))],
        )
        python_made.append(encode(ours.to_value()).hex())
    verdicts = js(
        page,
        """
        const [jobs, made, y] = args;
        const out = [];
        for (let i = 0; i < jobs.length; i++) {
          const job = jobs[i];
          out.push(await verdict(contextOf(job.context), keyOf(y), ruleOf(job.rule), made[i]));
        }
        return out;
        """,
        jobs,
        python_made,
        public_key.encoding.hex(),
    )
    assert verdicts == ["valid"] * len(cases)


# (c) Tampering is refused by both, at the same check.


def tampered(raw: bytes, rule: QuestionRule) -> dict[str, bytes]:
    """One change each, named by what was changed."""
    value = decode(raw)
    g = group.GENERATOR

    def changed(edit: Any) -> bytes:
        copy = decode(raw)
        edit(copy)
        return encode(copy)

    out = {
        # option 1's ciphertext now holds one more vote: its 0/1 proof no longer fits
        "ciphertext": changed(
            lambda v: v[0][1].__setitem__(1, group.add(group.Point(v[0][1][1]), g).encoding)
        ),
        "option proof": changed(
            lambda v: v[1][0][1].__setitem__(0, bytes([v[1][0][1][0][0] ^ 1]) + v[1][0][1][0][1:])
        ),
        "non-canonical point": changed(lambda v: v[0][0].__setitem__(0, b"\xff" * 31 + b"\x7f")),
        "alpha is the identity": changed(lambda v: v[0][0].__setitem__(0, bytes(32))),
        "scalar not below L": changed(
            lambda v: v[1][0][0].__setitem__(0, (group.L).to_bytes(32, "little"))
        ),
    }
    if value[2] is not None:
        out["count proof"] = changed(
            lambda v: v[2][0].__setitem__(
                1, (int.from_bytes(v[2][0][1], "little") ^ 2).to_bytes(32, "little")
            )
        )
    if value[3] is not None:
        out["budget bit"] = changed(
            lambda v: v[3][0][0][0].__setitem__(
                1, group.add(group.Point(v[3][0][0][0][1]), g).encoding
            )
        )
    return out


def test_a_tampered_question_is_refused_by_the_browser_and_python_alike(page: Page) -> None:
    rng = random.Random(7)
    public_key = group.base_mul(rng.randrange(1, group.L))
    rules = [
        (QuestionRule(4, 1, 1), [0, 1, 0, 0]),
        (QuestionRule(4, 0, 4, (300, 200, 500, 100), 800, 200), [1, 0, 1, 0]),
    ]
    jobs = []
    expected = []
    for index, (rule, selections) in enumerate(rules):
        context = BallotContext(CHAIN_ID, POLL_ID, VOTER_KEY, index)
        made = js(
            page,
            """
            const [job, y] = args;
            const {question} = await bc.encryptFresh(contextOf(job.context), keyOf(y),
              ruleOf(job.rule), job.selections);
            return toHex(vc.encoding.encode(bc.questionToValue(question)));
            """,
            {
                "rule": rule_fields(rule),
                "context": context_fields(context),
                "selections": selections,
            },
            public_key.encoding.hex(),
        )
        for what, raw in tampered(bytes.fromhex(made), rule).items():
            verdict = python_verdict(context, public_key, rule, raw)
            assert verdict != "valid", what
            expected.append((what, verdict))
            jobs.append(
                {"rule": rule_fields(rule), "context": context_fields(context), "q": raw.hex()}
            )
    verdicts = js(
        page,
        """
        const [jobs, y] = args;
        const out = [];
        for (const job of jobs) {
          out.push(await verdict(contextOf(job.context), keyOf(y), ruleOf(job.rule), job.q));
        }
        return out;
        """,
        jobs,
        public_key.encoding.hex(),
    )
    assert len(verdicts) == len(expected) == 12
    for (what, python), browser in zip(expected, verdicts, strict=True):
        if python.startswith("InvalidBallotProof"):
            assert browser == python, what  # the same check, in the same words
        else:
            assert browser.split(":")[0] == "MalformedCrypto", (what, browser)
            assert browser.split(": ")[1] == python.split(": ")[1], (what, browser, python)


# (d) The voter's Benaloh check, and the tracking code.


def test_the_benaloh_check_passes_an_honest_audit_and_names_the_option_of_a_lying_one(
    page: Page,
) -> None:
    entry = VECTORS["questions"][0]  # pick one of 4, option 2 chosen, randomness published
    randomness = [int.from_bytes(bytes.fromhex(r), "little") for r in entry["randomness"]]
    claims = {
        "honest": (entry["selections"], randomness),
        "says option 0, encrypted option 2": ([1, 0, 0, 0], randomness),
        "wrong randomness for option 3": (
            entry["selections"],
            [*randomness[:3], randomness[3] + 1],
        ),
        "randomness 0": (entry["selections"], [0, *randomness[1:]]),
        "one option short": (entry["selections"][:3], randomness[:3]),
    }
    result = js(
        page,
        """
        const [entry, y, claims] = args;
        const raw = vc.encoding.decode(fromHex(entry.question));
        const q = bc.decodeQuestion(raw, ruleOf(entry.rule), "q");
        const out = {};
        for (const [name, [selections, randomness]] of Object.entries(claims)) {
          const rs = randomness.map(BigInt);
          out[name] = bc.mismatchedOptions(keyOf(y), q.ciphertexts, selections, rs);
        }
        return out;
        """,
        entry,
        VECTORS["keys"]["joint_public_key"],
        {name: (s, [str(r) for r in rs]) for name, (s, rs) in claims.items()},
    )
    public_key = group.point_from_bytes(bytes.fromhex(VECTORS["keys"]["joint_public_key"]), "Y")
    rule = QuestionRule(4, 1, 1)
    ciphertexts = question.decode(decode(bytes.fromhex(entry["question"])), rule, "q").ciphertexts
    for name, (selections, rs) in claims.items():
        assert result[name] == benaloh.mismatched_options(public_key, ciphertexts, selections, rs)
    assert result["honest"] == []
    assert result["says option 0, encrypted option 2"] == [0, 2]
    assert result["wrong randomness for option 3"] == [3]
    assert result["randomness 0"] == [0]
    assert result["one option short"] == [0, 1, 2, 3]


def test_the_tracking_code_is_the_hash_of_the_encrypted_array_shown_in_base32(
    page: Page,
) -> None:
    encrypted = [decode(bytes.fromhex(VECTORS["questions"][i]["question"])) for i in (0, 4)]
    result = js(
        page,
        """
        const [hexes] = args;
        const array = hexes.map((h) => vc.encoding.decode(fromHex(h)));
        const code = await bc.trackingCode(array);
        return {code: toHex(code), text: bc.trackingText(code)};
        """,
        [VECTORS["questions"][i]["question"] for i in (0, 4)],
    )
    digest = hashlib.sha256(bytes([0x17]) + encode(encrypted)).digest()
    assert result["code"] == digest.hex()
    assert result["text"] == format_tracking_code(digest)  # as the chain and the CLI show it
    letters = base64.b32encode(digest[:16]).decode().rstrip("=")
    assert result["text"] == "-".join(letters[i : i + 4] for i in range(0, len(letters), 4))
    assert len(result["text"].replace("-", "")) == 26


def test_an_unchanged_ciphertext_encrypts_again_to_itself(page: Page) -> None:
    """The sum of options the count proof is about: ElGamal adds in the browser as in
    Python (a guard for the homomorphic sums every proof above relies on)."""
    rng = random.Random(3)
    public_key = group.base_mul(rng.randrange(1, group.L))
    terms = [(rng.randint(0, 1), rng.randrange(1, group.L)) for _ in range(5)]
    total = elgamal.total(elgamal.encrypt(public_key, m, r) for m, r in terms)
    browser = js(
        page,
        """
        const [y, terms] = args;
        const cts = terms.map(([m, r]) => bc.elgamal.encrypt(keyOf(y), m, BigInt(r)));
        const sum = bc.elgamal.total(cts);
        return bc.elgamal.toValue(sum).map(toHex);
        """,
        public_key.encoding.hex(),
        [[m, str(r)] for m, r in terms],
    )
    assert browser == [total.alpha.encoding.hex(), total.beta.encoding.hex()]


def test_a_secret_ballot_body_is_built_and_read_as_python_builds_and_reads_it(
    page: Page,
) -> None:
    """cast_ballot's 7th field (a secret poll's encrypted questions), from the dict form's
    hex as Python's body_from_dict takes it; a public ballot keeps its 6 fields."""
    encrypted = encode([decode(bytes.fromhex(VECTORS["questions"][0]["question"]))]).hex()
    secret = {"poll_id": "ab" * 32, "selections": [], "encrypted": encrypted}
    public = {"poll_id": "ab" * 32, "selections": [[1]]}
    bad = [
        {**secret, "encrypted": "zz"},  # not hex
        {**secret, "encrypted": "01"},  # not an array
        {**secret, "encrypted": encrypted + "00"},  # trailing bytes
    ]
    result = js(
        page,
        """
        const [secret, publicBallot, bad] = args;
        const built = [secret, publicBallot].map((d) => vc.bodies.buildBody("cast_ballot", d));
        const read = vc.bodies.decodeBody("cast_ballot", built[0]);
        const refusals = bad.map((d) => {
          try { vc.bodies.buildBody("cast_ballot", d); return null; }
          catch (error) { return `${error.name}: ${error.message}`; }
        });
        return {built: built.map(toHex), fields: read.length,
                tracking: bc.trackingText(await bc.trackingCode(read[6])), refusals};
        """,
        secret,
        public,
        bad,
    )
    expected = [
        votingcontract.body_from_dict("cast_ballot", d).encode().hex() for d in (secret, public)
    ]
    assert result["built"] == expected
    assert result["fields"] == 7 and len(decode(bytes.fromhex(expected[1]))) == 6
    body = votingcontract.body_from_dict("cast_ballot", secret)
    assert result["tracking"] == format_tracking_code(tracking_code(body))
    assert all(r is not None and r.startswith("BodyError: ") for r in result["refusals"]), result
    for d in bad:
        with pytest.raises(ValueError):
            votingcontract.body_from_dict("cast_ballot", d)


def test_the_browser_reads_a_secret_polls_create_poll_as_python_does(page: Page) -> None:
    """A receipt check decodes the organiser's create_poll: its 12th field (trustees and
    threshold) is read, and held to Python's limits."""
    spec = dict(demo.demo_polls(1_800_000_000_000)[0])
    trustees = [bytes([j]) * 32 for j in (1, 2, 3)]
    secret = dict(spec, secret={"trustees": [t.hex() for t in trustees], "threshold": 2})
    good = votingcontract.CreatePoll.from_dict(secret).encode()
    value = decode(good)
    too_high = encode([*value[:11], [value[11][0], 4]])
    no_trustees = encode([*value[:11], [[], 1]])
    result = js(
        page,
        """
        const read = (h) => {
          try { return vc.bodies.decodeBody("create_poll", fromHex(h)).length; }
          catch (error) { return `${error.name}: ${error.message}`; }
        };
        return args.map(read);
        """,
        good.hex(),
        votingcontract.CreatePoll.from_dict(spec).encode().hex(),
        too_high.hex(),
        no_trustees.hex(),
    )
    assert result[:2] == [12, 11]
    assert result[2].startswith("DecodeError: create_poll.secret.threshold")
    assert result[3] == "DecodeError: create_poll.secret.trustees: at least one trustee"
    for bad in (too_high, no_trustees):
        with pytest.raises(DecodeError):
            votingcontract.decode_body("create_poll", bad)


def test_the_booth_encrypts_a_whole_ballot_python_accepts_and_its_audit_catches_a_lie(
    page: Page,
) -> None:
    """booth.js as the vote page uses it: the rules from the form's numbers (a budget's
    floor rounded up as secret_polls.question_rule does), a ballot Python validates
    question by question with its tracking code, an honest audit, and an audit against
    other choices than those encrypted (a booth that lied) naming each wrong option."""
    public_key = group.base_mul(random.Random(11).randrange(1, group.L))
    voter = bytes([5]) * 32
    form = [  # as vote.js reads each fieldset: options, min, max, cap, min_spend, costs
        {"options": 3, "min": 1, "max": 1},
        {"options": 4, "min": 1, "max": 3, "cap": "1001", "minSpend": 33,
         "costs": ["400", "300", "500", "200"]},
    ]  # fmt: skip
    result = js(
        page,
        """
        const [form, y, voter] = args;
        const booth = await import("/js/booth.js");
        const rules = form.map(booth.ruleOfQuestion);
        const ballot = await booth.encryptBallot({chainId: "votechain-test",
          pollId: "ab".repeat(32), voterKey: fromHex(voter), publicKey: keyOf(y), rules,
          chosen: [[1], [0, 3]]});
        const honest = booth.auditBallot(ballot, [[1], [0, 3]]);
        const lied = booth.auditBallot(ballot, [[2], [0, 1]]);
        return {encrypted: ballot.encrypted, tracking: ballot.trackingText,
                floor: String(rules[1].floor),
                honest: honest.map((q) => q.mismatched), lied: lied.map((q) => q.mismatched),
                revealed: honest.map((q) => q.randomness.length)};
        """,
        form,
        public_key.encoding.hex(),
        voter.hex(),
    )
    assert result["floor"] == "331"  # ceil(1001 · 33 / 100), as question_rule rounds
    values = decode(bytes.fromhex(result["encrypted"]))
    rules = [QuestionRule(3, 1, 1), QuestionRule(4, 1, 3, (400, 300, 500, 200), 1001, 331)]
    for index, (rule, value) in enumerate(zip(rules, values, strict=True)):
        context = BallotContext("votechain-test", bytes([0xAB]) * 32, voter, index)
        question.validate(context, public_key, rule, question.decode(value, rule, "q"))
    body = votingcontract.body_from_dict(
        "cast_ballot",
        {"poll_id": "ab" * 32, "selections": [], "encrypted": result["encrypted"]},
    )
    assert result["tracking"] == format_tracking_code(tracking_code(body))
    assert result["honest"] == [[], []]
    assert result["lied"] == [[1, 2], [1, 3]]  # chose 1 but 2 claimed; 3 encrypted, 1 claimed
    assert result["revealed"] == [3, 4]


def test_the_published_encrypted_ballot_receipt_checks_and_shows_its_tracking_code(
    page: Page,
) -> None:
    """docs/test-vectors' receipt of an encrypted ballot: receipt.js passes every check,
    and the tracking code read from its signed bytes is the manifest's (hex and shown)."""
    vectors = ROOT / "docs" / "test-vectors"
    manifest = json.loads((vectors / "manifest.json").read_text())
    [entry] = [e for e in manifest["receipts"] if "tracking_code" in e]
    receipt = json.loads((vectors / entry["file"]).read_text())
    genesis = json.loads((vectors / entry["genesis"]).read_text())
    result = js(
        page,
        """
        const [receipt, genesis] = args;
        const checked = await vc.receipt.checkReceipt(receipt, genesis);
        const tx = vc.tx.decodeTransaction(fromHex(receipt.tx));
        const body = vc.bodies.decodeBody("cast_ballot", tx.body);
        const code = await bc.trackingCode(body[6]);
        return {ok: checked.ok, failure: checked.failure ?? null, selections: body[1],
                hex: toHex(code), shown: bc.trackingText(code)};
        """,
        receipt,
        genesis,
    )
    assert result["ok"], result["failure"]
    assert result["selections"] == []
    assert result["hex"] == entry["tracking_code"]["hex"]
    assert result["shown"] == entry["tracking_code"]["shown"]
