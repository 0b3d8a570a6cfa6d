"""Ballot cryptography for encrypted polls (issue 16): pure functions, no I/O.

Nothing here opens a socket or a file, reads a clock or draws a random number: every
random scalar (encryption randomness, proof nonces, polynomial coefficients) is an
argument, so tests and the state machine run it deterministically and the caller (the
CLI, the browser booth, a trustee's tool) owns the randomness and its secrecy.

How the pieces fit, bottom up (each module's docstring gives its equations, numbered as
docs/PROTOCOL.md numbers them):

1. group.py: ristretto255 through libsodium; points, scalars, their 32-byte encodings.
2. elgamal.py: exponential ElGamal under the poll's joint key; homomorphic sums.
3. challenge.py, context.py: the hash to challenges, bound to chain, poll, voter, place.
4. Proofs: disjunctive.py (one of m_0..m_k) used by zero_one.py (an option is 0 or 1)
   and selection_count.py (a question's count is in [min, max]); nonnegative.py and
   budget.py (chosen costs within the cap); dleq.py (equal logarithms) used by
   decryption.py and transport.py; schnorr.py (knowledge of a key).
5. question.py: one question of an encrypted ballot, encrypted and proven, validated.
6. Trustees: vss.py (Feldman shares), transport.py (shares under a one-time pad),
   dkg.py (the dealerless k-of-n key generation, its messages), decryption.py
   (partial decryptions, their proofs, Lagrange combination, the tally); messages.py
   (their canonical bytes).
7. dlog.py: the bounded discrete logarithm that turns m·G into a count.
8. benaloh.py: the voter's "cast or audit" check.

Validators run only the verifying halves, on public values. The proving halves handle
secrets (randomness, key shares) in Python integers, which are not constant time: they
belong on the voter's or trustee's own device.
"""
