"""The event loop a node or attester process runs on: uvloop where it is installed.

uvloop (libuv under asyncio's API) runs the same code with less CPU per socket event,
which is most of what a validator does under a rush of clients (docs/OPERATIONS.md,
"Overload"). It is a dependency, but a platform without a wheel for it still runs: the
process then uses asyncio's own loop and says so in its log. VOTECHAIN_EVENT_LOOP=asyncio
chooses asyncio's loop on purpose (to compare the two, or to rule uvloop out).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

from node.config import ConfigError

log = logging.getLogger("votechain.node")

EVENT_LOOP_ENV = "VOTECHAIN_EVENT_LOOP"
"""`uvloop` (the default) or `asyncio`."""
T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to completion on uvloop if available, else on asyncio's loop."""
    choice = os.environ.get(EVENT_LOOP_ENV, "uvloop").strip().lower() or "uvloop"
    if choice not in ("uvloop", "asyncio"):
        raise ConfigError(f"{EVENT_LOOP_ENV} must be uvloop or asyncio, got {choice!r}")
    if choice == "uvloop":
        try:
            import uvloop
        except ImportError:
            log.warning("uvloop is not installed; running on asyncio's own event loop")
        else:
            log.info("event loop: uvloop")
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                return runner.run(main)
    log.info("event loop: asyncio")
    return asyncio.run(main)
