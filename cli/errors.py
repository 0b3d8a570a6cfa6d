"""The CLI's own refusals and the code each failure carries in a --json error object."""

from __future__ import annotations

from chain.errors import KeyFileError, VotechainError
from cli.client import RpcFailure
from node.config import ConfigError

BAD_INPUT = "bad_input"
"""An option or argument the CLI refuses before anything is sent."""
BAD_CONFIG = "bad_config"
FILE_ERROR = "file_error"
BAD_KEY_FILE = "bad_key_file"
USAGE = "usage"
"""argparse's refusal: an unknown option, a missing argument."""
ERROR = "error"


class CliError(VotechainError):
    """A refusal by the CLI itself, with its --json code (bad_input, unknown_id, ...)."""

    def __init__(self, message: str, code: str = BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


class UsageError(CliError):
    """argparse's complaint, raised instead of argparse's exit so --json can report it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, USAGE)


def error_code(exc: BaseException) -> str:
    """The `error` of the --json object for a failure: the node's own code for an RPC
    answer (not_found, refused, busy, ... as docs/OPERATIONS.md "Client RPC" lists them,
    or unreachable), else what kind of input was wrong."""
    if isinstance(exc, CliError | RpcFailure):
        return exc.code
    if isinstance(exc, ConfigError):
        return BAD_CONFIG
    if isinstance(exc, KeyFileError):
        return BAD_KEY_FILE
    if isinstance(exc, ValueError):
        return BAD_INPUT
    if isinstance(exc, OSError):
        return FILE_ERROR
    return ERROR
