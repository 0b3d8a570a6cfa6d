"""State transfer: knowing when this replica is behind, and checking fetched blocks.

Castro & Liskov let a replica that falls behind fetch state from others (TOCS'02 section
6.2). Here the state is the chain itself: a replica fetches committed blocks with their
commit certificates, and checks each one before delivering it. It learns it is behind
from two kinds of evidence:

- f + 1 peers showed, by validly signed messages, that they committed a higher height
  (so at least one correct replica did): a PrePrepare, Prepare or Commit for h shows
  h - 1, a Checkpoint for c shows c, a ViewChange shows its certificate's height;
- a valid commit certificate for a higher height.

The replica asks once the evidence has lasted `state_transfer_delay_ticks` (ordinary
commits usually arrive first), then again every `fetch_timeout_ticks` if nothing came,
each time starting with a different peer.
"""

from __future__ import annotations

from chain.block import Block
from chain.certificate import CommitCertificate
from chain.errors import VotechainError
from consensus.effects import FetchBlocks
from consensus.messages import Checkpoint, Commit, Message, Prepare, PrePrepare, ViewChange
from consensus.signatures import SignatureVerifier
from consensus.types import Height, ReplicaConfig, ReplicaId


class BehindDetector:
    """Tracks how far peers have shown they are, and when to ask them for blocks."""

    def __init__(self, config: ReplicaConfig) -> None:
        self.config = config
        self.peer_heights: dict[ReplicaId, Height] = {}
        self.highest_certified = Height(0)
        self.fetches = 0
        self._behind_ticks = 0
        self._wait_ticks = 0

    def note_message(self, message: Message) -> None:
        """Record how far a signed message shows its sender has committed."""
        match message:
            case PrePrepare() | Prepare() | Commit():
                height = Height(message.height - 1)
            case Checkpoint():
                height = message.height
            case ViewChange():
                height = message.committed_height
            case _:
                return
        if height > self.peer_heights.get(message.replica, 0):
            self.peer_heights[message.replica] = height

    def note_certificate(self, height: int) -> None:
        self.highest_certified = max(self.highest_certified, Height(height))

    def target(self) -> Height:
        """The highest height known to be committed by some correct replica."""
        heights = sorted(self.peer_heights.values(), reverse=True)
        f = self.config.max_faulty
        shown = heights[f] if len(heights) > f else Height(0)
        return max(shown, self.highest_certified)

    def progressed(self) -> None:
        """A block was delivered: the evidence must last a while again before fetching."""
        self._behind_ticks = 0

    def answered(self) -> None:
        """A fetch reply came: a new request may go out at once if still behind."""
        self._wait_ticks = 0

    def tick(self, committed_height: Height) -> FetchBlocks | None:
        """One tick: the FetchBlocks to emit now, if any."""
        target = self.target()
        if target <= committed_height:
            self._behind_ticks = 0
            self._wait_ticks = 0
            return None
        self._behind_ticks += 1
        if self._wait_ticks > 0:
            self._wait_ticks -= 1
            return None
        if self._behind_ticks < self.config.state_transfer_delay_ticks:
            return None
        ahead = sorted(
            (r for r, h in self.peer_heights.items() if h > committed_height),
            key=lambda r: (-self.peer_heights[r], r),
        )
        me = self.config.replica_id
        peers = ahead or [ReplicaId(r) for r in range(self.config.size) if r != me]
        turn = self.fetches % len(peers)
        self.fetches += 1
        self._wait_ticks = self.config.fetch_timeout_ticks
        return FetchBlocks(Height(committed_height + 1), target, tuple(peers[turn:] + peers[:turn]))


def check_fetched_block(
    block: Block,
    certificate: CommitCertificate,
    config: ReplicaConfig,
    verifier: SignatureVerifier,
    committed_height: int,
    committed_hash: bytes,
    committed_timestamp_ms: int,
) -> str | None:
    """Why a fetched block may not be delivered next, or None (PROTOCOL.md 12.7).

    The Application is not asked: it can judge a block only once the previous one is
    executed, and the certificate shows that a quorum (so at least f + 1 correct replicas)
    accepted this one.
    """
    header = block.header
    if header.height != committed_height + 1:
        return f"height {header.height}, expected {committed_height + 1}"
    if header.chain_id != config.chain_id:
        return "another chain"
    if header.prev_hash != committed_hash:
        return "does not link"
    if header.timestamp_ms <= committed_timestamp_ms:
        return "timestamp not later than the parent's"
    try:
        block.validate_basic()
    except VotechainError as exc:
        return str(exc)
    return verifier.check_certificate(certificate, block.height, block.block_hash)
