"""Results: counts, shares and participatory-budget outcomes, in integers only.

share_bps(count, total) = (count * 20_000 + total) // (2 * total), or 0 when total is 0:
count / total in basis points (1/100 of a percent), rounded half up. A question's total
is the sum of its options' counts (all selections made), so a single-choice question's
shares are shares of its ballots. Shares are shown as-is: they may sum to 99.99 or
100.01, and no option is ever adjusted to force 100.00.

Budget outcome: options ordered by count descending, ties by option index ascending;
walking that order, an option with at least one vote is funded if its cost fits in what
is left of the cap (an option that does not fit is skipped and the walk goes on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chain.state import StateView
from votingcontract import state_keys
from votingcontract.records import PollRecord, read_count


def calculate_share_bps(count: int, total: int) -> int:
    """count/total in basis points, rounded half up; 0 for an empty question."""
    if total == 0:
        return 0
    return (count * 20_000 + total) // (2 * total)


def format_bps(bps: int) -> str:
    """Basis points as a percentage with two decimals: 2386 -> "23.86"."""
    return f"{bps // 100}.{bps % 100:02d}"


def calculate_budget_outcome(
    costs: Sequence[int], counts: Sequence[int], cap: int
) -> tuple[tuple[int, ...], int]:
    """(funded option indices in ranking order, total cost funded)."""
    ranking = sorted(range(len(costs)), key=lambda i: (-counts[i], i))
    funded: list[int] = []
    spent = 0
    for index in ranking:
        if counts[index] > 0 and spent + costs[index] <= cap:
            funded.append(index)
            spent += costs[index]
    return tuple(funded), spent


@dataclass(frozen=True)
class OptionResult:
    index: int
    text: str
    count: int
    share_bps: int
    cost: int
    funded: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "text": self.text,
            "count": self.count,
            "share_bps": self.share_bps,
            "percent": format_bps(self.share_bps),
            "cost": self.cost,
            "funded": self.funded,
        }


@dataclass(frozen=True)
class QuestionResult:
    text: str
    total_selections: int
    options: tuple[OptionResult, ...]
    budget_cap: int | None
    funded: tuple[int, ...]
    """Budget questions: funded option indices in ranking order; () otherwise."""
    funded_cost: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "total_selections": self.total_selections,
            "options": [o.to_dict() for o in self.options],
            "budget_cap": self.budget_cap,
            "funded": list(self.funded),
            "funded_cost": self.funded_cost,
        }


@dataclass(frozen=True)
class PollResults:
    poll_id: bytes
    status: str
    visible: bool
    """False while an after_close poll is still open: no counts are given then."""
    participants: int
    questions: tuple[QuestionResult, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "poll_id": self.poll_id.hex(),
            "status": self.status,
            "visible": self.visible,
            "participants": self.participants,
            "questions": [q.to_dict() for q in self.questions],
        }


def calculate_counts(state: StateView, poll: PollRecord) -> list[list[int]]:
    """counts[q][o] from the stored tallies."""
    counts = [[0] * len(q.options) for q in poll.spec.questions]
    prefix = state_keys.tally_prefix(poll.poll_id)
    for key, _ in state.items(prefix):
        question, option = state_keys.parse_tally(key)
        counts[question][option] = read_count(state, key)
    return counts


def calculate_results(state: StateView, poll: PollRecord, now_ms: int) -> PollResults:
    """The poll's results as seen at `now_ms`, honouring its visibility."""
    status = poll.status(now_ms)
    visible = poll.spec.visibility == "live" or status == "closed"
    if not visible:
        return PollResults(poll.poll_id, status, False, 0, ())
    counts = calculate_counts(state, poll)
    questions = []
    for question, question_counts in zip(poll.spec.questions, counts, strict=True):
        total = sum(question_counts)
        funded: tuple[int, ...] = ()
        funded_cost = 0
        if question.budget_cap is not None:
            costs = [o.cost for o in question.options]
            funded, funded_cost = calculate_budget_outcome(
                costs, question_counts, question.budget_cap
            )
        options = tuple(
            OptionResult(
                i,
                option.text,
                question_counts[i],
                calculate_share_bps(question_counts[i], total),
                option.cost,
                i in funded,
            )
            for i, option in enumerate(question.options)
        )
        questions.append(
            QuestionResult(question.text, total, options, question.budget_cap, funded, funded_cost)
        )
    participants = read_count(state, state_keys.participants(poll.poll_id))
    return PollResults(poll.poll_id, status, True, participants, tuple(questions))
