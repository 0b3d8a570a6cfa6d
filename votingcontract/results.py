"""Results: counts, shares and participatory-budget outcomes, in integers only.

share_bps(count, total) = (count * 20_000 + total) // (2 * total), or 0 when total is 0:
count / total in basis points (1/100 of a percent), rounded half up. A question's total
is the sum of its options' counts (all selections made), so a single-choice question's
shares are shares of its ballots. Shares are shown as-is: they may sum to 99.99 or
100.01, and no option is ever adjusted to force 100.00.

Budget outcome: options ordered by count descending, ties by option index ascending;
walking that order, an option with at least one vote is funded if its cost fits in what
is left of the cap (an option that does not fit is skipped and the walk goes on).

Weighted polls: an option's count is the sum of the weights of the voters who chose it,
so shares and the budget outcome are weighted by the same formulas; each option also
gives its number of ballots, and the poll the total weight of its participants. In an
unweighted poll every weight is 1: ballots equal counts, participant_weight equals
participants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chain.state import StateView
from votingcontract import secret_polls, state_keys
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
    ballots: int
    """Ballots choosing this option; `count` is their total weight in a weighted poll."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "text": self.text,
            "count": self.count,
            "ballots": self.ballots,
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
    weighted: bool = False
    """True: each ballot counts with its voter's weight (roll entries carry weights)."""
    participant_weight: int = 0
    """The participants' total weight (equal to participants in an unweighted poll)."""
    choices: str = "public"
    """"secret": an encrypted poll, whose counts exist only once its trustees decrypt."""
    awaiting_trustees: tuple[int, int] | None = None
    """A secret poll not yet decrypted whose key has not failed: (valid partial
    decryptions, threshold)."""
    key_phase: str | None = None
    """A secret poll's key set-up: "keys", "dealings", "checks", "ready" or "failed" (a
    failed one never takes a ballot and never has counts)."""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "poll_id": self.poll_id.hex(),
            "status": self.status,
            "visible": self.visible,
            "weighted": self.weighted,
            "choices": self.choices,
            "participants": self.participants,
            "participant_weight": self.participant_weight,
            "questions": [q.to_dict() for q in self.questions],
        }
        if self.key_phase is not None:
            d["key_phase"] = self.key_phase
        if self.awaiting_trustees is not None:
            have, need = self.awaiting_trustees
            d["awaiting_trustees"] = {"partials": have, "threshold": need}
        return d


def calculate_counts(state: StateView, poll: PollRecord) -> list[list[int]]:
    """counts[q][o] from the stored tallies (weighted sums in a weighted poll)."""
    return _read_counters(state, poll, state_keys.tally_prefix(poll.poll_id))


def calculate_ballot_counts(state: StateView, poll: PollRecord) -> list[list[int]]:
    """ballots[q][o]: how many counted ballots chose each option."""
    if poll.spec.access.roll_weights is None:
        return calculate_counts(state, poll)
    return _read_counters(state, poll, state_keys.tally_ballots_prefix(poll.poll_id))


def _read_counters(state: StateView, poll: PollRecord, prefix: bytes) -> list[list[int]]:
    counts = [[0] * len(q.options) for q in poll.spec.questions]
    for key, _ in state.items(prefix):
        question, option = state_keys.parse_tally(key)
        counts[question][option] = read_count(state, key)
    return counts


def calculate_results(state: StateView, poll: PollRecord, now_ms: int) -> PollResults:
    """The poll's results as seen at `now_ms`, honouring its visibility."""
    status = poll.status(now_ms)
    visible = poll.spec.visibility == "live" or status == "closed"
    weighted = poll.spec.access.roll_weights is not None
    secret = poll.spec.secret
    key_phase = None
    if secret is not None:
        setup = secret_polls.read_setup(state, poll.poll_id)
        key_phase = None if setup is None else setup.phase
        decryption = secret_polls.read_decryption(state, poll.poll_id)
        if not decryption.counted:
            participants = read_count(state, state_keys.participants(poll.poll_id))
            awaiting = None
            never = key_phase == "failed" or (status == "closed" and key_phase != "ready")
            if not never:
                awaiting = (len(decryption.partials), secret.threshold)
            return PollResults(
                poll.poll_id,
                status,
                False,
                participants,
                (),
                weighted,
                participants,
                "secret",
                awaiting,
                key_phase,
            )
    if not visible:
        return PollResults(poll.poll_id, status, False, 0, (), weighted)
    counts = calculate_counts(state, poll)
    ballot_counts = calculate_ballot_counts(state, poll)
    questions = []
    for question, question_counts, question_ballots in zip(
        poll.spec.questions, counts, ballot_counts, strict=True
    ):
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
                question_ballots[i],
            )
            for i, option in enumerate(question.options)
        )
        questions.append(
            QuestionResult(question.text, total, options, question.budget_cap, funded, funded_cost)
        )
    participants = read_count(state, state_keys.participants(poll.poll_id))
    participant_weight = participants
    if weighted:
        participant_weight = read_count(state, state_keys.participant_weight(poll.poll_id))
    return PollResults(
        poll.poll_id,
        status,
        True,
        participants,
        tuple(questions),
        weighted,
        participant_weight,
        "public" if secret is None else "secret",
        key_phase=key_phase,
    )
