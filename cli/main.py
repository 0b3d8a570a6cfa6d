"""The `votechain` command. Every subcommand has --help; read commands take --json;
failures exit non-zero with one line on stderr saying what went wrong."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from chain.errors import VotechainError
from cli import cluster_cmds, poll_cmds, recover_cmds, verify_cmds, voter_cmds
from cli.output import fail

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="votechain",
        description="votechain: verifiable municipal mobile voting on a PBFT chain.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cluster_cmds.register(sub)
    poll_cmds.register(sub)
    voter_cmds.register(sub)
    verify_cmds.register(sub)
    recover_cmds.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except (VotechainError, ValueError, OSError) as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
