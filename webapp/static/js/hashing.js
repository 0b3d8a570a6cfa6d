// Hash domains (docs/PROTOCOL.md section 2), the browser's twin of chain/hashing.py:
// H(domain, data) = SHA-256(domain byte || data), with WebCrypto's SHA-256.
//
// WebCrypto exists only in a secure context (https://, or http://localhost): on a page
// served over plain http from another host, crypto.subtle is missing and every function
// here says so instead of failing obscurely.

import { concat } from "./bytes.js";

export const Domain = Object.freeze({
  TRANSACTION: 0x01,
  TRANSACTION_ID: 0x02,
  BLOCK_HEADER: 0x03,
  MERKLE_LEAF: 0x04,
  MERKLE_NODE: 0x05,
  COMMIT_VOTE: 0x06,
  CONSENSUS_MESSAGE: 0x07,
  WRITE_SET: 0x08,
  APP_HASH: 0x09,
  GENESIS: 0x0a,
  RECEIPT: 0x0b,
  GATE: 0x0c,
  ENROLLMENT: 0x0d,
  MERKLE_ROOT: 0x0e,
  CLIENT_REQUEST: 0x0f,
  // Ballot cryptography (section 15): the challenges of each kind of proof, the trustees'
  // share pads, and an encrypted ballot's tracking code.
  BALLOT_ZERO_ONE: 0x10,
  BALLOT_SELECTION_COUNT: 0x11,
  BALLOT_BUDGET_BIT: 0x12,
  DECRYPTION_SHARE: 0x13,
  KEY_KNOWLEDGE: 0x14,
  SHARE_PAD: 0x15,
  SHARE_KEY_REVEAL: 0x16,
  BALLOT_TRACKING: 0x17,
});

export class NoWebCrypto extends Error {
  constructor() {
    super(
      "this browser offers no WebCrypto here: open the page over https:// (or localhost) " +
        "to sign and check",
    );
    this.name = "NoWebCrypto";
  }
}

export function subtle() {
  const found = globalThis.crypto && globalThis.crypto.subtle;
  if (!found) {
    throw new NoWebCrypto();
  }
  return found;
}

export async function sha256(data) {
  return new Uint8Array(await subtle().digest("SHA-256", data));
}

export async function sha512(data) {
  return new Uint8Array(await subtle().digest("SHA-512", data));
}

export async function taggedHash(domain, data) {
  if (!Object.values(Domain).includes(domain)) {
    throw new TypeError(`unknown hash domain ${domain}`);
  }
  return sha256(concat(Uint8Array.of(domain), data));
}
