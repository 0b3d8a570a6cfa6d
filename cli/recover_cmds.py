"""Recovering a validator's store from a committed block it cannot use (issue 9).

    votechain recover --node n1 --below 14 [--out FILE]
    votechain resubmit FILE [--rpc URL] [--wait]

Before the block byte limit was enforced, validators could commit a block over
MAX_BLOCK_BYTES that their own store then refused to read back: the chain halts at it
for good. `recover`, run with the node stopped, rebuilds the node's store from genesis
up to block H - 1 in a fresh folder by re-executing every block through the voting state
machine (as state transfer does, node.app.ChainApplication.commit), checks that each
block's receipts and app hash come out as stored, then moves the damaged store aside
(never deleting it) and puts the rebuilt one in its place. The transactions of blocks H
and above are written to a JSON file that `resubmit` sends to a running node, reporting
each one the node refuses. docs/OPERATIONS.md, "Recovering from an oversized block",
says when and how: every validator, with the whole cluster stopped.

The rebuilt store has no consensus records (its view, votes and checkpoints belonged to
the removed heights); each replica starts in view 0 at height H - 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import votingcontract
from chain import encoding
from chain.block import Block
from chain.errors import StoreError, VotechainError
from chain.store import ChainStore
from chain.tx import Transaction
from cli import common
from cli.client import RpcFailure
from cli.output import print_json, print_table, short
from cli.txs import submit
from node.app import ChainApplication

REMOVED_FORMAT = "votechain-removed-transactions/1"
"""The `format` field of the file `recover` writes and `resubmit` reads."""
PROGRESS_EVERY_BLOCKS = 1_000


class RecoveryError(VotechainError):
    """The store cannot be recovered as asked; the message says what to do instead."""


@dataclass(frozen=True)
class Recovery:
    """What `recover` did, for the summary it prints."""

    kept_head: int
    removed_heights: tuple[int, ...]
    transactions: int
    aside: Path
    removed_file: Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "recover",
        help="rebuild a stopped node's store below a block it cannot use (oversized block)",
        description="With the node stopped: rebuilds its store from genesis up to block "
        "BELOW - 1 by re-executing every block, moves the damaged store aside (it is never "
        "deleted) and writes the transactions of the removed blocks to a file for "
        "`votechain resubmit`. Every validator does this, with the whole cluster stopped "
        "(docs/OPERATIONS.md, Recovering from an oversized block).",
    )
    p.add_argument("--node", required=True, help="the node whose store to rebuild, e.g. n1")
    p.add_argument(
        "--below", required=True, type=int, help="the first height to remove (the bad block)"
    )
    p.add_argument(
        "--out",
        type=Path,
        help="file for the removed transactions (default: removed-from-H.json in the node's "
        "folder)",
    )
    common.add_config(p)
    common.add_json(p)
    p.set_defaults(handler=recover)

    p = sub.add_parser(
        "resubmit",
        help="submit again the transactions `votechain recover` removed",
        description="Submits every transaction of a file written by `votechain recover` to a "
        "running node and reports, one by one, those the node refuses (already committed, "
        "refused by the state machine, over a quota: try those again later).",
    )
    p.add_argument("file", type=Path)
    p.add_argument("--wait", action="store_true", help="wait for each one to commit")
    common.add_rpc(p)
    common.add_json(p)
    p.set_defaults(handler=resubmit)


def recover(args: argparse.Namespace) -> int:
    config = common.config_of(args)
    node_dir = config.node_dir(config.node(args.node).node_id)
    out = args.out or node_dir / f"removed-from-{args.below}.json"
    result = recover_store(node_dir, args.below, out, progress=not args.json)
    if args.json:
        print_json(
            {
                "node": args.node,
                "kept_head": result.kept_head,
                "removed_heights": list(result.removed_heights),
                "transactions": result.transactions,
                "damaged_store": str(result.aside),
                "removed_file": str(result.removed_file),
            }
        )
        return 0
    removed = result.removed_heights
    print(
        f"{args.node}: store rebuilt up to block {result.kept_head}; removed blocks "
        f"{removed[0]}..{removed[-1]} ({result.transactions} transactions, written to "
        f"{result.removed_file}); the damaged store is kept at {result.aside}"
    )
    return 0


def recover_store(node_dir: Path, below: int, out: Path, progress: bool = False) -> Recovery:
    """Rebuild `node_dir`/chain up to block `below` - 1; see the module docstring."""
    chain_dir = node_dir / "chain"
    rebuilt_dir = node_dir / "chain.recovering"
    if rebuilt_dir.exists():
        raise RecoveryError(
            f"{rebuilt_dir} exists (left by an interrupted recover?): move it away first"
        )
    if out.exists():
        raise RecoveryError(f"{out} exists; give another --out")
    try:
        damaged = ChainStore(chain_dir, create=False)
    except StoreError as exc:
        raise RecoveryError(f"{exc} (stop the node before recovering it)") from exc
    with damaged:
        head = damaged.head_height
        if not 1 <= below <= head:
            raise RecoveryError(
                f"--below {below}: the store holds blocks 1..{head}, so it must be in that range"
            )
        removed = _removed_transactions(damaged, below, head)
        _rebuild(damaged, rebuilt_dir, below - 1, progress)
        _write_removed(out, damaged, below, head, removed)
    aside = _free_name(node_dir / f"chain.damaged-at-{below}")
    chain_dir.rename(aside)
    rebuilt_dir.rename(chain_dir)
    return Recovery(below - 1, tuple(range(below, head + 1)), len(removed), aside, out)


def _rebuild(damaged: ChainStore, rebuilt_dir: Path, last: int, progress: bool) -> None:
    """Re-execute blocks 1..`last` of `damaged` into a new store at `rebuilt_dir`."""
    genesis = damaged.genesis
    with ChainStore(rebuilt_dir) as rebuilt:
        rebuilt.initialize(genesis, votingcontract.genesis_writes(genesis))
        app = ChainApplication(rebuilt, proposer=b"")
        for height in range(1, last + 1):
            block = _checked_block(damaged, height, last)
            certificate = damaged.get_certificate(height)
            certificate.verify(genesis.validator_set, genesis.chain_id, height, block.block_hash)
            receipts = [r.encode() for r in app.commit(block, certificate)]
            if receipts != damaged.get_receipts(height):
                raise RecoveryError(
                    f"re-executing block {height} gives other receipts than the store holds: "
                    "this store is damaged in another way; recover from another validator's"
                )
            if rebuilt.app_hash(height) != damaged.app_hash(height):
                raise RecoveryError(f"re-executing block {height} gives another app hash")
            if progress and height % PROGRESS_EVERY_BLOCKS == 0:
                print(f"re-executed {height} of {last} blocks", file=sys.stderr)


def _checked_block(damaged: ChainStore, height: int, last: int) -> Block:
    try:
        block = damaged.get_block(height)
        block.validate_basic()
    except VotechainError as exc:
        raise RecoveryError(
            f"block {height}, below the one you remove, is bad too ({exc}): "
            f"recover with --below {height}"
        ) from exc
    return block


@dataclass(frozen=True)
class _Removed:
    height: int
    position: int
    tx: Transaction


def _removed_transactions(damaged: ChainStore, below: int, head: int) -> list[_Removed]:
    """Every transaction of blocks `below`..`head`, read without the block size limit
    (Block.decode refuses an oversized block; its transactions are still well formed)."""
    removed: list[_Removed] = []
    for height in range(below, head + 1):
        raw = damaged.get_block_bytes(height)
        if raw is None:
            raise RecoveryError(f"block {height} is missing from the store")
        value = encoding.decode(raw)
        txs = encoding.expect_array(encoding.expect_list(value, 2, "block")[1], "transactions")
        removed.extend(
            _Removed(height, position, Transaction.from_value(tx))
            for position, tx in enumerate(txs)
        )
    return removed


def _write_removed(
    out: Path, damaged: ChainStore, below: int, head: int, removed: list[_Removed]
) -> None:
    genesis = damaged.genesis
    document = {
        "format": REMOVED_FORMAT,
        "chain_id": genesis.chain_id,
        "genesis_hash": genesis.genesis_hash.hex(),
        "kept_head": below - 1,
        "removed_blocks": [
            {
                "height": height,
                "block_hash": damaged.block_hash(height).hex(),
                "bytes": len(damaged.get_block_bytes(height) or b""),
            }
            for height in range(below, head + 1)
        ],
        "transactions": [
            {
                "height": r.height,
                "position": r.position,
                "tx_id": r.tx.tx_id.hex(),
                "tx": r.tx.encode().hex(),
            }
            for r in removed
        ],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    partial.rename(out)


def _free_name(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def read_removed(path: Path) -> list[Transaction]:
    """The transactions of a file `recover` wrote, in chain order."""
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RecoveryError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != REMOVED_FORMAT:
        raise RecoveryError(f"{path} is not a file written by `votechain recover`")
    try:
        return [Transaction.decode(bytes.fromhex(t["tx"])) for t in document["transactions"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise RecoveryError(f"{path}: a transaction entry is malformed: {exc}") from exc


def resubmit(args: argparse.Namespace) -> int:
    transactions = read_removed(args.file)
    client = common.client_of(args)
    rows: list[dict[str, Any]] = []
    for tx in transactions:
        try:
            result = submit(client, tx, wait=args.wait)
        except RpcFailure as exc:
            if exc.code == "unreachable":
                raise
            rows.append(
                {"tx_id": tx.tx_id.hex(), "admitted": False, "code": exc.code, "message": str(exc)}
            )
            continue
        receipt = result.get("receipt") or {}
        rows.append(
            {
                "tx_id": tx.tx_id.hex(),
                "admitted": True,
                "code": receipt.get("code", "accepted" if receipt.get("accepted") else "pending"),
                "message": "",
            }
        )
    refused = [row for row in rows if not row["admitted"]]
    if args.json:
        print_json({"submitted": len(rows), "refused": refused, "results": rows})
    else:
        print_table(
            ["tx", "result", "why"],
            [
                [
                    short(r["tx_id"]),
                    r["code"] if r["admitted"] else f"refused: {r['code']}",
                    r["message"],
                ]
                for r in rows
            ],
        )
        print(f"{len(rows) - len(refused)} of {len(rows)} admitted; {len(refused)} refused")
    return 1 if refused else 0
