"""A poll's results as people read them: one table per question, the same in `poll results`
and `verify` (both print the document of votingcontract.results, PollResults.to_dict)."""

from __future__ import annotations

from typing import Any

from cli.output import bar, print_table

WEIGHTED_NOTE = "weighted: each ballot counts with its voter's weight"


def participants_text(results: dict[str, Any]) -> str:
    """The participants line: "participants: 12", and for a weighted poll their weight."""
    text = f"participants: {results['participants']}"
    if results.get("weighted"):
        text += f" (total weight {results['participant_weight']:,}; {WEIGHTED_NOTE})"
    return text


def choices_line(results: dict[str, Any]) -> str:
    """Whether the choices are public; a secret poll's totals decrypted by its trustees,
    or what they still owe."""
    if results.get("choices") != "secret":
        return "choices: public: each ballot's choices are on the chain"
    if results.get("key_phase") == "failed":
        return (
            "choices: secret; the trustees' key set-up failed: this poll takes no ballot and "
            "will have no totals (create it again with trustees who can all take part)"
        )
    if results.get("key_phase") not in (None, "ready") and results["status"] == "closed":
        return (
            "choices: secret; the poll closed before its trustees had made its key: it took "
            "no ballot and will have no totals"
        )
    awaiting = results.get("awaiting_trustees")
    if awaiting is None:
        return "choices: secret; these totals were decrypted by the poll's trustees"
    have, need = awaiting["partials"], awaiting["threshold"]
    if results["status"] != "closed":
        return (
            f"choices: secret; the totals are encrypted until the poll closes and {need} "
            "trustees decrypt them"
        )
    return (
        f"choices: secret; awaiting trustees ({have} of {need}): the totals appear once {need} "
        "trustees have posted their partial decryption (`votechain trustee status`)"
    )


def print_questions(results: dict[str, Any], indent: str = "") -> None:
    """Each question's table (votes, share, and for a weighted poll the ballots behind
    the votes) and, for a participatory budget, what is funded."""
    weighted = bool(results.get("weighted"))
    headers = ["option", "votes", "ballots", "share", ""] if weighted else None
    for q_index, question in enumerate(results["questions"]):
        print(f"\n{indent}Q{q_index + 1}. {question['text']}")
        rows = [_row(option, weighted) for option in question["options"]]
        print_table(headers or ["option", "votes", "share", ""], rows)
        if question["budget_cap"] is not None:
            names = [question["options"][i]["text"] for i in question["funded"]]
            print(
                f"{indent}funded within the budget of {question['budget_cap']}: "
                f"{', '.join(names) or 'none'} (total cost {question['funded_cost']})"
            )


def _row(option: dict[str, Any], weighted: bool) -> list[Any]:
    share = option["percent"] + "%"
    if weighted:
        return [option["text"], option["count"], option["ballots"], share, bar(option["share_bps"])]
    return [option["text"], option["count"], share, bar(option["share_bps"])]
