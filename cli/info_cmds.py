"""Read-only overviews of the chain: `votechain stats` and `votechain org list`."""

from __future__ import annotations

import argparse
from typing import Any

from cli import common
from cli.output import print_json, print_table

STAT_LABELS = {
    "orgs": "organisations registered",
    "voters": "phones enrolled",
    "polls": "polls",
    "polls_policy": "  policy polls (organisations)",
    "polls_citizen": "  citizen polls",
    "ballots": "ballots accepted (revotes included)",
    "participations": "participations (poll and phone)",
}
"""What GET /v1/stats counts, in words; a count the node adds later is shown by its key."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "stats",
        help="the chain's operating report: organisations, voters, polls, ballots",
        description="What GET /v1/stats answers: counters the voting state machine keeps "
        "in state (the same on every node at the same height).",
    )
    common.add_rpc(p)
    common.add_json(p)
    p.set_defaults(handler=stats)


def register_org_list(org: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`org list`, beside `org register` (cli/poll_cmds.py)."""
    p = org.add_parser(
        "list",
        help="organisations on chain: id, name, category, keys",
        description="Every organisation the admin registered (GET /v1/orgs), with the "
        "height it was registered at and its keys; a revoked key is marked.",
    )
    common.add_rpc(p)
    common.add_json(p)
    p.set_defaults(handler=org_list)


def stats(args: argparse.Namespace) -> int:
    document: dict[str, Any] = common.client_of(args).get("/v1/stats")
    if args.json:
        print_json(document)
        return 0
    print_table(["figure", "count"], [[STAT_LABELS.get(k, k), v] for k, v in document.items()])
    return 0


def org_list(args: argparse.Namespace) -> int:
    orgs: list[dict[str, Any]] = common.client_of(args).get("/v1/orgs")["orgs"]
    if args.json:
        print_json(orgs)
        return 0
    rows = [
        [
            org["org_id"],
            org["name"],
            org["category"],
            org["registered_height"],
            ", ".join(
                key["key"][:16] + ("" if key["active"] else " (revoked)") for key in org["keys"]
            ),
        ]
        for org in orgs
    ]
    print_table(["org id", "name", "category", "height", "keys"], rows)
    return 0
