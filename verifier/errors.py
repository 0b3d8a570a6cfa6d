"""The verifier's one error: the first thing found wrong, where, and why."""

from __future__ import annotations

from chain.errors import VotechainError


class VerificationFailure(VotechainError):
    """The chain (or receipt) does not check. `height` is the first bad height, or None."""

    def __init__(self, height: int | None, subject: str, reason: str) -> None:
        where = f"height {height}: " if height is not None else ""
        super().__init__(f"{where}{subject}: {reason}")
        self.height, self.subject, self.reason = height, subject, reason

    def to_dict(self) -> dict[str, object]:
        return {"height": self.height, "object": self.subject, "reason": self.reason}
