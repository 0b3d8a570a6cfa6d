"""`votechain trustee`: the commands of a secret poll's trustees (issue 16).

    trustee init --out FILE    a signing key and its secrets file (FILE's stem + .secrets.json)
    trustee setup POLL         post this trustee's next key-generation step
    trustee decrypt POLL       after close: post the partial decryption of the tally
    trustee status POLL        the key generation and decryption, trustee by trustee

docs/OPERATIONS.md "Running a trustee" says what a trustee keeps and what to do when one
is lost. The arithmetic is ballotcrypto's; what to post next is trustee_steps.py's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from chain.keyfile import load_key, save_key
from chain.keys import PrivateKey
from cli import common
from cli.client import RpcClient
from cli.ids import POLL_ID_HELP
from cli.output import print_json, print_table
from cli.trustee_state import TrusteeSecrets, draw_scalar, secrets_path_for
from cli.trustee_steps import PollCrypto, Step, Waiting, decrypt_step, next_setup_step
from cli.trustee_view import awaited_text, read_crypto, status_document
from cli.txs import chain_id_of, describe_receipt, sign, submit


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    trustee = sub.add_parser(
        "trustee", help="a secret poll's trustee: key set-up and decryption"
    ).add_subparsers(dest="trustee_command", required=True, metavar="ACTION")

    p = trustee.add_parser(
        "init",
        help="create a trustee's signing key and its secrets file",
        description="Writes FILE (an Ed25519 key, PEM, mode 0600, as `keygen` does) and "
        "FILE's stem + .secrets.json beside it (mode 0600), where `trustee setup` keeps "
        "the secrets it draws. Neither is ever overwritten. Prints the public key the "
        "organiser puts in the poll file's [secret] trustees.",
    )
    p.add_argument("--out", required=True, type=Path, help="the key file to write")
    common.add_config(p)  # accepted like every command's, though init talks to no node
    common.add_json(p)
    p.set_defaults(handler=init)

    for name, handler, text in (
        (
            "setup",
            setup,
            "post this trustee's next key step (transport key, dealing, check); rerun it "
            "until the poll's key is ready",
        ),
        ("decrypt", decrypt, "after the poll closes: post this trustee's partial decryption"),
    ):
        p = trustee.add_parser(name, help=text, description=text)
        p.add_argument("poll_id", help=POLL_ID_HELP)
        p.add_argument("--key", required=True, type=Path, help="the trustee's key file")
        p.add_argument(
            "--secrets",
            type=Path,
            help="the trustee's secrets file (default: beside --key, KEY's stem + .secrets.json)",
        )
        common.add_rpc(p)
        common.add_json(p)
        p.set_defaults(handler=handler)

    p = trustee.add_parser(
        "status", help="a secret poll's key set-up and decryption, trustee by trustee"
    )
    p.add_argument("poll_id", help=POLL_ID_HELP)
    common.add_rpc(p)
    common.add_json(p)
    p.set_defaults(handler=status)


def init(args: argparse.Namespace) -> int:
    path: Path = args.out
    secrets_path = secrets_path_for(path)
    if secrets_path.exists():  # checked first, so that no key is left without its file
        raise FileExistsError(f"{secrets_path} already exists; refusing to overwrite it")
    key = PrivateKey.generate()
    save_key(key, path)
    TrusteeSecrets.create(secrets_path, key.public_key.hex())
    document = {
        "key_file": str(path),
        "secrets_file": str(secrets_path),
        "public_key": key.public_key.hex(),
    }
    if args.json:
        print_json(document)
        return 0
    print(f"wrote {path} (signing key) and {secrets_path} (secrets; back both up)")
    print(f"public key for the poll file's [secret] trustees: {key.public_key.hex()}")
    return 0


def _trustee(args: argparse.Namespace) -> tuple[PrivateKey, TrusteeSecrets]:
    key = load_key(args.key)
    path = args.secrets or secrets_path_for(args.key)
    return key, TrusteeSecrets.load(path, key.public_key.hex())


def setup(args: argparse.Namespace) -> int:
    client = common.client_of(args)
    key, state = _trustee(args)
    crypto = read_crypto(client, args.poll_id, chain_id_of(client))
    me = crypto.index_of(key.public_key)
    step = next_setup_step(crypto, me, state, draw_scalar)
    return _post_or_wait(args, client, key, crypto, me, step)


def decrypt(args: argparse.Namespace) -> int:
    client = common.client_of(args)
    key, state = _trustee(args)
    crypto = read_crypto(client, args.poll_id, chain_id_of(client), with_tally=True)
    me = crypto.index_of(key.public_key)
    count = len(crypto.tally or ())
    with _Progress(args, "partial decryption", count) as advance:
        step = decrypt_step(crypto, me, state, draw_scalar, advance)
    return _post_or_wait(args, client, key, crypto, me, step)


def status(args: argparse.Namespace) -> int:
    client = common.client_of(args)
    crypto = read_crypto(client, args.poll_id, chain_id_of(client))
    document = status_document(crypto)
    if args.json:
        print_json(document)
        return 0
    for line in document["lines"]:
        print(line)
    print()
    print_table(
        ["trustee", "key", "transport key", "dealing", "check", "qualified", "decrypted"],
        [
            [
                t["trustee"],
                t["public_key"][:16],
                t["transport_key"],
                t["dealing"],
                t["check"],
                t["qualified"],
                t["partial"],
            ]
            for t in document["trustees"]
        ],
    )
    return 0


def _post_or_wait(
    args: argparse.Namespace,
    client: RpcClient,
    key: PrivateKey,
    crypto: PollCrypto,
    me: int,
    step: Step | Waiting,
) -> int:
    if isinstance(step, Waiting):
        document: dict[str, Any] = {
            "trustee": me,
            "posted": None,
            "waiting_for": step.what,
            "trustees": list(step.trustees),
        }
        after = crypto
        accepted = True
    else:
        with _spinner(args, f"posting the {step.summary.split(':')[0]}, waiting for commit"):
            result = submit(client, sign(key, crypto.chain_id, step.body))
        accepted = bool(result.get("receipt", {}).get("accepted"))
        document = {"trustee": me, "posted": step.summary, "result": result}
        after = read_crypto(client, crypto.poll_id.hex(), crypto.chain_id)
    document["poll"] = status_document(after)["summary"]
    if args.json:
        print_json(document)
        return 0 if accepted else 1
    if isinstance(step, Waiting):
        who = ", ".join(str(j) for j in step.trustees)
        if step.trustees:
            print(
                f"trustee {me}: nothing to post now: awaiting the {step.what} of trustee(s) {who}"
            )
        else:
            print(f"trustee {me}: nothing to post: {step.what}")
    else:
        print(f"trustee {me} posted its {step.summary}: {describe_receipt(document['result'])}")
    print(awaited_text(after))
    return 0 if accepted else 1


class _Progress:
    """A rich progress bar on stderr for a step of `total` units (none with --json or
    for a short step); the context gives a callback taking the units done."""

    def __init__(self, args: argparse.Namespace, what: str, total: int) -> None:
        self._bar: Progress | None = None
        if not args.json and total >= 32:
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._task = self._bar.add_task(what, total=total)

    def __enter__(self) -> Any:
        if self._bar is None:
            return lambda done: None
        self._bar.start()
        bar, task = self._bar, self._task
        return lambda done: bar.update(task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _spinner(args: argparse.Namespace, what: str) -> Any:
    console = Console(stderr=True, quiet=bool(args.json) or not sys.stderr.isatty())
    return console.status(what)
