// Transactions (docs/PROTOCOL.md section 4), the browser's twin of chain/tx.py:
//
//     envelope    = [version = 1, chain_id, kind, signer, nonce, body]
//     transaction = [...envelope, signature]
//     sign bytes  = H(TRANSACTION, encode(envelope))
//     tx_id       = H(TRANSACTION_ID, encode(transaction))

import {
  DecodeError,
  decode,
  encode,
  expectBytes,
  expectInt,
  expectList,
  expectStr,
} from "./encoding.js";
import { Domain, taggedHash } from "./hashing.js";

export const TX_VERSION = 1;
export const MAX_TX_BYTES = 65536;
export const MAX_KIND_LENGTH = 32;
export const MAX_CHAIN_ID_LENGTH = 64;
const U64_MAX = (1n << 64n) - 1n;

/** Sign `body` (a kind's canonical bytes, see bodies.js) as a transaction of `kind`.
 * Returns {bytes, txId, signBytes}: `bytes` is what POST /v1/tx takes (as hex). */
export async function signTransaction(signer, chainId, kind, body, nonce) {
  const envelope = [
    TX_VERSION,
    expectStr(chainId, "transaction.chain_id", MAX_CHAIN_ID_LENGTH),
    checkKind(kind),
    expectBytes(signer.publicKey, "transaction.signer", 32),
    expectInt(nonce, "transaction.nonce"),
    expectBytes(body, "transaction.body", null, MAX_TX_BYTES),
  ];
  const signBytes = await taggedHash(Domain.TRANSACTION, encode(envelope));
  const signature = await signer.sign(signBytes);
  const bytes = encode([...envelope, signature]);
  if (bytes.length > MAX_TX_BYTES) {
    throw new DecodeError(`transaction is ${bytes.length} bytes, the limit is ${MAX_TX_BYTES}`);
  }
  return { bytes, txId: await txIdOf(bytes), signBytes };
}

/** A fresh nonce below 2^63, as the CLI picks one (secrets.randbits(63)). */
export function randomNonce() {
  const [high, low] = crypto.getRandomValues(new Uint32Array(2));
  return (BigInt(high & 0x7fffffff) << 32n) | BigInt(low);
}

/** The fields of an encoded transaction, checked as chain/tx.py decodes them. */
export function decodeTransaction(bytes) {
  if (bytes.length > MAX_TX_BYTES) {
    throw new DecodeError(`transaction is ${bytes.length} bytes, the limit is ${MAX_TX_BYTES}`);
  }
  const f = expectList(decode(bytes), 7, "transaction");
  const version = expectInt(f[0], "transaction.version");
  const tx = {
    version,
    chainId: expectStr(f[1], "transaction.chain_id", MAX_CHAIN_ID_LENGTH),
    kind: expectStr(f[2], "transaction.kind", MAX_KIND_LENGTH),
    signer: expectBytes(f[3], "transaction.signer", 32),
    nonce: expectInt(f[4], "transaction.nonce", 0, U64_MAX),
    body: expectBytes(f[5], "transaction.body", null, MAX_TX_BYTES),
    signature: expectBytes(f[6], "transaction.signature", 64),
    bytes,
  };
  if (version !== TX_VERSION) {
    throw new DecodeError(`transaction.version: unknown version ${version}`);
  }
  if (!isAsciiName(tx.kind)) {
    throw new DecodeError(`transaction.kind: "${tx.kind}" is not a non-empty ASCII name`);
  }
  return tx;
}

export function txIdOf(bytes) {
  return taggedHash(Domain.TRANSACTION_ID, bytes);
}

/** What the signer of a decoded transaction signed. */
export function signBytesOf(tx) {
  const envelope = [tx.version, tx.chainId, tx.kind, tx.signer, tx.nonce, tx.body];
  return taggedHash(Domain.TRANSACTION, encode(envelope));
}

function checkKind(kind) {
  expectStr(kind, "transaction.kind", MAX_KIND_LENGTH);
  if (!isAsciiName(kind)) {
    throw new DecodeError(`transaction.kind: "${kind}" is not a non-empty ASCII name`);
  }
  return kind;
}

function isAsciiName(text) {
  return text.length > 0 && /^[\x00-\x7f]*$/.test(text);
}
