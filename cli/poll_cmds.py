"""Commands for organisations and poll creators: org register; poll create, list, show,
results, close."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import votingcontract
from chain.keyfile import load_key
from cli import common, info_cmds
from cli.ids import POLL_ID_HELP, fetch_poll, resolve_poll_id
from cli.output import print_json, print_table
from cli.poll_file import load_poll_file
from cli.poll_view import (
    check_images,
    describe_poll,
    images_of,
    placeholder_phone_ids,
    upload_images,
)
from cli.results_text import choices_line, participants_text, print_questions
from cli.roll_cmds import add_attester, attester_phone_ids, complete_roll, register_roll_commands
from cli.sheet_cmds import default_site, register_ticket_sheet
from cli.txs import chain_id_of, describe_receipt, sign, submit
from votingcontract.polls import poll_problem


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    org = sub.add_parser("org", help="organisations (admin only)").add_subparsers(
        dest="org_command", required=True, metavar="ACTION"
    )
    p = org.add_parser("register", help="register an organisation that may run policy polls")
    common.add_rpc(p)
    common.add_json(p)
    p.add_argument("--id", required=True, dest="org_id", help="short id, e.g. seoul-city")
    p.add_argument("--name", required=True)
    p.add_argument(
        "--category",
        default="city_department",
        choices=[
            "city_department",
            "district_office",
            "education_office",
            "public_body",
            "civic_group",
        ],
    )
    p.add_argument(
        "--org-key",
        action="append",
        required=True,
        type=Path,
        help="the org's key file (repeatable)",
    )
    p.add_argument("--admin-key", required=True, type=Path)
    p.set_defaults(handler=org_register)
    info_cmds.register_org_list(org)

    poll = sub.add_parser("poll", help="create and read polls").add_subparsers(
        dest="poll_command", required=True, metavar="ACTION"
    )
    p = poll.add_parser("create", help="create a poll from a TOML file")
    p.add_argument("file", type=Path)
    p.add_argument(
        "--key", type=Path, help="org key (policy) or voter key (citizen); not for --dry-run"
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the poll as it will be (dates, access, roll size, questions) and the "
        "rules it breaks, without submitting",
    )
    common.add_rpc(p)
    common.add_json(p)
    add_attester(p)
    p.set_defaults(handler=poll_create)

    p = poll.add_parser("list", help="list polls")
    p.add_argument("--status", choices=["open", "closed", "upcoming"])
    common.add_rpc(p)
    common.add_json(p)
    p.set_defaults(handler=poll_list)

    for name, handler, text in (
        ("show", poll_show, "a poll's questions and access"),
        ("results", poll_results, "counts and percentages per option"),
    ):
        p = poll.add_parser(name, help=text)
        p.add_argument("poll_id", help=POLL_ID_HELP)
        common.add_rpc(p)
        common.add_json(p)
        p.set_defaults(handler=handler)
        if name == "show":
            p.add_argument(
                "--save-images",
                type=Path,
                metavar="DIR",
                help="save the poll's images (each checked against its hash) in DIR",
            )

    p = poll.add_parser("close", help="close a poll early (its creator only)")
    p.add_argument("poll_id", help=POLL_ID_HELP)
    p.add_argument("--key", required=True, type=Path)
    common.add_rpc(p)
    common.add_json(p)
    p.set_defaults(handler=poll_close)
    register_roll_commands(poll)
    register_ticket_sheet(poll)


def org_register(args: argparse.Namespace) -> int:
    client = common.client_of(args)
    admin = load_key(args.admin_key)
    keys = [load_key(path).public_key.hex() for path in args.org_key]
    body = votingcontract.RegisterOrg.from_dict(
        {"org_id": args.org_id, "name": args.name, "category": args.category, "keys": keys}
    )
    result = submit(client, sign(admin, chain_id_of(client), body))
    return _report(args, result)


def poll_create(args: argparse.Namespace) -> int:
    if args.dry_run:
        return poll_dry_run(args)
    if args.key is None:
        raise ValueError(
            "poll create needs --key: an org key for a policy poll, the voter key for a "
            "citizen poll (or --dry-run, which submits nothing)"
        )
    client = common.client_of(args)
    key = load_key(args.key)
    prepared = load_poll_file(
        args.file, phone_ids=attester_phone_ids(args, key, chain_id_of(client))
    )
    refuse_before_submitting(prepared.body)
    tx = sign(key, chain_id_of(client), prepared.body)
    result = submit(client, tx)
    accepted = bool(result.get("receipt", {}).get("accepted"))
    if accepted and prepared.roll_numbers:
        accepted = complete_roll(client, key, result, prepared)
    if accepted and prepared.images:
        result["images"] = upload_images(client, prepared.images)
    if accepted and prepared.ticket_keys:
        tickets_path = args.file.with_suffix(".tickets.txt")
        tickets_path.write_text("".join(k.seed().hex() + "\n" for k in prepared.ticket_keys))
        tickets_path.chmod(0o600)
        result["tickets_file"] = str(tickets_path)
    if accepted and prepared.qr_seed is not None:
        from webapp.vote_pages import qr_poll_link

        result["qr_seed"] = prepared.qr_seed.hex()
        site = default_site(args, client.base_url)  # rpc.public_url, else this node
        result["qr_link"] = qr_poll_link(site, result["tx"]["tx_id"], prepared.qr_seed)
    if accepted and prepared.generated_password is not None:
        result["password"] = prepared.generated_password
    if args.json:
        print_json(result)
    else:
        print(describe_receipt(result))
        if accepted:
            print(f"poll id: {result['tx']['tx_id']}")
        if "tickets_file" in result:
            print(f"{len(prepared.ticket_keys)} ticket seeds written to {result['tickets_file']}")
        if "qr_seed" in result:
            print(f"QR seed (anyone holding it passes the gate): {result['qr_seed']}")
            print(f"QR link for the web app (put it in the poll's QR code): {result['qr_link']}")
        if "password" in result:
            print(f"poll password (shown once; give it to the voters): {result['password']}")
        for image in result.get("images", []):
            print(_upload_line(image))
    return 0 if accepted else 1


def poll_dry_run(args: argparse.Namespace) -> int:
    """`poll create FILE --dry-run`: the poll as it will be, and what would refuse it."""
    prepared = load_poll_file(args.file, phone_ids=placeholder_phone_ids)
    body = prepared.body
    problem = poll_problem(body, int(time.time() * 1000))
    extra = len(getattr(prepared, "extra_phone_ids", []))
    if args.json:
        print_json({"submitted": False, "poll": body.to_dict(), "problem": problem})
    else:
        for line in describe_poll(body.to_dict(), extra_roll=extra):
            print(line)
        for image in prepared.images:
            print(f"image {image.path}: {image.ref.size:,} bytes, uploaded after the poll commits")
        print("\ndry run: nothing was submitted")
        if problem is not None:
            print(f"this poll would be refused: {problem}")
    return 0 if problem is None else 1


def refuse_before_submitting(body: votingcontract.CreatePoll) -> None:
    """Run the chain's stateless create_poll rules here: a receipt says only the code,
    this says which field and why, and nothing is sent."""
    problem = poll_problem(body, int(time.time() * 1000))
    if problem is not None:
        raise ValueError(f"the chain would refuse this poll, so nothing was sent: {problem}")


def _upload_line(image: dict[str, Any]) -> str:
    where = f"stored on {len(image['stored'])} node(s)"
    if not image["stored"]:
        where = "NOT stored: " + "; ".join(image["refused"])
    return f"image {image['file']} ({image['sha256'][:12]}): {where}"


def poll_list(args: argparse.Namespace) -> int:
    client = common.client_of(args)
    query = f"?status={args.status}" if args.status else ""
    polls = client.get(f"/v1/polls{query}")["polls"]
    if args.json:
        print_json(polls)
        return 0
    rows = [
        [
            p["poll_id"],
            p.get("status"),
            p["kind"],
            p["org_id"] or "citizen",
            p.get("choices", "public"),
            p["title"],
        ]
        for p in polls
    ]
    print_table(["poll id", "status", "kind", "by", "choices", "title"], rows)
    return 0


def poll_show(args: argparse.Namespace) -> int:
    client = common.client_of(args)
    poll = fetch_poll(client, args.poll_id)
    checks = check_images(client, poll, args.save_images) if images_of(poll) else []
    mismatch = any("served something else" in c.get("problem", "") for c in checks)
    if args.json:
        print_json({**poll, "image_checks": checks} if checks else poll)
        return 1 if mismatch else 0
    print(f"poll id: {poll['poll_id']}")
    for line in describe_poll(poll):
        print(line)
    for check in checks:
        verdict = "checked against its hash" if check.get("verified") else check["problem"]
        saved = f", saved as {check['saved']}" if check.get("saved") else ""
        print(f"image {check['sha256'][:12]}: {verdict}{saved}")
    return 1 if mismatch else 0


def poll_results(args: argparse.Namespace) -> int:
    client = common.client_of(args)
    poll = fetch_poll(client, args.poll_id)
    results = client.get(f"/v1/polls/{poll['poll_id']}/results")
    if args.json:
        print_json(results)
        return 0
    print(f"{poll['title']}  [{results['status']}]  {participants_text(results)}")
    print(choices_line(results))
    if results.get("awaiting_trustees") is not None or results.get("key_phase") not in (
        None,
        "ready",
    ):
        return 0
    if not results["visible"]:
        print("results are shown after the poll closes")
        return 0
    print_questions(results)
    return 0


def poll_close(args: argparse.Namespace) -> int:
    client = common.client_of(args)
    body = votingcontract.ClosePoll.from_dict({"poll_id": resolve_poll_id(client, args.poll_id)})
    result = submit(client, sign(load_key(args.key), chain_id_of(client), body))
    return _report(args, result)


def _report(args: argparse.Namespace, result: dict[str, Any]) -> int:
    if args.json:
        print_json(result)
    else:
        print(describe_receipt(result))
    return 0 if result.get("receipt", {}).get("accepted") else 1
