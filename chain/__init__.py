"""chain: votechain's data model.

Canonical encoding (encoding.py), domain-tagged hashing (hashing.py), Ed25519 keys
(keys.py), the transaction envelope (tx.py), blocks and headers (block.py), Merkle
trees (merkle.py), commit certificates and validator sets (certificate.py), genesis
(genesis.py), key-value state views and the app hash chain (state.py), and the LevelDB
block store (store.py). chain/ imports none of votechain's other packages.
"""
