"""Issue 11: the RPC fuzzed against its own OpenAPI description (schemathesis), on a real
in-process node (tests/node/live_node.py).

Every operation of /openapi.json gets requests built from its schema, valid and invalid
(negative mode: wrong types, out-of-range numbers, bad hex, missing fields). Whatever
comes, the node answers without a 5xx, every error is JSON {"error", "message"} with a
code of node/errors.py, and afterwards it still serves and has committed nothing: the
garbage did not reach the chain, and one valid transaction commits as exactly the next
block. The default suite runs a few examples per operation; docs/TESTING.md has the
longer run (VOTECHAIN_RPC_FUZZ_EXAMPLES, or the schemathesis CLI against a running node).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from chain.keys import PrivateKey  # noqa: E402
from node.errors import RpcErrorCode  # noqa: E402
from node.openapi import openapi_document  # noqa: E402
from tests.node.live_node import LiveNode  # noqa: E402

EXAMPLES = int(os.environ.get("VOTECHAIN_RPC_FUZZ_EXAMPLES", "15"))
"""Examples per operation and generation mode in the default suite."""
CODES = {code.value for code in RpcErrorCode}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    node = LiveNode(tmp_path_factory.mktemp("rpc-fuzz-node"))
    node.start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def heights(live: LiveNode) -> dict[str, int]:
    """The height before fuzzing; one test at the end checks nothing was committed."""
    return {"before": live.status()["height"]}


@pytest.fixture(scope="module")
def rpc_schema(live: LiveNode) -> Any:
    schema = schemathesis.openapi.from_dict(openapi_document())
    schema.config.update(base_url=f"http://{live.address.host}:{live.address.rpc_port}")
    return schema


def operations() -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, methods in openapi_document()["paths"].items()
        for method in methods
    ]


# schemathesis' own pytest plugin (schema.parametrize) does not run under pytest 9, so the
# operations are parametrized here and each one's strategy is driven by hypothesis.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), operations())
def test_no_request_built_from_the_description_breaks_the_node(
    method: str,
    path: str,
    mode: GenerationMode,
    rpc_schema: Any,
    live: LiveNode,
    heights: dict[str, int],
) -> None:
    operation = rpc_schema[path][method]
    sent: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        response = case.call()
        sent.append(response.status_code)
        where = f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}"
        assert response.status_code < 500 or response.status_code == 503, where
        if response.status_code >= 400:
            content_type = response.headers.get("content-type", [""])[0]  # lists, lowercase
            assert content_type.startswith("application/json"), where
            document = json.loads(response.content)
            assert set(document) >= {"error", "message"} and document["error"] in CODES, where
            assert document["error"] != "internal", where

    try:
        check()
    except Unsatisfiable:
        # An operation without parameters or body has no invalid request to build.
        assert mode is GenerationMode.NEGATIVE
    assert sent or mode is GenerationMode.NEGATIVE


def test_after_fuzzing_the_node_serves_and_committed_nothing(
    live: LiveNode, heights: dict[str, int]
) -> None:
    """Runs after the fuzzing (file order): no garbage reached the chain."""
    assert live.status()["height"] == heights["before"]
    voter = PrivateKey.from_seed(secrets.token_bytes(32))
    tx = live.enroll_tx(voter, "+821033300001")
    reply = live.post_json("/v1/tx?wait=commit", {"tx": tx.hex()})
    assert reply.status == 200 and reply.json()["height"] == heights["before"] + 1, reply.body
