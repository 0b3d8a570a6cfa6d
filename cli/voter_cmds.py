"""Commands for citizens: enroll, vote, history, tx."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import votingcontract
from chain.genesis import Genesis
from chain.keyfile import load_key
from chain.keys import PrivateKey
from cli import common, enrolment, secret_ballot
from cli.ballot import parse_answers, read_location, read_qr_seed, read_ticket
from cli.client import RpcClient, RpcFailure
from cli.ids import POLL_ID_HELP, TX_ID_HELP, fetch_poll, fetch_tx
from cli.output import print_json, print_table, short
from cli.txs import chain_id_of, describe_receipt, sign, submit
from cli.voter_keys import explain_key_refusal, submit_as_voter
from node.client_auth import sign_history_request
from verifier.errors import VerificationFailure
from verifier.receipts import receipt_from_committed_tx, verify_receipt
from votingcontract.secret_polls import format_tracking_code, tracking_code


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "enroll",
        help="verify a phone number by one-time code and enroll your key",
        description="Without --session: asks an attester to send a code (a new session; the "
        "next attester of the cluster file when one is down), then reads it from the "
        "development outbox (local clusters) or asks you for it. With --session and --code: "
        "finishes that session with the code you received, at the attester that started it. "
        "`enroll cancel --key OLD_KEY`: from the device whose key is active, cancel a new "
        "key enrolled for your phone that is still waiting to replace it.",
    )
    p.add_argument(
        "action",
        nargs="?",
        choices=["cancel"],
        help="cancel: stop a pending key change of your phone (signed by its active key)",
    )
    p.add_argument("--phone", help="E.164 number, e.g. +821012345678 (to start a session)")
    p.add_argument("--key", required=True, type=Path, help="your key file (votechain keygen)")
    p.add_argument("--session", help="the session a previous start printed")
    p.add_argument("--code", help="the one-time code you received (with --session)")
    common.add_config(p)
    add_attester(p)
    p.add_argument("--rpc", help="a node's RPC URL, for `enroll cancel` (default: as `vote`)")
    common.add_json(p)
    p.set_defaults(handler=enroll)

    p = sub.add_parser(
        "vote",
        help="cast a ballot (with --phone: enrol your key first if it is not yet)",
        description="Signs a ballot with --key. With --phone and a key not yet enrolled, it "
        "first enrols the key as `enroll` does (a code to the phone; --session and --code "
        "to finish a session started earlier), waits until the node shows the key active, "
        "then votes. A key already enrolled just votes.",
    )
    p.add_argument("poll_id", help=POLL_ID_HELP)
    p.add_argument(
        "--answer",
        action="append",
        default=[],
        metavar="Q:OPT[,OPT]",
        help="question and option numbers as `poll show` prints them, e.g. 1:2 or 2:1,3",
    )
    p.add_argument("--key", required=True, type=Path)
    p.add_argument("--password", help="the poll's password")
    p.add_argument("--qr-seed", help="the seed from the poll's QR code (hex)")
    p.add_argument("--ticket", help="your on-site ticket seed (hex)")
    p.add_argument("--lat", type=float, help="your latitude, for polls limited to an area")
    p.add_argument("--lon", type=float, help="your longitude")
    p.add_argument("--phone", help="E.164 number: enrol --key for it first, if not yet enrolled")
    p.add_argument("--session", help="with --phone: the enrolment session a previous run printed")
    p.add_argument("--code", help="with --session: the one-time code you received")
    p.add_argument(
        "--audit",
        action="store_true",
        help="a poll with secret choices: encrypt the ballot, then reveal its randomness and "
        "check it encrypts your answers (a Benaloh audit) instead of casting it",
    )
    add_attester(p)
    common.add_rpc(p)
    common.add_json(p)
    p.set_defaults(handler=vote)

    p = sub.add_parser(
        "history",
        help="your participation records, with proofs",
        description="Lists the polls your phone voted in (a request signed by your key: only "
        "the key your phone is enrolled with now can read it), and checks each counted "
        "ballot's receipt as `votechain receipt verify` does: its Merkle proof to the block "
        "header, the header's commit certificate against the genesis validators, and the "
        "receipt in the next certified header. Save one with `votechain receipt save TX_ID "
        "FILE`.",
    )
    p.add_argument("--key", required=True, type=Path)
    p.add_argument(
        "--genesis",
        type=Path,
        help="the chain's genesis.json to check against (default: the node's)",
    )
    common.add_rpc(p)
    common.add_json(p)
    p.set_defaults(handler=history)

    p = sub.add_parser("tx", help="a committed transaction: receipt, block, proofs")
    p.add_argument("tx_id", help=TX_ID_HELP)
    common.add_rpc(p)
    common.add_json(p)
    p.set_defaults(handler=tx)


def add_attester(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--attester",
        help="an attester's URL (default: the attesters of the cluster file, the next one "
        "when one is down)",
    )


def enroll(args: argparse.Namespace) -> int:
    if args.action == "cancel":
        return cancel_key_change(args)
    key = load_key(args.key)
    result = enrolment.enroll_key(args, key, args.phone, args.session, args.code)
    if args.json:
        print_json(result)
        return 0 if result.get("receipt", {}).get("accepted") else 1
    print(describe_receipt(result))
    for line in enrolment.key_change_lines(result):
        print(line)
    return 0 if result.get("receipt", {}).get("accepted") else 1


def cancel_key_change(args: argparse.Namespace) -> int:
    """Send cancel_key_change signed by --key, the phone's active key."""
    client = common.client_of(args)
    key = load_key(args.key)
    notice = key_notice(client, key)
    if notice is not None:
        print(notice, file=sys.stderr)
    result = submit(client, sign(key, chain_id_of(client), votingcontract.CancelKeyChange()))
    accepted = bool(result.get("receipt", {}).get("accepted"))
    if args.json:
        print_json(result)
    else:
        print(describe_receipt(result))
        if accepted:
            print("the new key enrolled for your phone is cancelled; this key stays active")
    return 0 if accepted else 1


def key_notice(client: RpcClient, key: PrivateKey) -> str | None:
    """One line to warn the holder of `key` about a key change, or None.

    An active key whose phone has a new key waiting gets the notice (and how to cancel);
    a pending key is told when it becomes active. A node that cannot answer gets no
    warning: the chain's receipt still says what happened.
    """
    try:
        status = client.get(f"/v1/voters/{key.public_key.hex()}")
    except RpcFailure:
        return None
    until = status.get("replacement_pending_until_ms")
    if status.get("status") == "active" and until is not None:
        return (
            f"warning: a new key was enrolled for your phone; it replaces this key at "
            f"{_utc(until)}. If that was not you, run `votechain enroll cancel --key "
            f"YOUR_KEY_FILE` before then"
        )
    if status.get("status") == "pending":
        return (
            f"warning: this key is pending: it becomes your phone's key at "
            f"{_utc(status.get('effective_at_ms'))} (until then the chain refuses it)"
        )
    return None


def _utc(ms: object) -> str:
    if not isinstance(ms, int):
        return "the end of the waiting period"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def vote(args: argparse.Namespace) -> int:
    # What the voter typed is checked before a key is read or a node asked.
    location = read_location(args.lat, args.lon)
    ticket = None if args.ticket is None else read_ticket(args.ticket)
    qr_seed = None if args.qr_seed is None else read_qr_seed(args.qr_seed)
    client = common.client_of(args)
    key = load_key(args.key)
    chain_id = chain_id_of(client)
    poll = fetch_poll(client, args.poll_id)
    body: dict[str, Any] = {
        "poll_id": poll["poll_id"],
        "selections": parse_answers(args.answer, poll),
    }
    encrypted = secret_ballot.encrypt_for_vote(args, chain_id, poll, key, body)
    poll_id = bytes.fromhex(poll["poll_id"])
    access = poll["access"]
    if args.password is not None:
        salt = bytes.fromhex(access.get("password_salt", ""))
        gate = votingcontract.password_gate_key(args.password, salt)
        body["password_proof"] = votingcontract.gate_signature(
            gate, chain_id, poll_id, key.public_key
        ).hex()
    if qr_seed is not None:
        gate = votingcontract.qr_gate_key(qr_seed)
        body["qr_proof"] = votingcontract.gate_signature(
            gate, chain_id, poll_id, key.public_key
        ).hex()
    if ticket is not None:
        body["ticket_key"] = ticket.public_key.hex()
        body["ticket_signature"] = votingcontract.ticket_signature(
            ticket, chain_id, poll_id, key.public_key
        ).hex()
    if location is not None:
        body["location"] = location
    ballot = votingcontract.CastBallot.from_dict(body)
    tracking = None
    if encrypted is not None:
        tracking = format_tracking_code(tracking_code(ballot))
        if args.audit:
            return secret_ballot.report_audit(args.json, poll, encrypted, tracking)
        if not args.json:
            print(f"tracking code: {tracking} (find it on the chain with `votechain receipt`)")
    if (args.phone or args.session) and not enrolment.ensure_enrolled(args, client, key):
        return 1
    notice = key_notice(client, key)
    if notice is not None:
        print(notice, file=sys.stderr)
    result = submit_as_voter(client, key, sign(key, chain_id, ballot))
    if args.json:
        print_json(result if tracking is None else {**result, "tracking_code": tracking})
    else:
        print(describe_receipt(result))
    return 0 if result.get("receipt", {}).get("accepted") else 1


def history(args: argparse.Namespace) -> int:
    client = common.client_of(args)
    key = load_key(args.key)
    notice = key_notice(client, key)
    if notice is not None:
        print(notice, file=sys.stderr)
    if args.genesis is not None:
        genesis = Genesis.from_json(args.genesis.read_text())
    else:
        node_genesis = client.get("/v1/genesis")
        node_genesis.pop("genesis_hash", None)
        genesis = Genesis.from_json(json.dumps(node_genesis))
    try:
        document = _fetch_history(client, key, genesis.chain_id)
    except RpcFailure as exc:
        raise explain_key_refusal(client, key, exc) from exc
    failures = 0
    for record in document["records"]:
        record["proof"] = _check_record(client, record, genesis)
        failures += not record["proof"]["ok"]
    document["genesis_hash"] = genesis.genesis_hash.hex()
    if args.json:
        print_json(document)
        return 1 if failures else 0
    rows = [
        [
            short(r["poll_id"]),
            r["height"],
            short(r["tx_id"]),
            short((r.get("committed") or {}).get("header", {}).get("hash", "")),
            r["proof"]["summary"],
        ]
        for r in document["records"]
    ]
    print_table(["poll", "height", "tx", "block", "proof"], rows)
    print(f"proofs checked against genesis {genesis.genesis_hash.hex()}")
    return 1 if failures else 0


def _fetch_history(client: RpcClient, key: PrivateKey, chain_id: str) -> dict[str, Any]:
    """Every page of POST /v1/history, each request signed now (PROTOCOL.md 14.4)."""
    document: dict[str, Any] = {}
    records: list[dict[str, Any]] = []
    start: int | None = 0
    while start is not None:
        request = sign_history_request(key, chain_id, int(time.time() * 1000))
        page = client.post("/v1/history", {**request, "from": start})
        records.extend(page["records"])
        document, next_from = page, page.get("next_from")
        if next_from is not None and next_from <= start:
            raise ValueError(f"the node's history pages do not advance (next_from {next_from})")
        start = next_from
    document["records"] = records
    return document


def _check_record(client: RpcClient, record: dict[str, Any], genesis: Genesis) -> dict[str, Any]:
    """Check one participation record's receipt, light-client style (verifier/receipts):
    the history answer carries the owner's ballot with its proofs."""
    try:
        committed = record.get("committed")
        if not committed:
            committed = client.get(f"/v1/tx/{record['tx_id']}")
        check = verify_receipt(receipt_from_committed_tx(committed, genesis), genesis)
    except VerificationFailure as failure:
        return {"ok": False, "summary": f"FAILED: {failure}", "failure": failure.to_dict()}
    if check.height != record["height"]:
        return {"ok": False, "summary": f"FAILED: the tx is at height {check.height}"}
    certified = "receipt certified" if check.receipt_certified else "receipt not yet certified"
    return {
        **check.to_dict(),
        "ok": True,
        "summary": f"ok: {check.signers} validators signed; {check.code}, {certified}",
    }


def tx(args: argparse.Namespace) -> int:
    document = fetch_tx(common.client_of(args), args.tx_id)
    if args.json:
        print_json(document)
        return 0
    receipt = document["receipt"]
    print(f"tx {document['tx']['tx_id']} ({document['tx']['kind']})")
    tracking = secret_ballot.tracking_of_tx(str(document["tx"].get("encoded", "")))
    if tracking is not None:
        print(f"encrypted ballot, tracking code {tracking}")
    print(
        f"block {document['height']} {document['header']['hash']}, position {document['position']}"
    )
    print(f"receipt: {receipt['code']} - {receipt['description']}")
    print(f"certified by {len(document['certificate']['signers'])} validators")
    print(f"Merkle proof: {len(document['tx_proof']['siblings'])} hashes")
    return 0
