"""verifier: replay a chain from genesis and check everything; trusts no node code."""
