"""A poll as people read it, for `poll create --dry-run` and `poll show`; image upload
after `poll create` and image checks for `poll show`.

Both commands print the same lines from the same dict (a create_poll body's to_dict, or
what GET /v1/polls/{id} answers), so what the dry run promises is what show prints.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cli.client import RpcClient, RpcFailure
from cli.poll_file import ImageFile
from cli.trustee_view import poll_secret_line
from votingcontract.images import EXTENSIONS, ImageRef, image_problem


def describe_poll(poll: dict[str, Any], extra_roll: int = 0) -> list[str]:
    """The poll's lines: title, dates (local and UTC), access, secrecy, questions and
    options numbered from 1. `extra_roll`: roll entries still to be added (extend_roll)."""
    status = f"{poll['status']}, " if poll.get("status") else ""
    by = poll["org_id"] if poll["kind"] == "policy" else "a citizen"
    lines = [f"{poll['title']}  [{status}{poll['kind']} poll by {by}]"]
    if poll.get("purpose"):
        lines.append(poll["purpose"])
    if poll.get("reference_url"):
        lines.append(f"reference: {poll['reference_url']}")
    lines.append(f"opens:   {when(poll['opens_at_ms'])}")
    lines.append(f"closes:  {when(poll['closes_at_ms'])}")
    if poll.get("closed_early_at_ms") is not None:
        lines.append(f"closed early: {when(poll['closed_early_at_ms'])}")
    lines.append(f"access:  {access_text(poll['access'], extra_roll)}")
    fence = poll["access"].get("geofence")
    if fence is not None:
        lines.append(
            f"area:    within {fence['radius_m']:,} m of {fence['lat_micro'] / 1e6:.6f}, "
            f"{fence['lon_micro'] / 1e6:.6f} (the voter's device claims its position)"
        )
    else:
        lines.append("area:    anywhere")
    results = (
        "shown live, while the poll is open"
        if poll["visibility"] == "live"
        else "hidden until the poll closes (ballots' choices too)"
    )
    if poll.get("secret") is not None:
        # An encrypted tally has no counts to show until its trustees decrypt it.
        results = "counted once the poll has closed and its trustees have decrypted the totals"
    lines.append(f"results: {results}")
    lines.extend(choices_lines(poll))
    lines.append(
        "revote:  allowed; only a voter's last ballot counts"
        if poll["revote"]
        else "revote:  not allowed; one ballot per phone"
    )
    for q, question in enumerate(poll["questions"], start=1):
        choose = f"choose {question['min_selections']} to {question['max_selections']}"
        if question.get("budget_cap") is not None:
            choose += f", budget {question['budget_cap']:,}"
        if question.get("min_spend_percent"):
            choose += f", spend at least {question['min_spend_percent']}% of it"
        lines.append("")
        lines.append(f"Q{q}. {question['text']} ({choose}){image_text(question)}")
        for o, option in enumerate(question["options"], start=1):
            cost = f"  (cost {option['cost']:,})" if option.get("cost") else ""
            lines.append(f"  {o}. {option['text']}{cost}{image_text(option)}")
    return lines


def choices_lines(poll: dict[str, Any]) -> list[str]:
    """Whether the choices are public or secret; for a secret poll its trustees and
    where their key set-up or decryption stands (a poll's JSON view has `phase`; a
    create_poll body, in a dry run, only the trustees)."""
    secret = poll.get("secret")
    if secret is None:
        return ["choices: public: each ballot's choices are on the chain beside its voter's key"]
    size, k = len(secret["trustees"]), secret["threshold"]
    lines = [
        f"choices: secret: ballots are encrypted on the voter's device; {k} of these {size} "
        "trustees decrypt the totals after close, never a single ballot"
    ]
    lines += [f"  trustee {j}: {key}" for j, key in enumerate(secret["trustees"], start=1)]
    if "phase" in secret:
        lines.append(f"trustees: {poll_secret_line(poll)}")
    return lines


def when(ms: int) -> str:
    """'2026-12-01 09:00 KST (+0900) = 2026-12-01 00:00 UTC' for a time in ms."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    local = moment.astimezone()
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({local:%z}) = {moment:%Y-%m-%d %H:%M} UTC"


def access_text(access: dict[str, Any], extra_roll: int = 0) -> str:
    parts = []
    for method in access["methods"]:
        if method == "roll":
            size = access.get("roll_size")
            if size is None:  # a body, not a stored poll: the lists are still in it
                size = len(access.get("roll_phone_ids", [])) + len(
                    access.get("roll_voter_keys", [])
                )
            weighted = ", weighted: each ballot counts with its voter's weight"
            if "roll_weights" not in access:
                weighted = ""
            parts.append(f"voter roll ({size + extra_roll:,} on the roll{weighted})")
        elif method == "tickets":
            issued = access.get("tickets_issued", len(access.get("ticket_keys", [])))
            parts.append(f"on-site tickets ({issued:,} issued)")
        elif method == "password":
            parts.append("password")
        elif method == "qr":
            parts.append("QR code")
        elif method == "geofence":
            parts.append("area (GPS)")
        else:
            parts.append("public: anyone enrolled may vote")
    return ", ".join(parts)


def image_text(item: dict[str, Any]) -> str:
    image = item.get("image")
    if image is None:
        return ""
    kind = EXTENSIONS.get(image["type"], image["type"]).upper()
    return f"  [image {image['sha256'][:12]}, {kind}, {image['size']:,} bytes]"


def images_of(poll: dict[str, Any]) -> list[ImageRef]:
    """Each image the poll names, once, in order."""
    found: dict[str, ImageRef] = {}
    for question in poll["questions"]:
        for item in (question, *question["options"]):
            image = item.get("image")
            if image is not None:
                found.setdefault(
                    image["sha256"],
                    ImageRef(bytes.fromhex(image["sha256"]), image["size"], image["type"]),
                )
    return list(found.values())


def upload_images(client: RpcClient, images: list[ImageFile]) -> list[dict[str, Any]]:
    """PUT each image to every node the client knows. A node that has not applied the
    poll's block yet refuses (not_found); it fetches the image from its peers when
    someone asks it, so one node that stored it is enough."""
    reports = []
    for image in images:
        stored, refused = [], []
        for url in (client.base_url, *client.fallbacks):
            node = RpcClient(url, client.timeout_s, ca_file=client.ca_file)
            try:
                node.put_bytes(f"/v1/images/{image.ref.sha256.hex()}", image.data)
                stored.append(url)
            except RpcFailure as exc:
                refused.append(f"{url}: {exc}")
        reports.append(
            {"file": str(image.path), **image.ref.to_dict(), "stored": stored, "refused": refused}
        )
    return reports


def check_images(
    client: RpcClient, poll: dict[str, Any], save_dir: Path | None
) -> list[dict[str, Any]]:
    """Fetch each image of the poll and check it against its hash, size and type (a node
    could serve anything); save the good ones as SHA256.EXT under `save_dir`."""
    reports = []
    for ref in images_of(poll):
        report: dict[str, Any] = ref.to_dict()
        try:
            data = client.get_bytes(f"/v1/images/{ref.sha256.hex()}")
        except RpcFailure as exc:
            report["problem"] = f"not served: {exc}"
            reports.append(report)
            continue
        problem = image_problem(ref, data)
        if problem is not None:
            report["problem"] = f"the node served something else: {problem}"
        elif save_dir is not None:
            save_dir.mkdir(parents=True, exist_ok=True)
            path = save_dir / f"{ref.sha256.hex()}.{EXTENSIONS[ref.type]}"
            path.write_bytes(data)
            report["saved"] = str(path)
        report["verified"] = problem is None
        reports.append(report)
    return reports


def placeholder_phone_ids(org_id: str, numbers: list[str] | Any) -> list[bytes]:
    """Stand-in phone ids for a dry run: as many as numbers, computed without the
    attester (so the roll's size shows), never submitted."""
    return [hashlib.sha256(b"dry-run:" + n.encode()).digest() for n in numbers]
