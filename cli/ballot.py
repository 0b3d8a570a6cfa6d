"""A ballot as a voter types it (`votechain vote`): answers numbered from 1 as `poll show`
prints them, checked against the poll before anything is signed, and the poll's proofs
(ticket, QR seed, location) read with errors that say what was expected.

The chain counts questions and options from 0; this module is the one place that
translates, so every message a voter reads uses the numbers they typed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chain.keys import PrivateKey
from cli.errors import CliError

ANSWER_FORMAT = "Q:OPT[,OPT]"
ANSWER_EXAMPLE = "e.g. --answer 1:2 (question 1, option 2) or --answer 2:1,3 (two options)"
SEED_HEX_CHARS = 64
MAX_LAT, MAX_LON = 90.0, 180.0


def parse_answers(answers: Sequence[str], poll: dict[str, Any]) -> list[list[int]]:
    """["1:2", "2:1,3"] -> [[1], [0, 2]] (0-based, ascending; unanswered -> []), checked
    against the poll's questions: numbers in range, how many options each question takes,
    and a budget question's cap."""
    questions: list[dict[str, Any]] = poll["questions"]
    if not answers and any(q["min_selections"] > 0 for q in questions):
        raise CliError(
            f"no --answer given: give one per question as --answer {ANSWER_FORMAT}, "
            f"{ANSWER_EXAMPLE}; this poll has {_questions_text(questions)} "
            "(`votechain poll show POLL_ID` lists them)"
        )
    selections: list[list[int]] = [[] for _ in questions]
    answered: dict[int, str] = {}
    for answer in answers:
        question, options = _parse_answer(answer)
        if not 1 <= question <= len(questions):
            raise CliError(
                f"--answer {answer!r}: there is no question {question}; this poll has "
                f"{_questions_text(questions)}"
            )
        if question in answered:
            raise CliError(
                f"question {question} is answered twice (--answer {answered[question]!r} and "
                f"--answer {answer!r}); give all its options in one, e.g. {question}:1,2"
            )
        answered[question] = answer
        count = len(questions[question - 1]["options"])
        for option in options:
            if not 1 <= option <= count:
                raise CliError(
                    f"--answer {answer!r}: question {question} has no option {option}; its "
                    f"options are 1..{count}"
                )
        selections[question - 1] = [option - 1 for option in options]
    for index, spec in enumerate(questions):
        check_selection(index + 1, spec, selections[index])
    return selections


def check_selection(number: int, question: dict[str, Any], chosen: list[int]) -> None:
    """The state machine's rules for one question (bad_selection_count, over_budget,
    under_min_spend), said with the question's number as printed."""
    low, high = question["min_selections"], question["max_selections"]
    if not low <= len(chosen) <= high:
        takes = f"{low}" if low == high else f"{low} to {high}"
        options = "option" if high == 1 else "options"
        raise CliError(
            f"question {number} takes {takes} {options} of 1..{len(question['options'])}; "
            f"you chose {len(chosen)} (--answer {number}:N[,N])"
        )
    cap = question.get("budget_cap")
    if cap is not None:
        spent = sum(question["options"][i].get("cost", 0) for i in chosen)
        if spent > cap:
            raise CliError(
                f"question {number}: the chosen projects cost {spent}, over the budget of {cap}"
            )
        percent = question.get("min_spend_percent", 0)
        if spent * 100 < cap * percent:
            raise CliError(
                f"question {number}: the chosen projects cost {spent}; spend at least "
                f"{percent}% of the budget of {cap} (under_min_spend)"
            )


def read_ticket(text: str) -> PrivateKey:
    """An on-site ticket from its seed (a line of the poll's tickets file)."""
    return PrivateKey.from_seed(_seed(text, "ticket", "a line of the poll's tickets file"))


def read_qr_seed(text: str) -> bytes:
    return _seed(text, "QR seed", "the seed printed when the poll was created")


def read_location(lat: float | None, lon: float | None) -> dict[str, int] | None:
    """The claimed position in microdegrees, or None when neither is given."""
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise CliError(
            "give --lat and --lon together: your position in decimal degrees, e.g. "
            "--lat 37.5665 --lon 126.9780"
        )
    if not (-MAX_LAT <= lat <= MAX_LAT and -MAX_LON <= lon <= MAX_LON):
        raise CliError(
            f"--lat {lat} --lon {lon} is not a position: latitude is -90..90 and longitude "
            "-180..180 degrees"
        )
    return {"lat_micro": round(lat * 1e6), "lon_micro": round(lon * 1e6)}


def _parse_answer(answer: str) -> tuple[int, list[int]]:
    question_text, colon, options_text = answer.partition(":")
    parts = [part.strip() for part in options_text.split(",")]
    if not colon or not all(_is_number(p) for p in [question_text.strip(), *parts]):
        raise CliError(
            f"--answer {answer!r} is not {ANSWER_FORMAT} (question number, a colon, option "
            f"numbers separated by commas), {ANSWER_EXAMPLE}"
        )
    return int(question_text), sorted({int(p) for p in parts})


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 6


def _seed(text: str, what: str, where: str) -> bytes:
    cleaned = text.strip().lower()
    if len(cleaned) != SEED_HEX_CHARS or not all(c in "0123456789abcdef" for c in cleaned):
        # Only the start is echoed: a ticket seed is a secret, and this may be a typo of one.
        raise CliError(
            f"not a {what}: expected {SEED_HEX_CHARS} hex characters ({where}), got "
            f"{len(cleaned)} characters starting {cleaned[:8]!r}"
        )
    return bytes.fromhex(cleaned)


def _questions_text(questions: list[dict[str, Any]]) -> str:
    parts = [f"Q{n} options 1..{len(q['options'])}" for n, q in enumerate(questions, start=1)]
    return (
        f"{len(questions)} question{'s' if len(questions) != 1 else ''} (" + ", ".join(parts) + ")"
    )
