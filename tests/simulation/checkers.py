"""Checkers that watch a simulated cluster from outside the replicas.

They see every delivery and every message an honest replica sends, and record a
violation (never raise) so that the run can print its seed and trace:

- safety: no two honest replicas deliver different blocks at the same height;
- certificates: every delivered certificate verifies (chain.certificate, independently of
  the core's own checks) for exactly that height and block;
- valid blocks: every block an honest replica delivers (and so stores) passes
  Block.validate_basic, the size limits included (issue 9: validators once committed a
  block their own store could not read back);
- no equivocation: an honest replica never signs two different pre-prepares, prepares or
  commits for one (view, height), even across crashes and restarts.

Liveness is checked by the simulation itself (cluster.py), after the network heals.
"""

from __future__ import annotations

from chain.block import Block
from chain.certificate import CommitCertificate, ValidatorSet
from chain.errors import InvalidBlock, InvalidCertificate
from consensus.messages import Commit, Message, Prepare, PrePrepare


class Checkers:
    def __init__(self, validators: ValidatorSet, chain_id: str, honest: set[int]) -> None:
        self.validators = validators
        self.chain_id = chain_id
        self.honest = honest
        self.violations: list[str] = []
        self.committed: dict[int, tuple[int, bytes]] = {}
        """height -> (first honest replica that delivered it, block hash)."""
        self._verified: set[bytes] = set()
        self._signed: dict[tuple[int, str, int, int], bytes] = {}

    def on_deliver(
        self, replica: int, block: Block, certificate: CommitCertificate, time_ms: int
    ) -> None:
        if replica not in self.honest:
            return
        height = block.height
        try:
            block.validate_basic()
        except InvalidBlock as exc:
            self.violations.append(f"t={time_ms} INVALID BLOCK: r{replica} delivered {exc}")
        first = self.committed.get(height)
        if first is None:
            self.committed[height] = (replica, block.block_hash)
        elif first[1] != block.block_hash:
            self.violations.append(
                f"t={time_ms} SAFETY: r{replica} delivered h={height} "
                f"block={block.block_hash.hex()[:8]}, r{first[0]} delivered "
                f"block={first[1].hex()[:8]}"
            )
        encoded = certificate.encode()
        if encoded in self._verified:
            return
        try:
            certificate.verify(self.validators, self.chain_id, height, block.block_hash)
        except InvalidCertificate as exc:
            self.violations.append(f"t={time_ms} CERTIFICATE: r{replica} h={height}: {exc}")
            return
        self._verified.add(encoded)

    def on_send(self, replica: int, message: Message, time_ms: int) -> None:
        if replica not in self.honest or message.replica != replica:
            return
        if not isinstance(message, PrePrepare | Prepare | Commit):
            return
        key = (replica, type(message).__name__, message.view, message.height)
        held = self._signed.setdefault(key, message.block_hash)
        if held != message.block_hash:
            self.violations.append(
                f"t={time_ms} EQUIVOCATION: r{replica} signed {type(message).__name__} "
                f"v={message.view} h={message.height} for {held.hex()[:8]} and "
                f"{message.block_hash.hex()[:8]}"
            )

    def on_invariant(self, replica: int, error: Exception, time_ms: int) -> None:
        if replica in self.honest:
            self.violations.append(f"t={time_ms} INVARIANT: r{replica}: {error}")
