"""What the pages show of polls, read from state through votingcontract's queries (the
ones the JSON RPC uses), with no language in it: the templates word it.

Everything here is a function of a StateView and `now_ms` (the node's latest block
time, as the RPC judges a poll's status); it runs in the node's read pool.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import votingcontract
from chain.state import StateView
from votingcontract import limits
from votingcontract.poll_spec import POLL_KINDS
from votingcontract.queries import POLL_STATUSES, poll_document
from votingcontract.records import PollRecord
from votingcontract.results import PollResults

SHORT_ID_CHARS = 12
"""A poll's short link is /p/ and this many hex characters of its id: 48 bits, so two
polls share one only by rare chance, and then the link lists both (`find_poll`)."""
MAX_PREFIX_MATCHES = 10
"""Polls a prefix page lists when the prefix matches several."""
MAX_SEARCH_CHARS = 100
PAGE_POLLS = 30
STATUS_ORDER = ("open", "upcoming", "closed")
"""The list shows open polls first: what a citizen can still vote in."""
HEX_DIGITS = frozenset("0123456789abcdef")


class BadFilter(ValueError):
    """A list filter that is not one the page offers; `field` is its query name."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


@dataclass(frozen=True)
class PollFilter:
    """The list page's filters, as typed in its form (each optional)."""

    search: str = ""
    status: str = ""
    kind: str = ""
    org_id: str = ""

    @classmethod
    def parse(cls, search: str, status: str, kind: str, org_id: str) -> PollFilter:
        if len(search) > MAX_SEARCH_CHARS:
            raise BadFilter("q")
        if status and status not in POLL_STATUSES:
            raise BadFilter("status")
        if kind and kind not in POLL_KINDS:
            raise BadFilter("kind")
        if org_id and not (
            len(org_id) <= limits.MAX_ORG_ID_LENGTH and set(org_id) <= limits.ORG_ID_ALPHABET
        ):
            raise BadFilter("org")
        return cls(search.strip(), status, kind, org_id)


@dataclass(frozen=True)
class PollSummary:
    """A poll as a line of the list and the head of its page."""

    poll: PollRecord
    status: str
    organiser: str | None
    """The running organisation's name for a policy poll; None for a citizen's poll."""
    participants: int | None
    """None while the poll's visibility hides its results (counts are results)."""

    @property
    def poll_id(self) -> str:
        return self.poll.poll_id.hex()

    @property
    def short_id(self) -> str:
        return self.poll_id[:SHORT_ID_CHARS]

    @property
    def access(self) -> list[str]:
        return self.poll.spec.access.methods()


@dataclass(frozen=True)
class PollPage:
    """One poll with its results as its visibility allows at now_ms."""

    summary: PollSummary
    results: PollResults
    roll_size: int | None
    tickets_issued: int | None


@dataclass(frozen=True)
class PollList:
    polls: tuple[PollSummary, ...]
    total: int
    start: int
    next_start: int | None


def list_polls(state: StateView, now_ms: int, chosen: PollFilter, start: int) -> PollList:
    """The polls matching `chosen`, open ones first then upcoming then closed, each
    group newest first; PAGE_POLLS of them from `start`."""
    found = votingcontract.list_polls(
        state,
        now_ms=now_ms,
        status=chosen.status or None,
        org_id=chosen.org_id or None,
        kind=chosen.kind or None,
    )
    wanted = _searchable(chosen.search)
    if wanted:
        found = [p for p in found if wanted in _searchable(p.spec.title)]
    order = {status: i for i, status in enumerate(STATUS_ORDER)}
    found.sort(key=lambda p: order[p.status(now_ms)])  # stable: newest first within a group
    names = org_names(state)
    page = found[start : start + PAGE_POLLS]
    stop = start + len(page)
    return PollList(
        tuple(summarise(state, p, now_ms, names) for p in page),
        len(found),
        start,
        stop if stop < len(found) else None,
    )


def summarise(
    state: StateView, poll: PollRecord, now_ms: int, names: dict[str, str]
) -> PollSummary:
    results = votingcontract.results(state, poll.poll_id, now_ms)
    visible = results is not None and results.visible
    if results is not None and results.choices == "secret":
        # Who took part is public in a secret poll (only the choices are not), so the
        # count shows whenever its visibility would show results.
        visible = poll.spec.visibility == "live" or poll.status(now_ms) == "closed"
    return PollSummary(
        poll,
        poll.status(now_ms),
        names.get(poll.spec.org_id, poll.spec.org_id) if poll.spec.kind == "policy" else None,
        results.participants if visible and results is not None else None,
    )


def poll_page(state: StateView, poll: PollRecord, now_ms: int) -> PollPage:
    results = votingcontract.results(state, poll.poll_id, now_ms)
    assert results is not None  # the poll was just read from the same state
    document = poll_document(state, poll, now_ms)["access"]
    return PollPage(
        summarise(state, poll, now_ms, org_names(state)),
        results,
        document.get("roll_size"),
        document.get("tickets_issued"),
    )


def find_poll(state: StateView, typed: str) -> list[PollRecord]:
    """The polls whose id starts with `typed` (lower-case hex, 1 to 64 characters),
    newest first: one for a good link, none or several (at most MAX_PREFIX_MATCHES
    listed) otherwise. Reads only those polls (GET /v1/polls?prefix= reads the same)."""
    return votingcontract.list_polls(state, now_ms=0, id_prefix=typed)[:MAX_PREFIX_MATCHES]


def _searchable(text: str) -> str:
    """Text as compared by the search: NFC (a phone may type Hangul decomposed) and
    case-folded."""
    return unicodedata.normalize("NFC", text).casefold()


def is_poll_prefix(text: str) -> bool:
    return 0 < len(text) <= 64 and set(text) <= HEX_DIGITS


def org_names(state: StateView) -> dict[str, str]:
    return {org.org_id: org.name for org in votingcontract.list_orgs(state)}
