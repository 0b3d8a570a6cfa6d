// Gate keys and the proofs a ballot carries (docs/PROTOCOL.md 11.8), the browser's twin
// of votingcontract/identity.py: a password poll's gate key is the Ed25519 key whose seed
// is scrypt(NFC(password), the poll's salt); a QR poll's is the key whose seed is the 32
// bytes in the QR code; an on-site ticket is a key too. Each signs the gate (or ticket)
// statement for the voter's key, and the signature goes into cast_ballot.

import { scryptAsync } from "../vendor/noble-hashes-2.4.0/scrypt.js";
import { signerFromSeed } from "./ed25519.js";
import { SALT_SIZE } from "./limits.js";
import { gateStatement, ticketStatement } from "./statements.js";

/** scrypt's cost, as identity.py's SCRYPT_N, SCRYPT_R, SCRYPT_P (a test compares them). */
export const SCRYPT = Object.freeze({ N: 2 ** 14, r: 8, p: 1, dkLen: 32 });

/** The gate key of a password poll (`salt`: the poll's 16 bytes, access.password_salt).
 * scrypt takes a moment and 16 MiB on purpose: guessing passwords should cost as much. */
export async function passwordGateKey(password, salt, options = {}) {
  if (typeof password !== "string" || password === "") {
    throw new TypeError("the poll password is empty");
  }
  if (!password.isWellFormed()) {
    throw new TypeError("the poll password holds a lone surrogate");
  }
  if (!(salt instanceof Uint8Array) || salt.length !== SALT_SIZE) {
    throw new TypeError(`the poll's password salt is ${SALT_SIZE} bytes`);
  }
  const secret = new TextEncoder().encode(password.normalize("NFC"));
  const seed = await scryptAsync(secret, salt, SCRYPT);
  return signerFromSeed(seed, options);
}

/** The proof for a password or QR poll: the gate key's signature of the gate statement. */
export async function gateProof(gateKey, chainId, pollId, voterKey) {
  return gateKey.sign(await gateStatement(chainId, pollId, voterKey));
}

/** The signature of an on-site ticket for this voter's ballot. */
export async function ticketProof(ticketKey, chainId, pollId, voterKey) {
  return ticketKey.sign(await ticketStatement(chainId, pollId, voterKey));
}
