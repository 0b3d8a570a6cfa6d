"""Commands for auditors and citizens: verify a chain, export it, save and check receipts.

    votechain verify [--rpc URL | --data DIR | --file EXPORT] [--genesis-hash HEX] [--json]
    votechain export [--rpc URL | --data DIR] FILE
    votechain receipt save TX_ID FILE [--rpc URL]
    votechain receipt verify FILE [--genesis genesis.json]
    votechain receipt check FILE --rpc URL [--genesis genesis.json]

The checking itself is verifier/ (which trusts no node code); this module only reads
files, talks to nodes and prints. Exit codes: 0 everything checks, 1 something does
not (or an error), 3 a receipt whose transaction is proven but whose receipt is not yet
certified by a next block.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from chain.block import Block
from chain.genesis import Genesis
from cli import common
from cli.errors import CliError
from cli.output import bar, print_json, short
from cli.results_text import choices_line, participants_text, print_questions
from cli.secret_ballot import find_ballot, tracking_of_tx
from cli.trustee_view import poll_secret_line
from verifier.errors import VerificationFailure
from verifier.export import ExportSource, write_export
from verifier.receipts import (
    check_header_on_chain,
    receipt_from_committed_tx,
    verify_receipt,
)
from verifier.replay import Progress, Report, verify_chain
from verifier.sources import ChainSource, DataDirSource, RpcSource

NOT_YET_CERTIFIED = 3


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "verify",
        help="replay a chain from genesis and check everything",
        description="Replays the chain from genesis: hash links, Merkle roots, every commit "
        "certificate and signature, re-execution of every transaction with receipts and app "
        "hashes compared, then prints each poll's results. Exit 0 only if everything checks; "
        "otherwise the first bad height, the object and the reason. Without a source: the "
        "local cluster (the first node of the cluster file that answers, its genesis pinned "
        "to the cluster's genesis.json).",
    )
    _add_source(p, allow_file=True)
    p.add_argument("--genesis-hash", help="the genesis hash to pin (hex), as published")
    p.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes verifying signatures beside the replay (default: CPU count; 1: none)",
    )
    common.add_json(p)
    p.set_defaults(handler=verify)

    p = sub.add_parser(
        "export",
        help="write a chain to one checksummed file (genesis, blocks, certificates, receipts)",
    )
    _add_source(p, allow_file=False)
    p.add_argument("file", type=Path)
    p.set_defaults(handler=export)

    receipt = sub.add_parser("receipt", help="save and check a ballot's receipt")
    rsub = receipt.add_subparsers(dest="receipt_command", required=True, metavar="COMMAND")
    p = rsub.add_parser(
        "save", help="save the receipt of a committed transaction (with its proofs) to a file"
    )
    p.add_argument("tx_id")
    p.add_argument("file", type=Path)
    p.add_argument(
        "--genesis-hash-only",
        action="store_true",
        help="store only the genesis hash, not the genesis document",
    )
    common.add_rpc(p)
    common.add_json(p)
    p.set_defaults(handler=receipt_save)

    p = rsub.add_parser(
        "verify",
        help="check a receipt file against the genesis validators, without replaying",
    )
    p.add_argument("file", type=Path)
    p.add_argument("--genesis", type=Path, help="the chain's genesis.json (default: the receipt's)")
    common.add_json(p)
    p.set_defaults(handler=receipt_verify)

    p = rsub.add_parser(
        "find",
        help="find an encrypted ballot on the chain by its tracking code",
        description="The committed ballot whose tracking code `vote` printed (a secret "
        "poll's ballot), from a node; then `receipt save` keeps its receipt.",
    )
    p.add_argument("code", help="the tracking code (26 characters; dashes, spaces optional)")
    common.add_rpc(p)
    common.add_json(p)
    p.set_defaults(handler=find_ballot)

    p = rsub.add_parser(
        "check", help="verify a receipt and check that a node's chain still has its block"
    )
    p.add_argument("file", type=Path)
    p.add_argument("--rpc", required=True, help="a node's RPC URL")
    common.add_ca(p)
    p.add_argument("--genesis", type=Path, help="the chain's genesis.json (default: the receipt's)")
    common.add_json(p)
    p.set_defaults(handler=receipt_check)


def _add_source(p: argparse.ArgumentParser, allow_file: bool) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--rpc", help="a node's RPC URL (default: the local cluster's)")
    group.add_argument("--data", type=Path, help="a copy of a node's data or chain directory")
    if allow_file:
        group.add_argument("--file", type=Path, help="an export file (votechain export)")
    common.add_ca(p)
    common.add_config(p)


def open_source(args: argparse.Namespace) -> ChainSource:
    if args.rpc:
        return RpcSource(args.rpc, ca_file=args.ca)
    if args.data:
        return DataDirSource(args.data)
    if getattr(args, "file", None):
        return ExportSource(args.file)
    return RpcSource(common.client_of(args).base_url, ca_file=_local_ca(args))


def local_genesis_hash(args: argparse.Namespace) -> bytes | None:
    """Without a source, the cluster's own genesis.json is the one to pin: the node that
    answers must be on the chain this cluster file set up."""
    if args.rpc or args.data or getattr(args, "file", None):
        return None
    path = common.config_of(args).genesis_path
    return Genesis.from_json(path.read_text()).genesis_hash if path.exists() else None


def _genesis_hash_option(text: str) -> bytes:
    cleaned = text.strip().lower()
    if len(cleaned) != 64 or not all(c in "0123456789abcdef" for c in cleaned):
        raise CliError(
            f"--genesis-hash {text!r} is not a genesis hash: expected 64 hex characters, as "
            "`votechain init` and /v1/genesis print it"
        )
    return bytes.fromhex(cleaned)


def _local_ca(args: argparse.Namespace) -> Path | None:
    ca: Path | None = args.ca or common.config_of(args).client_ca_path
    return ca


# verify


def verify(args: argparse.Namespace) -> int:
    pinned: bytes | None = None
    if args.genesis_hash:
        pinned = _genesis_hash_option(args.genesis_hash)
    else:
        pinned = local_genesis_hash(args)
    partial = Report("", "")
    progress = _ProgressBar() if (sys.stderr.isatty() and not args.json) else None
    try:
        source = open_source(args)
        try:
            report = verify_chain(
                source, pinned, workers=args.workers, on_progress=progress, partial=partial
            )
        finally:
            source.close()
            if progress is not None:
                progress.done()
    except VerificationFailure as failure:
        return _print_failure(args, failure, partial)
    if args.json:
        print_json(report.to_dict())
    else:
        print_report(report)
    return 0


class _ProgressBar:
    """One line on stderr: height, ballots/s and ETA, redrawn at most 10 times a second."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        rate = p.ballots / p.elapsed_s if p.elapsed_s > 0 else 0.0
        if p.head > 0:
            share = p.height * 10000 // p.head
            eta_s = p.elapsed_s * (p.head - p.height) / p.height if p.height else 0.0
            line = (
                f"[{bar(share, 24)}] block {p.height}/{p.head}  {rate:,.0f} ballots/s  "
                f"ETA {_duration(eta_s)}"
            )
        else:
            line = f"block {p.height}  {rate:,.0f} ballots/s"
        sys.stderr.write("\r" + line.ljust(78))
        sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write("\r" + " " * 78 + "\r")
        sys.stderr.flush()


def print_report(report: Report) -> None:
    print(f"chain {report.chain_id}: everything checks")
    print(f"genesis  {report.genesis_hash}")
    print(f"head     {report.head_hash} (app hash {report.app_hash})")
    print(
        f"blocks 1 to {report.blocks} verified: the source's whole chain, up to the head it records"
    )
    print(
        f"{report.blocks} blocks, {report.transactions} transactions, {report.ballots} ballots "
        f"({report.accepted_ballots} accepted), {len(report.polls)} polls, "
        f"{report.signatures} signatures"
    )
    print(
        f"verified in {report.elapsed_s:.1f} s ({report.ballots_per_s:,.0f} ballots/s, "
        f"{report.workers} worker{'s' if report.workers != 1 else ''})"
    )
    for entry in report.polls:
        poll, results = entry["poll"], entry["results"]
        print(f"\npoll {poll['poll_id']}  [{poll.get('status', '?')}]")
        print(f"  {poll['title']}")
        for line in _choices_lines(poll, results):
            print(f"  {line}")
        if results is None or not results["visible"]:
            if results is None or (
                results.get("awaiting_trustees") is None and results.get("key_phase") is None
            ):
                print("  results are shown after the poll closes")
            continue
        print(f"  {participants_text(results)}")
        print_questions(results, indent="  ")


def _choices_lines(poll: dict[str, Any], results: dict[str, Any] | None) -> list[str]:
    """Public or secret choices; for a secret poll without a ready key, where its key
    set-up stands (it has no totals to await), and once decrypted, by which trustees."""
    secret = poll.get("secret")
    if secret is None or (secret["phase"] == "ready" and not secret["decrypted"]):
        return [] if results is None else [choices_line(results)]
    trustees = f"trustees: {poll_secret_line(poll)}"
    if secret["phase"] != "ready" or results is None:
        return ["choices: secret", trustees]
    return [choices_line(results), trustees]


def _print_failure(args: argparse.Namespace, failure: VerificationFailure, partial: Report) -> int:
    if getattr(args, "json", False):
        print_json({"ok": False, "failure": failure.to_dict(), "verified_blocks": partial.blocks})
    else:
        where = f" at height {failure.height}" if failure.height is not None else ""
        rule = f" (rule {failure.rule})" if failure.rule else ""
        print(f"FAILED{where}{rule}: {failure}", file=sys.stderr)
        if partial.blocks:
            print(f"blocks 1..{partial.blocks} checked before it", file=sys.stderr)
    return 1


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


# export


def export(args: argparse.Namespace) -> int:
    try:
        source = open_source(args)
    except VerificationFailure as failure:
        return _print_failure(args, failure, Report("", ""))
    try:
        count = write_export(source, args.file)
    finally:
        source.close()
    print(f"{args.file}: genesis and {count} blocks (check it with `votechain verify --file`)")
    return 0


# receipts


def receipt_save(args: argparse.Namespace) -> int:
    client = common.client_of(args)
    committed = client.get(f"/v1/tx/{args.tx_id}")
    if committed["tx"].get("choices_hidden"):
        raise ValueError(
            f"the node hides ballot {args.tx_id}'s choices until its poll closes, so it gives no "
            "receipt for it yet; the voter's own receipts come with `votechain history --key`"
        )
    document = client.get("/v1/genesis")
    document.pop("genesis_hash", None)
    genesis = Genesis.from_json(json.dumps(document))
    receipt = receipt_from_committed_tx(committed, genesis, not args.genesis_hash_only)
    try:
        check = verify_receipt(receipt, genesis)
    except VerificationFailure as failure:
        # Saved anyway: a receipt that does not check is evidence too.
        _write_json(args.file, receipt)
        print(f"saved {args.file}, but it does not check:", file=sys.stderr)
        return _print_failure(args, failure, Report("", ""))
    _write_json(args.file, receipt)
    return _print_check(args, check.to_dict(), f"saved {args.file}", receipt)


def receipt_verify(args: argparse.Namespace) -> int:
    document = _read_json(args.file)
    genesis = _load_genesis(args.genesis)
    try:
        check = verify_receipt(document, genesis)
    except VerificationFailure as failure:
        return _print_failure(args, failure, Report("", ""))
    return _print_check(args, check.to_dict(), f"{args.file}", document)


def receipt_check(args: argparse.Namespace) -> int:
    document = _read_json(args.file)
    genesis = _load_genesis(args.genesis)
    try:
        check = verify_receipt(document, genesis)
        node = RpcSource(args.rpc, ca_file=args.ca)
        try:
            if node.genesis().genesis_hash != check.genesis_hash:
                raise VerificationFailure(
                    None,
                    f"the node at {args.rpc}",
                    f"is on genesis {node.genesis().genesis_hash.hex()}, not the receipt's "
                    f"{check.genesis_hash.hex()}",
                    9,
                )
            if node.head_height() < check.height:
                raise VerificationFailure(
                    check.height,
                    f"the node at {args.rpc}",
                    f"has only {node.head_height()} blocks",
                    9,
                )
            raw = node.raw_block(check.height)
            check_header_on_chain(document, Block.decode(raw.block).header.encode())
            result = check.to_dict()
            result["on_chain"] = True
            if not check.receipt_certified:
                result.update(_refresh_receipt_proof(node, document, genesis))
        finally:
            node.close()
    except VerificationFailure as failure:
        return _print_failure(args, failure, Report("", ""))
    return _print_check(
        args, result, f"{args.file}: block {check.height} is still on the chain", document
    )


def _refresh_receipt_proof(
    node: RpcSource, document: dict[str, Any], genesis: Genesis | None
) -> dict[str, Any]:
    """A receipt saved before the next block existed: take the proof from the node now."""
    committed = node.committed_tx(str(document["tx_id"]))
    fresh = receipt_from_committed_tx(committed, genesis or node.genesis())
    if not fresh.get("receipt_proof"):
        return {}
    refreshed = dict(document, receipt_proof=fresh["receipt_proof"])
    check = verify_receipt(refreshed, genesis)
    return {"receipt_certified": check.receipt_certified, "ok": check.receipt_certified}


def _print_check(
    args: argparse.Namespace, result: dict[str, Any], headline: str, receipt: dict[str, Any]
) -> int:
    code = 0 if result["receipt_certified"] else NOT_YET_CERTIFIED
    tracking = tracking_of_tx(str(receipt.get("tx", "")))
    if tracking is not None:
        result = {**result, "tracking_code": tracking}
    if args.json:
        print_json(result)
        return code
    print(headline)
    if tracking is not None:
        print(f"encrypted ballot, tracking code {tracking}")
    print(
        f"tx {result['tx_id']} ({result['kind']}) is at position {result['position']} of "
        f"block {result['height']} {short(result['block_hash'])}"
    )
    print(
        f"certified by {result['certificate_signers']} validators of genesis "
        f"{short(result['genesis_hash'])}"
    )
    if result["receipt_certified"]:
        print(f"receipt: {result['code']} (certified by block {result['height'] + 1})")
    else:
        print(
            f"receipt: {result['code']}, not yet certified: block {result['height'] + 1} did not "
            "exist when it was saved; check it again later with `votechain receipt check`"
        )
    return code


def _load_genesis(path: Path | None) -> Genesis | None:
    return None if path is None else Genesis.from_json(path.read_text())


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except ValueError as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ValueError(f"{path} is not a receipt file")
    return document


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2) + "\n")
