// The statements a citizen's browser signs besides transactions.
//
// - Gate and ticket statements (PROTOCOL.md 11.8): a password or QR gate key, or an
//   on-site ticket key, signs one of these for the voter's key; the signature goes into
//   the ballot as password_proof, qr_proof or ticket.
// - The history request (PROTOCOL.md 14.4): the voter key signs it to read its own
//   participation history from POST /v1/history.

import { toHex } from "./bytes.js";
import { encode, expectBytes, expectInt, expectStr } from "./encoding.js";
import { Domain, taggedHash } from "./hashing.js";

export function gateStatement(chainId, pollId, voterKey) {
  return taggedHash(Domain.GATE, encode(["gate", ...subject(chainId, pollId, voterKey)]));
}

export function ticketStatement(chainId, pollId, voterKey) {
  return taggedHash(Domain.GATE, encode(["ticket", ...subject(chainId, pollId, voterKey)]));
}

function subject(chainId, pollId, voterKey) {
  return [
    expectStr(chainId, "chain_id", 64),
    expectBytes(pollId, "poll_id", 32),
    expectBytes(voterKey, "voter_key", 32),
  ];
}

/** The JSON body of POST /v1/history, signed by `signer` (the voter's key) at
 * `timestampMs` (the caller's clock: this module reads none). */
export async function historyRequest(signer, chainId, timestampMs, { from = 0, limit = 20 } = {}) {
  const statement = encode([
    "history-request",
    expectStr(chainId, "chain_id", 64),
    expectBytes(signer.publicKey, "voter_key", 32),
    expectInt(timestampMs, "timestamp_ms"),
  ]);
  const signature = await signer.sign(await taggedHash(Domain.CLIENT_REQUEST, statement));
  return {
    voter_key: toHex(signer.publicKey),
    timestamp_ms: Number(timestampMs),
    signature: toHex(signature),
    from,
    limit,
  };
}
