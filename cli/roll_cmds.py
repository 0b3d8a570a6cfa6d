"""A poll's manager after creation: `poll extend-roll`, `poll extend`, `poll tickets`; and
the roll's phone numbers turned into phone ids by the attester (docs/adr/007).

Phone numbers go only to the attester (POST /v1/roll/phone-ids, signed with the
organisation's key); the chain gets phone ids, in extend_roll transactions of at most
MAX_LIST_KEYS entries each. Progress goes to stderr, so --json output stays clean.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import votingcontract
from chain.keyfile import load_key
from chain.keys import PrivateKey
from cli import common, sheet_cmds
from cli.client import RpcClient, RpcFailure
from cli.enrolment import attesters_of
from cli.ids import POLL_ID_HELP, fetch_poll
from cli.output import print_json
from cli.poll_file import PreparedPoll
from cli.roll_numbers import (
    DEFAULT_COUNTRY_CODE,
    PhoneIdSource,
    RollNumbers,
    numbers_from_list,
    read_roll_file,
)
from cli.txs import chain_id_of, describe_receipt, sign, submit
from node.roll_ids import MAX_ROLL_PHONES, NONCE_BYTES, sign_roll_request
from votingcontract import limits
from webapp.i18n import LANGUAGES

ATTESTER_RETRIES = 3
"""Times a roll request is sent again after `busy` (validators unreachable) or an
unreachable attester, waiting Retry-After between."""


def add_attester(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--attester",
        help="the attester's URL, which turns phone numbers into phone ids (default: "
        "[attester] of the cluster file)",
    )


def attester_phone_ids(args: argparse.Namespace, key: PrivateKey, chain_id: str) -> PhoneIdSource:
    """Ask the attester for the phone ids of an organisation's numbers, 1,000 a request."""

    def convert(org_id: str, numbers: Sequence[str]) -> list[bytes]:
        attesters = [RpcClient(target.url) for target in attesters_of(args)]
        phone_ids: list[bytes] = []
        for start in range(0, len(numbers), MAX_ROLL_PHONES):
            chunk = list(numbers[start : start + MAX_ROLL_PHONES])
            phone_ids += _request_phone_ids(attesters, key, chain_id, org_id, chunk)
            _progress(f"phone ids from the attester: {len(phone_ids)} of {len(numbers)}")
        return phone_ids

    return convert


def _request_phone_ids(
    attesters: list[RpcClient], key: PrivateKey, chain_id: str, org_id: str, numbers: list[str]
) -> list[bytes]:
    """One request, to the next attester instance while one is down or busy (every
    instance has the pepper: ADR 008), a few rounds at most."""
    tries = ATTESTER_RETRIES * len(attesters)
    for attempt in range(tries + 1):
        attester = attesters[attempt % len(attesters)]
        # signed afresh each time: the attester refuses a nonce it has seen
        nonce = secrets.token_bytes(NONCE_BYTES)
        now_ms = int(time.time() * 1000)
        document = sign_roll_request(key, chain_id, org_id, numbers, now_ms, nonce)
        try:
            answer = attester.post("/v1/roll/phone-ids", document)
            break
        except RpcFailure as exc:
            if exc.code not in ("busy", "unreachable") or attempt == tries:
                raise RpcFailure(
                    f"the attester did not turn the numbers into phone ids: {exc}",
                    exc.code,
                    exc.reason,
                ) from exc
            if attempt % len(attesters) == len(attesters) - 1:
                time.sleep(min(max(exc.retry_after_s, 1.0), 10.0))
    phone_ids = answer.get("phone_ids") if isinstance(answer, dict) else None
    if not isinstance(phone_ids, list) or len(phone_ids) != len(numbers):
        raise RpcFailure("the attester's answer does not hold one phone id per number")
    try:
        decoded = [bytes.fromhex(p) for p in phone_ids]
    except (TypeError, ValueError) as exc:
        raise RpcFailure("the attester answered a phone id that is not hex") from exc
    if any(len(p) != 32 for p in decoded):
        raise RpcFailure("the attester answered a phone id that is not 32 bytes")
    return decoded


def extend_roll(
    client: RpcClient,
    key: PrivateKey,
    chain_id: str,
    poll_id: str,
    phone_ids: Sequence[bytes] = (),
    voter_keys: Sequence[bytes] = (),
    weights: Mapping[bytes, int] | None = None,
) -> list[dict[str, Any]]:
    """Add the entries in extend_roll transactions of at most MAX_LIST_KEYS entries each,
    one after another (each waits for its commit); stops at the first refusal. Returns
    every transaction's result. weights: each entry's weight, for a weighted poll."""
    entries = [("phone_ids", p) for p in phone_ids] + [("voter_keys", k) for k in voter_keys]
    results: list[dict[str, Any]] = []
    batches = range(0, len(entries), limits.MAX_LIST_KEYS)
    for number, start in enumerate(batches, 1):
        batch = entries[start : start + limits.MAX_LIST_KEYS]
        fields: dict[str, Any] = {
            "poll_id": poll_id,
            "phone_ids": [v.hex() for kind, v in batch if kind == "phone_ids"],
            "voter_keys": [v.hex() for kind, v in batch if kind == "voter_keys"],
        }
        if weights is not None:
            fields["weights"] = {v.hex(): weights[v] for _, v in batch}
        body = votingcontract.ExtendRoll.from_dict(fields)
        result = submit(client, sign(key, chain_id, body))
        results.append(result)
        accepted = bool(result.get("receipt", {}).get("accepted"))
        _progress(
            f"extend_roll {number} of {len(batches)}: {len(batch)} entries "
            + ("added" if accepted else "refused")
        )
        if not accepted:
            break
    return results


def register_roll_commands(poll: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = poll.add_parser(
        "extend-roll",
        help="add phone numbers (or phone ids, voter keys) to a roll poll before it opens",
    )
    p.add_argument("poll_id", help=POLL_ID_HELP)
    p.add_argument("--key", required=True, type=Path, help="a key of the poll's manager")
    p.add_argument("--file", type=Path, help="a .csv or .xlsx file with a phone column")
    p.add_argument("--phone", action="append", default=[], help="a phone number (repeatable)")
    p.add_argument("--phone-id", action="append", default=[], help="a phone id, hex (repeatable)")
    p.add_argument("--voter-key", action="append", default=[], help="a voter key, hex (repeatable)")
    p.add_argument(
        "--weight",
        type=int,
        help="a weighted poll: the weight of every --phone, --phone-id and --voter-key "
        "(a --file gives its own in a weight column)",
    )
    p.add_argument(
        "--country-code",
        default=DEFAULT_COUNTRY_CODE,
        help="for local numbers such as 010-1234-5678 (default: 82)",
    )
    add_attester(p)
    common.add_rpc(p)
    common.add_json(p)
    p.set_defaults(handler=poll_extend_roll)

    p = poll.add_parser("extend", help="move a poll's closing time later (its manager only)")
    p.add_argument("poll_id", help=POLL_ID_HELP)
    p.add_argument("--key", required=True, type=Path)
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--closes-at", help='ISO 8601, e.g. "2026-12-08T18:00:00+09:00"')
    when.add_argument("--add-minutes", type=int, help="minutes after the current closing time")
    common.add_rpc(p)
    common.add_json(p)
    p.set_defaults(handler=poll_extend)

    p = poll.add_parser("tickets", help="issue more on-site tickets for a ticket poll")
    p.add_argument("poll_id", help=POLL_ID_HELP)
    p.add_argument("--key", required=True, type=Path)
    p.add_argument("--count", required=True, type=int)
    p.add_argument(
        "--out", type=Path, help="where the ticket seeds go (default: POLLID.tickets.txt)"
    )
    p.add_argument(
        "--sheet",
        type=Path,
        help="also write the issued tickets' printable sheet (HTML, in Korean, QR codes "
        "linking to rpc.public_url or the node; `poll ticket-sheet` makes others)",
    )
    common.add_rpc(p)
    common.add_json(p)
    p.set_defaults(handler=poll_tickets)


def poll_extend_roll(args: argparse.Namespace) -> int:
    phone_ids = [_hex(text, 32, "--phone-id") for text in args.phone_id]
    voter_keys = [_hex(text, 32, "--voter-key") for text in args.voter_key]
    numbers = _numbers(args)
    if not (numbers.numbers or phone_ids or voter_keys):
        raise ValueError("name what to add: --file, --phone, --phone-id or --voter-key")
    client = common.client_of(args)
    poll = _poll(client, args.poll_id)
    key = load_key(args.key)
    chain_id = chain_id_of(client)
    if numbers.numbers and poll["kind"] != "policy":
        raise ValueError(
            "only an organisation's poll takes phone numbers (the attester turns numbers "
            "into phone ids for registered organisations only, docs/adr/007); give this "
            "citizen poll --voter-key or --phone-id"
        )
    weighted = bool(poll.get("weighted"))
    _check_weights(args, weighted, numbers, bool(phone_ids or voter_keys))
    converted: list[bytes] = []
    if numbers.numbers:
        converted = attester_phone_ids(args, key, chain_id)(poll["org_id"], numbers.numbers)
    weights = None
    if weighted:
        from_file = numbers.weights or ()  # the file's numbers come first, in file order
        given = [(e, args.weight) for e in (*converted[len(from_file) :], *phone_ids, *voter_keys)]
        weights = _one_weight_each([*zip(converted, from_file, strict=False), *given])
    phone_ids = [*converted, *phone_ids]
    results = extend_roll(client, key, chain_id, poll["poll_id"], phone_ids, voter_keys, weights)
    accepted = all(r.get("receipt", {}).get("accepted") for r in results)
    summary = {
        "poll_id": poll["poll_id"],
        "entries": len(phone_ids) + len(voter_keys),
        "duplicates_skipped": numbers.duplicates,
        "transactions": [r.get("tx", {}).get("tx_id") for r in results],
        "accepted": accepted,
        "results": results,
    }
    if args.json:
        print_json(summary)
    else:
        for result in results:
            print(describe_receipt(result))
        if accepted:
            skipped = (
                f" ({numbers.duplicates} repeated numbers skipped)" if numbers.duplicates else ""
            )
            print(
                f"roll extended with {summary['entries']} entries in {len(results)} "
                f"transaction(s){skipped}"
            )
    return 0 if accepted else 1


def poll_extend(args: argparse.Namespace) -> int:
    client = common.client_of(args)
    poll = _poll(client, args.poll_id)
    if args.closes_at is not None:
        closes_at_ms = _iso_ms(args.closes_at)
    else:
        if args.add_minutes <= 0:
            raise ValueError("--add-minutes must be a positive number of minutes")
        closes_at_ms = int(poll["closes_at_ms"]) + args.add_minutes * 60_000
    body = votingcontract.ExtendPoll.from_dict(
        {"poll_id": poll["poll_id"], "closes_at_ms": closes_at_ms}
    )
    result = submit(client, sign(load_key(args.key), chain_id_of(client), body))
    return _report(args, result)


def poll_tickets(args: argparse.Namespace) -> int:
    if not 1 <= args.count <= limits.MAX_TICKETS_POLICY:
        raise ValueError(f"--count must be 1 to {limits.MAX_TICKETS_POLICY}")
    client = common.client_of(args)
    poll = _poll(client, args.poll_id)
    out: Path = args.out or Path(f"{poll['poll_id'][:12]}.tickets.txt")
    if out.exists():
        raise ValueError(f"{out} exists; ticket seeds are never overwritten: give --out")
    if args.sheet is not None:
        sheet_cmds.refuse_existing(args.sheet)
    key = load_key(args.key)
    chain_id = chain_id_of(client)
    out.touch(mode=0o600)
    issued, results, seeds = 0, [], []
    for start in range(0, args.count, limits.MAX_LIST_KEYS):
        tickets = [
            PrivateKey.generate() for _ in range(min(limits.MAX_LIST_KEYS, args.count - start))
        ]
        body = votingcontract.IssueTickets.from_dict(
            {"poll_id": poll["poll_id"], "ticket_keys": [t.public_key.hex() for t in tickets]}
        )
        result = submit(client, sign(key, chain_id, body))
        results.append(result)
        if not result.get("receipt", {}).get("accepted"):
            break
        # written only once the chain holds them: a seed in the file is a valid ticket
        with out.open("a") as written:
            written.writelines(t.seed().hex() + "\n" for t in tickets)
        seeds += [t.seed().hex() for t in tickets]
        issued += len(tickets)
        _progress(f"tickets issued: {issued} of {args.count}")
    accepted = issued == args.count
    if issued == 0:
        out.unlink()
    sheet = None
    if issued and args.sheet is not None:
        site = sheet_cmds.site_of(sheet_cmds.default_site(args, client.base_url))
        sheet_cmds.write_sheet(args.sheet, poll, seeds, site, LANGUAGES[0])
        sheet = str(args.sheet)
    if args.json:
        print_json(
            {
                "issued": issued,
                "tickets_file": str(out) if issued else None,
                "sheet": sheet,
                "results": results,
            }
        )
    else:
        for result in results:
            print(describe_receipt(result))
        if issued:
            print(f"{issued} ticket seeds written to {out}")
        if sheet is not None:
            print(sheet_cmds.sheet_line(issued, args.sheet))
    return 0 if accepted else 1


def _numbers(args: argparse.Namespace) -> RollNumbers:
    """The file's numbers first (with their weights, if it has a weight column), then the
    typed ones not in it."""
    typed = numbers_from_list(args.phone, args.country_code, "--phone") if args.phone else None
    read = read_roll_file(args.file, args.country_code) if args.file else None
    if typed is None and read is None:
        return RollNumbers((), 0)
    parts = [p for p in (read, typed) if p is not None]
    seen = dict.fromkeys(n for p in parts for n in p.numbers)
    duplicates = sum(p.duplicates for p in parts) + sum(len(p.numbers) for p in parts) - len(seen)
    return RollNumbers(tuple(seen), duplicates, None if read is None else read.weights)


def _check_weights(
    args: argparse.Namespace, weighted: bool, numbers: RollNumbers, named: bool
) -> None:
    """A weighted poll's extension gives every entry a weight: a roll file in its weight
    column, entries on the command line with --weight; an unweighted poll's none."""
    if not weighted:
        if args.weight is not None or numbers.weights is not None:
            raise ValueError(
                "this poll's roll is not weighted: drop --weight and the file's weight column"
            )
        return
    if args.file is not None and numbers.weights is None:
        raise ValueError("this poll's roll is weighted: the roll file needs a weight column")
    typed = len(numbers.numbers) - len(numbers.weights or ())
    if (typed or named) and args.weight is None:
        raise ValueError(
            "this poll's roll is weighted: give --weight N for the entries named on the "
            "command line (a roll file gives its own, in a weight column)"
        )
    if args.weight is not None and not 1 <= args.weight <= limits.MAX_WEIGHT:
        raise ValueError(f"--weight must be a whole number from 1 to {limits.MAX_WEIGHT:,}")


def _one_weight_each(pairs: list[tuple[bytes, int]]) -> dict[bytes, int]:
    weights: dict[bytes, int] = {}
    for entry, weight in pairs:
        if weights.setdefault(entry, weight) != weight:
            raise ValueError("an entry is given twice with two weights; a voter has one weight")
    return weights


def _poll(client: RpcClient, poll_id: str) -> dict[str, Any]:
    """The poll of a full id or any unique prefix (the one id wording of cli/ids.py)."""
    return fetch_poll(client, poll_id)


def _hex(text: str, length: int, option: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError:
        value = b""
    if len(value) != length:
        raise ValueError(f"{option} {text!r} is not {length} bytes of hex")
    return value


def _iso_ms(text: str) -> int:
    try:
        return int(datetime.fromisoformat(text).timestamp() * 1000)
    except ValueError as exc:
        raise ValueError(
            f"--closes-at {text!r} is not an ISO 8601 time such as 2026-12-08T18:00:00+09:00"
        ) from exc


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _report(args: argparse.Namespace, result: dict[str, Any]) -> int:
    if args.json:
        print_json(result)
    else:
        print(describe_receipt(result))
    return 0 if result.get("receipt", {}).get("accepted") else 1


def complete_roll(
    client: RpcClient, key: PrivateKey, result: dict[str, Any], prepared: PreparedPoll
) -> bool:
    """After `poll create` committed a poll whose file named phone numbers: add the phone
    ids that did not fit in create_poll, and say what the roll holds. False (with the
    poll id and what to run) if an extension was refused."""
    poll_id: str = result["tx"]["tx_id"]
    chain_id = chain_id_of(client)
    extended = extend_roll(
        client, key, chain_id, poll_id, prepared.extra_phone_ids, weights=prepared.extra_weights
    )
    complete = all(r.get("receipt", {}).get("accepted") for r in extended)
    result["roll"] = {
        "numbers": prepared.roll_numbers,
        "duplicates_skipped": prepared.duplicate_numbers,
        "extend_roll": [r.get("tx", {}).get("tx_id") for r in extended],
        "complete": complete,
    }
    skipped = (
        f", {prepared.duplicate_numbers} repeated numbers skipped"
        if prepared.duplicate_numbers
        else ""
    )
    _progress(
        f"roll: {prepared.roll_numbers} phone numbers as phone ids"
        f"{skipped}; {1 + len(extended)} transaction(s)"
    )
    if not complete:
        refused = extended[-1]
        _progress(
            f"poll {poll_id} was created, but its roll is incomplete: "
            f"{describe_receipt(refused)}; add the rest with `votechain poll extend-roll "
            f"{poll_id} --file ...` before it opens"
        )
    return complete
