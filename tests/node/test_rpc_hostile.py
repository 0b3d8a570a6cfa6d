"""Malformed and hostile client input is refused with clear JSON errors; the node stays up.

One real node (node.service.Node, one validator so it commits alone) serves every test in
this module on a free loopback port. Every error must be JSON {"error", "message"} with the
HTTP status docs/OPERATIONS.md "Client RPC" gives for its code, and the node must still
answer /v1/status afterwards with its height unchanged unless a valid tx was sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import votingcontract
from chain import encoding
from chain.keys import PrivateKey
from chain.tx import MAX_TX_BYTES
from node.errors import HTTP_STATUS, RpcErrorCode
from tests.node.live_node import LiveNode, Reply

ADMIN_DOC = Path(__file__).resolve().parents[2] / "docs" / "OPERATIONS.md"
HEX32 = "ab" * 32


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    node = LiveNode(tmp_path_factory.mktemp("rpc-node"))
    node.start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def unchanged_height(live: LiveNode) -> Iterator[None]:
    """The test sends nothing valid: the node answers afterwards at the same height."""
    before = live.status()["height"]
    yield
    after = live.status()
    assert after["height"] == before, "an invalid request changed the chain"


def assert_error(reply: Reply, code: RpcErrorCode | str, status: int | None = None) -> dict:
    """A JSON error with this code and the status the docs give it; returns the document."""
    assert reply.content_type.startswith("application/json"), reply
    document = reply.json()
    assert isinstance(document, dict), document
    assert {"error", "message"} <= set(document), document
    assert isinstance(document["message"], str) and document["message"], document
    assert document["error"] == str(code), document
    expected = status if status is not None else HTTP_STATUS[RpcErrorCode(code)]
    assert reply.status == expected, (reply.status, document)
    return document


def post_tx(live: LiveNode, tx: bytes, wait: bool = False) -> Reply:
    path = "/v1/tx?wait=commit" if wait else "/v1/tx"
    return live.post_json(path, {"tx": tx.hex()})


def fresh_key() -> PrivateKey:
    import secrets

    return PrivateKey.from_seed(secrets.token_bytes(32))


# --- POST /v1/tx: bodies that are not a signed transaction -----------------------------


@pytest.mark.usefixtures("unchanged_height")
@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (b"not json", "application/json", "bad_request"),
        (b"", "application/json", "bad_request"),
        (b"\xff\xfe\x00", "application/json", "bad_request"),
        (b"[1, 2]", "application/json", "bad_request"),
        (b'"tx"', "application/json", "bad_request"),
        (b"null", "application/json", "bad_request"),
        (b"{}", "application/json", "bad_request"),
        (b'{"transaction": "00"}', "application/json", "bad_request"),
        (b'{"tx": 5}', "application/json", "bad_request"),
        (b'{"tx": ["00"]}', "application/json", "bad_request"),
        (b'{"tx": ""}', "application/json", "bad_request"),
        (b'{"tx": "zz"}', "application/json", "bad_request"),
        (b'{"tx": "abc"}', "application/json", "bad_request"),
        (b"[" * 100_000, "application/json", "bad_request"),
        (b'{"tx": "00"}', "application/json", "malformed_tx"),
        (b'{"tx": "c1"}', "text/plain", "malformed_tx"),
        (b"", "application/msgpack", "malformed_tx"),
        (b"garbage", "application/msgpack", "malformed_tx"),
        (b"\x97\x01", "application/msgpack", "malformed_tx"),
    ],
    ids=[
        "text",
        "empty",
        "not-utf8",
        "array",
        "string",
        "null",
        "no-fields",
        "wrong-field",
        "tx-int",
        "tx-list",
        "tx-empty",
        "bad-hex",
        "odd-hex",
        "deep-nesting",
        "not-a-tx",
        "other-content-type",
        "msgpack-empty",
        "msgpack-garbage",
        "msgpack-truncated",
    ],
)
def test_a_body_that_is_not_a_transaction_is_refused(
    live: LiveNode, body: bytes, content_type: str, code: str
) -> None:
    assert_error(live.request("POST", "/v1/tx", body, content_type), code)


@pytest.mark.usefixtures("unchanged_height")
def test_an_oversized_body_is_413_body_too_large(live: LiveNode) -> None:
    limit = live.config.rpc.max_body_bytes
    document = assert_error(
        live.request("POST", "/v1/tx", b'{"tx": "' + b"00" * limit + b'"}'), "body_too_large"
    )
    assert "limit" in document["message"]
    raw = live.request("POST", "/v1/tx", b"\x00" * (limit + 1), "application/msgpack")
    assert_error(raw, "body_too_large")


@pytest.mark.usefixtures("unchanged_height")
def test_a_tx_over_the_tx_limit_but_under_the_body_limit_is_body_too_large(
    live: LiveNode,
) -> None:
    reply = live.request("POST", "/v1/tx", b"\x00" * (MAX_TX_BYTES + 1), "application/msgpack")
    document = assert_error(reply, "body_too_large")
    assert str(MAX_TX_BYTES) in document["message"]


@pytest.mark.usefixtures("unchanged_height")
def test_a_truncated_or_padded_transaction_is_malformed(live: LiveNode) -> None:
    tx = live.enroll_tx(fresh_key(), "+821055550001")
    for broken in (tx[:-1], tx[: len(tx) // 2], tx + b"\x00", b"\x00" + tx):
        document = assert_error(post_tx(live, broken), "malformed_tx")
        assert document["message"]
        raw = live.request("POST", "/v1/tx", broken, "application/msgpack")
        assert_error(raw, "malformed_tx")


@pytest.mark.usefixtures("unchanged_height")
def test_a_tx_for_another_chain_is_wrong_chain(live: LiveNode) -> None:
    body = votingcontract.EnrollVoter(phone_id=b"p" * 32, voter_key=b"v" * 32)
    tx = live.sign(live.cluster.key("attester"), body.KIND, body.encode(), chain_id="other-city")
    document = assert_error(post_tx(live, tx), "wrong_chain")
    assert "other-city" in document["message"] and live.cluster.chain_id in document["message"]


@pytest.mark.usefixtures("unchanged_height")
def test_a_forged_signature_is_bad_signature(live: LiveNode) -> None:
    tx = encoding.decode(live.enroll_tx(fresh_key(), "+821055550002"))
    tx[6] = bytes(64)  # zero signature
    assert_error(post_tx(live, encoding.encode(tx)), "bad_signature")
    tx[3] = fresh_key().public_key  # someone else's key, the attester's signature
    assert_error(post_tx(live, encoding.encode(tx)), "bad_signature")


@pytest.mark.usefixtures("unchanged_height")
def test_an_unknown_kind_is_refused_at_admission_with_its_reason(live: LiveNode) -> None:
    tx = live.sign(fresh_key(), "frobnicate", b"\x90")
    document = assert_error(post_tx(live, tx), "refused")
    assert document["reason"] == "unknown_kind"
    assert votingcontract.describe("unknown_kind") in document["message"]


@pytest.mark.usefixtures("unchanged_height")
@pytest.mark.parametrize("body", [b"", b"\xc1", b"\x90", encoding.encode([b"short", b"x"])])
def test_a_malformed_body_is_refused_at_admission_with_its_reason(
    live: LiveNode, body: bytes
) -> None:
    tx = live.sign(live.cluster.key("attester"), "enroll_voter", body)
    document = assert_error(post_tx(live, tx), "refused")
    assert document["reason"] == "malformed_body"


@pytest.mark.usefixtures("unchanged_height")
def test_a_kind_longer_than_the_limit_is_malformed(live: LiveNode) -> None:
    tx = live.sign(fresh_key(), "k" * 33, b"")
    assert_error(post_tx(live, tx), "malformed_tx")


def test_a_valid_tx_commits_once_and_a_replay_is_already_committed(live: LiveNode) -> None:
    before = live.status()["height"]
    tx = live.enroll_tx(fresh_key(), "+821055550003")
    first = post_tx(live, tx, wait=True)
    assert first.status == 200, first.body
    assert first.json()["status"] == "committed"
    assert first.json()["receipt"]["code"] == "accepted"
    height = live.status()["height"]
    assert height == before + 1
    document = assert_error(post_tx(live, tx, wait=True), "already_committed")
    assert first.json()["tx"]["tx_id"] in document["message"]
    assert_error(live.request("POST", "/v1/tx", tx, "application/msgpack"), "already_committed")
    assert live.status()["height"] == height


def test_extra_fields_are_ignored_and_the_raw_msgpack_form_is_accepted(live: LiveNode) -> None:
    tx = live.enroll_tx(fresh_key(), "+821055550004")
    reply = live.post_json("/v1/tx?wait=commit&extra=1", {"tx": tx.hex(), "note": [1, {}]})
    assert reply.status == 200 and reply.json()["status"] == "committed", reply.body
    second = live.enroll_tx(fresh_key(), "+821055550005")
    raw = live.request("POST", "/v1/tx?wait=commit", second, "application/msgpack")
    assert raw.status == 200 and raw.json()["status"] == "committed", raw.body


def test_a_tx_the_state_machine_would_refuse_is_refused_with_its_reason(live: LiveNode) -> None:
    voter = fresh_key()
    assert post_tx(live, live.enroll_tx(voter, "+821055550006"), wait=True).status == 200
    height = live.status()["height"]
    again = live.enroll_tx(voter, "+821055550006")  # same phone, same key: a new tx id
    document = assert_error(post_tx(live, again), "refused")
    assert document["reason"] == "already_enrolled"
    assert live.status()["height"] == height


# --- GET routes with bad parameters -------------------------------------------------


@pytest.mark.usefixtures("unchanged_height")
@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/nowhere", "not_found"),
        ("/v1", "not_found"),
        ("/v1/tx", "bad_request"),  # GET on a POST route: 405
        ("/v1/tx/zz", "bad_request"),
        ("/v1/tx/00", "bad_request"),
        ("/v1/tx/%ff%fe", "bad_request"),
        (f"/v1/tx/{HEX32}", "not_found"),
        (f"/v1/tx/{HEX32}00", "bad_request"),
        ("/v1/blocks/abc", "bad_request"),
        ("/v1/blocks/0", "not_found"),
        ("/v1/blocks/-1", "bad_request"),
        ("/v1/blocks/1_0", "bad_request"),
        ("/v1/blocks/%C2%B2", "bad_request"),
        ("/v1/blocks/%D9%A1", "bad_request"),  # ARABIC-INDIC DIGIT ONE
        ("/v1/blocks/1.5", "bad_request"),
        ("/v1/blocks/" + "9" * 5000, "bad_request"),
        ("/v1/blocks/999999999", "not_found"),
        ("/v1/raw/blocks/999999999", "not_found"),
        ("/v1/raw/blocks/x", "bad_request"),
        ("/v1/blocks?from=abc", "bad_request"),
        ("/v1/blocks?from=0", "bad_request"),
        ("/v1/blocks?limit=0", "bad_request"),
        ("/v1/blocks?limit=-5", "bad_request"),
        ("/v1/blocks?from=" + "9" * 5000, "bad_request"),
        ("/v1/polls?status=maybe", "bad_request"),
        ("/v1/polls?creator=zz", "bad_request"),
        ("/v1/polls?creator=00", "bad_request"),
        ("/v1/polls/zz", "bad_request"),
        ("/v1/polls/00", "bad_request"),
        (f"/v1/polls/{HEX32}", "not_found"),
        (f"/v1/polls/{HEX32}/results", "not_found"),
        ("/v1/polls/zz/results", "bad_request"),
        (f"/v1/polls/{HEX32}/nothing", "not_found"),
        ("/v1/history/zz", "not_found"),  # history is POST /v1/history, signed
        ("/v1/voters/zz", "bad_request"),
        (f"/v1/voters/{HEX32}", "not_found"),
    ],
)
def test_a_bad_path_or_query_is_a_json_error(live: LiveNode, path: str, code: str) -> None:
    reply = live.get(path)
    assert_error(reply, code, 405 if path == "/v1/tx" else None)


@pytest.mark.usefixtures("unchanged_height")
@pytest.mark.parametrize(("method", "path"), [("POST", "/v1/status"), ("DELETE", "/v1/tx")])
def test_a_wrong_method_is_405_in_json(live: LiveNode, method: str, path: str) -> None:
    assert_error(live.request(method, path, b"{}"), "bad_request", 405)


def test_good_reads_answer_with_json(live: LiveNode) -> None:
    for path in [
        "/v1/blocks",
        "/v1/blocks?from=999999&limit=100",
        "/v1/polls?status=open",
        "/v1/polls?from=0&limit=100",
        "/v1/stats",
        "/v1/reasons",
        "/v1/genesis",
    ]:
        reply = live.get(path)
        assert reply.status == 200, (path, reply.body)
        assert isinstance(reply.json(), dict)


# --- enrollment ------------------------------------------------------------------------


@pytest.mark.usefixtures("unchanged_height")
@pytest.mark.parametrize(
    ("path", "document"),
    [
        ("/v1/enroll/start", {"phone": "+821012345678"}),
        ("/v1/enroll/finish", {"session": "x", "code": "12345678", "voter_key": HEX32}),
        ("/v1/enroll/anything", {}),
    ],
)
def test_validators_do_not_verify_phones_and_name_the_attester(
    live: LiveNode, path: str, document: object
) -> None:
    """Finding 6: the pepper and the enrollment routes live in the attester service only."""
    reply = assert_error(live.post_json(path, document), "not_found")
    assert "attester" in reply["message"] and "cluster.toml" in reply["message"]
    assert "phone_id" not in json.dumps(reply)


# --- after all that --------------------------------------------------------------------


def test_refusals_are_counted_by_code_in_metrics(live: LiveNode) -> None:
    assert_error(live.get("/v1/tx/zz"), "bad_request")
    assert_error(live.get("/no/such/route"), "not_found")
    metrics = live.get("/metrics")
    assert metrics.status == 200
    text = metrics.body.decode()
    counts = dict(re.findall(r'votechain_rpc_errors_total\{code="(\w+)"\} ([0-9.]+)', text))
    assert float(counts["bad_request"]) >= 1 and float(counts["not_found"]) >= 1, counts


def test_the_documented_statuses_match_the_code(live: LiveNode) -> None:
    """docs/OPERATIONS.md "Client RPC" lists each code with its status; node.errors agrees."""
    section = ADMIN_DOC.read_text().split("## Client RPC", 1)[1].split("\n## ", 1)[0]
    documented: dict[str, int] = {}
    for status, codes in re.findall(r"(\d{3}) ([a-z_ /]+?)[,.]", section):
        for code in codes.split(" / "):
            documented[code.strip()] = int(status)
    assert documented == {code.value: status for code, status in HTTP_STATUS.items()}


# --- fuzz --------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
TX_DOCUMENTS = st.dictionaries(
    st.sampled_from(["tx", "wait", "kind", "x"]) | st.text(max_size=5),
    JSON_VALUES | st.binary(max_size=64).map(bytes.hex),
    max_size=3,
)
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_client_error(reply: Reply) -> None:
    assert reply.status < 500, (reply.status, reply.body[:200])
    if reply.status >= 400:
        assert reply.content_type.startswith("application/json"), reply
        document = reply.json()
        assert isinstance(document, dict) and {"error", "message"} <= set(document), document
        assert document["error"] in {c.value for c in RpcErrorCode}, document


@FUZZ
@given(
    body=st.binary(max_size=512) | TX_DOCUMENTS.map(lambda d: json.dumps(d).encode()),
    content_type=st.sampled_from(["application/json", "application/msgpack", "text/plain"]),
)
def test_fuzz_post_tx_never_fails_the_node(live: LiveNode, body: bytes, content_type: str) -> None:
    assert_client_error(live.request("POST", "/v1/tx", body, content_type))


@FUZZ
@given(
    path=st.sampled_from(
        [
            "/v1/enroll/start",
            "/v1/enroll/finish",
            "/v1/tx/{}",
            "/v1/blocks/{}",
            "/v1/raw/blocks/{}",
            "/v1/polls/{}",
            "/v1/polls/{}/results",
            "/v1/history/{}",
            "/v1/voters/{}",
            "/v1/blocks?from={}&limit={}",
            "/v1/polls?status={}&creator={}",
            "/v1/{}",
            "/{}/{}",
        ]
    ),
    segments=st.lists(
        st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=40)
        | st.sampled_from(["0", "1", "-1", "99999999999999999999", HEX32, "%", ".."]),
        min_size=2,
        max_size=2,
    ),
    document=TX_DOCUMENTS,
)
def test_fuzz_routes_answer_json_and_never_5xx(
    live: LiveNode, path: str, segments: list[str], document: dict[str, object]
) -> None:
    from urllib.parse import quote

    url = path.format(*(quote(s, safe="") for s in segments))
    if "enroll" in path:
        reply = live.post_json(path, {**document, "phone": segments[0], "code": segments[1]})
    else:
        reply = live.get(url)
    assert_client_error(reply)


def test_after_a_burst_of_garbage_the_node_still_commits_exactly_one_block(
    live: LiveNode,
) -> None:
    """Self-contained (xdist runs tests in any order): garbage of every kind, then one
    valid transaction, which commits as the next block and leaves nothing pending."""
    before = live.status()["height"]
    for body in [b"", b"{", b"[" * 10_000, b'{"tx": "zz"}', b'{"tx": "00"}', b"\xff" * 1000]:
        for content_type in ("application/json", "application/msgpack"):
            reply = live.request("POST", "/v1/tx", body, content_type)
            assert 400 <= reply.status < 500, (body[:10], reply.status)
            assert_client_error(reply)
    assert live.status()["height"] == before
    reply = post_tx(live, live.enroll_tx(fresh_key(), "+821055550099"), wait=True)
    assert reply.status == 200 and reply.json()["status"] == "committed", reply.body
    status = live.status()
    assert status["node"] == "n1" and status["mempool"] == 0
    assert status["height"] == before + 1
