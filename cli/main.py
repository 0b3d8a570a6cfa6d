"""The `votechain` command. Every subcommand has --help; read commands take --json;
failures exit non-zero with one line on stderr saying what went wrong, or with --json
an object {"error": code, "message": text} on stdout."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import IO, Any, NoReturn, cast

from chain.errors import VotechainError
from cli import (
    cluster_cmds,
    info_cmds,
    poll_cmds,
    recover_cmds,
    trustee_cmds,
    verify_cmds,
    voter_cmds,
)
from cli.errors import UsageError, error_code
from cli.output import fail

Command = Callable[[argparse.Namespace], int]
USAGE_EXIT = 2
"""argparse's own status for a command line it cannot parse."""


class _Parser(argparse.ArgumentParser):
    """Raises UsageError instead of exiting, so that --json can report it as JSON."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="votechain",
        description="votechain: verifiable municipal mobile voting on a PBFT chain.",
    )
    sub = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", required=True, metavar="COMMAND"),
    )
    cluster_cmds.register(sub)
    poll_cmds.register(sub)
    voter_cmds.register(sub)
    trustee_cmds.register(sub)
    verify_cmds.register(sub)
    recover_cmds.register(sub)
    info_cmds.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in arguments
    stdout = sys.stdout
    sys.stdout = _QuietPipe(stdout)
    try:
        return _run(build_parser(), arguments, as_json)
    finally:
        sys.stdout.flush()
        sys.stdout = stdout


def _run(parser: argparse.ArgumentParser, arguments: list[str], as_json: bool) -> int:
    try:
        args = parser.parse_args(arguments)
    except UsageError as exc:
        if not as_json:
            parser.print_usage(sys.stderr)
        return fail(str(exc), USAGE_EXIT, exc.code, as_json)
    handler: Command = args.handler
    as_json = bool(getattr(args, "json", False))
    try:
        return handler(args)
    except (VotechainError, ValueError, OSError) as exc:
        reason = getattr(exc, "reason", None)
        return fail(str(exc), 1, error_code(exc), as_json, {"reason": reason} if reason else None)
    except KeyboardInterrupt:
        return 130


class _QuietPipe:
    """stdout that goes quiet, without an error, once its reader has gone (`votechain
    poll list | head`): the command finishes and exits with its own status, and the
    interpreter's last flush does not fail either."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._gone = False

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                self._stream.write(text)
            except BrokenPipeError:
                self._silence()
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._silence()

    def _silence(self) -> None:
        self._gone = True
        try:
            # What is still buffered, and the interpreter's flush at exit, go nowhere.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


if __name__ == "__main__":
    sys.exit(main())
