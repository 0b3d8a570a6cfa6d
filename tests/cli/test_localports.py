"""The ports test clusters take: outside the kernel's ephemeral range, never twice, and
each xdist worker in its own slice; and why a started process stopped."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from cli import localports
from cli.runner import last_line


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setattr(localports, "_PORTS", None)
    return monkeypatch


def test_ports_are_distinct_and_below_the_ephemeral_range(fresh: pytest.MonkeyPatch) -> None:
    ports = [localports.free_port() for _ in range(200)]
    assert len(set(ports)) == 200
    assert all(localports.LOWEST_PORT <= p < localports._ephemeral_low() for p in ports)


def test_a_port_someone_listens_on_is_skipped(fresh: pytest.MonkeyPatch) -> None:
    ports = localports._Ports()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        ports.ports = range(taken, taken + 2)
        ports.next = 0
        assert ports.take() == taken + 1


def test_xdist_workers_draw_from_disjoint_slices(fresh: pytest.MonkeyPatch) -> None:
    fresh.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    fresh.setenv("PYTEST_XDIST_WORKER", "gw0")
    first = localports._slice()
    fresh.setenv("PYTEST_XDIST_WORKER", "gw1")
    second = localports._slice()
    assert first.stop <= second.start
    assert len(first) > 5_000 and len(second) > 5_000


def test_when_every_port_was_handed_out_the_earliest_are_used_again(
    fresh: pytest.MonkeyPatch,
) -> None:
    ports = localports._Ports()
    ports.ports = range(ports.ports.start, ports.ports.start + 3)
    ports.next = 0
    taken = [ports.take() for _ in range(3)]
    assert ports.take() in taken


def test_a_process_that_stopped_is_explained_by_its_error_line_not_asyncio_s_last_words(
    tmp_path: Path,
) -> None:
    log = tmp_path / "attester.log"
    log.write_text(
        "INFO event loop: uvloop\nerror: [Errno 98] address already in use\n"
        "ERROR Unclosed client session\nclient_session: <aiohttp.ClientSession>\n"
    )
    assert last_line(log) == "error: [Errno 98] address already in use"
    log.write_text("INFO serving\nKilled\n")
    assert last_line(log) == "Killed"
    assert last_line(tmp_path / "missing.log") == "no log"
