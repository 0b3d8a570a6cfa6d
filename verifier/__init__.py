"""verifier: replay a votechain chain from genesis and check everything.

It imports only chain/ and votingcontract/: an auditor needs to trust this package and
docs/PROTOCOL.md, never a node. Sources (sources.py): a copy of a node's data directory,
a node's RPC over plain HTTP, or an export file (export.py). replay.py applies the rules
of PROTOCOL.md section 10 in order and stops at the first failure with its height,
object and reason; receipts.py checks a citizen's receipt without replay.
"""
