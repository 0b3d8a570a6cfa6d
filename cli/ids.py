"""Poll and transaction ids as people type them: the full 64 hex characters or any unique
prefix (as `votechain history` and tables print them, shortened). Every id error has
one wording, made by `id_error`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cli.client import RpcClient, RpcFailure
from cli.errors import CliError
from node.errors import RpcErrorCode

ID_HEX_CHARS = 64
HEX_DIGITS = frozenset("0123456789abcdef")
SHOWN_MATCHES = 5
UNKNOWN_ID = "unknown_id"
AMBIGUOUS_ID = "ambiguous_id"
BAD_ID = "bad_id"

_WHERE_SHOWN = {"poll": "`votechain poll list` shows them", "tx": "`votechain history` shows yours"}
_NONE_FOUND = {"poll": "no poll", "tx": "no committed transaction"}


def id_error(kind: str, typed: str, matches: Sequence[str] = (), more: bool = False) -> CliError:
    """The one refusal of an id: not hex, matching nothing, or matching several (`more`:
    the node said there are more matches than `matches`)."""
    if not is_hex_prefix(typed):
        problem, code = "is not hex (0-9, a-f)", BAD_ID
    elif len(matches) > 1:
        shown = ", ".join(m[:16] for m in matches[:SHOWN_MATCHES])
        more_shown = ", ..." if more or len(matches) > SHOWN_MATCHES else ""
        count = (
            f"more than {SHOWN_MATCHES}" if more or len(matches) > SHOWN_MATCHES else len(matches)
        )
        problem = f"matches {count} ({shown}{more_shown}): type more of it"
        code = AMBIGUOUS_ID
    else:
        problem, code = f"matches {_NONE_FOUND[kind]}", UNKNOWN_ID
    return CliError(
        f"{kind} id {typed!r} {problem}; a {kind} id is {ID_HEX_CHARS} hex characters or a "
        f"unique prefix of one ({_WHERE_SHOWN[kind]})",
        code,
    )


def is_hex_prefix(text: str) -> bool:
    return 0 < len(text) <= ID_HEX_CHARS and all(c in HEX_DIGITS for c in text)


def fetch_poll(client: RpcClient, typed: str) -> dict[str, Any]:
    """The poll document (GET /v1/polls/{id}) of a full id or unique prefix."""
    poll_id = resolve_poll_id(client, typed)
    try:
        poll: dict[str, Any] = client.get(f"/v1/polls/{poll_id}")
    except RpcFailure as exc:
        if exc.code == RpcErrorCode.NOT_FOUND.value:
            raise id_error("poll", typed) from exc
        raise
    return poll


def resolve_poll_id(client: RpcClient, typed: str) -> str:
    """The full poll id a typed id or prefix names (lower-cased; surrounding space
    ignored). A full id is returned as typed: the node's 404 for it is turned into the
    same wording by `fetch_poll`, or comes back from the request that uses it."""
    text = typed.strip().lower()
    if not is_hex_prefix(text):
        raise id_error("poll", typed)
    if len(text) == ID_HEX_CHARS:
        return text
    page = client.get(f"/v1/polls?prefix={text}&limit={SHOWN_MATCHES + 1}")
    matches = [str(p["poll_id"]) for p in page["polls"]]
    if len(matches) != 1:
        raise id_error("poll", typed, matches, more=page.get("next_from") is not None)
    return matches[0]


def resolve_tx_id(client: RpcClient, typed: str) -> str:
    """The full id of a committed transaction from its id or a unique prefix
    (GET /v1/txs?prefix=, which names at most a few matches)."""
    text = typed.strip().lower()
    if not is_hex_prefix(text):
        raise id_error("tx", typed)
    if len(text) == ID_HEX_CHARS:
        return text
    matches = [str(t) for t in client.get(f"/v1/txs?prefix={text}")["tx_ids"]]
    if len(matches) != 1:
        raise id_error("tx", typed, matches)
    return matches[0]


def fetch_tx(client: RpcClient, typed: str) -> dict[str, Any]:
    """GET /v1/tx/{id} of a full id or unique prefix; an unknown one in the id wording."""
    tx_id = resolve_tx_id(client, typed)
    try:
        committed: dict[str, Any] = client.get(f"/v1/tx/{tx_id}")
    except RpcFailure as exc:
        if exc.code == RpcErrorCode.NOT_FOUND.value:
            raise id_error("tx", typed) from exc
        raise
    return committed


POLL_ID_HELP = "the poll's id, or any unique prefix of it (as tables print it)"
TX_ID_HELP = "the transaction's id, or any unique prefix of it (as tables print it)"
