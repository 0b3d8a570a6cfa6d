"""The verifier's one error: the first thing found wrong, where, and why."""

from __future__ import annotations

from chain.errors import VotechainError


class VerificationFailure(VotechainError):
    """The chain (or receipt, or file) does not check.

    `height` is the first bad height (None when the failure is not at a height: a
    genesis mismatch, an unreadable file). `subject` names the object and `reason` says
    what is wrong with it, so that `f"{subject} {reason}"` reads as one sentence:
    "certificate for height 812" + "has 2 valid signatures, needs 3". `rule` is the
    number of the rule of docs/PROTOCOL.md section 10 (or 14 for receipts and files)
    that failed, when there is one.
    """

    def __init__(
        self, height: int | None, subject: str, reason: str, rule: int | None = None
    ) -> None:
        super().__init__(f"{subject} {reason}")
        self.height, self.subject, self.reason, self.rule = height, subject, reason, rule

    def to_dict(self) -> dict[str, object]:
        return {
            "height": self.height,
            "object": self.subject,
            "reason": self.reason,
            "rule": self.rule,
            "message": str(self),
        }
