// Ed25519: signing with WebCrypto where the browser has it, with the vendored
// @noble/ed25519 where it does not; verifying always by the exact rule of
// docs/PROTOCOL.md section 3.
//
// Why verification does not use WebCrypto: implementations disagree on edge cases
// (non-canonical keys, small-order points, cofactored or cofactorless equations), and a
// receipt must get the same verdict in every browser as from the validators. Chromium's,
// Firefox's and Safari's WebCrypto come from three different libraries, and noble's own
// verify() uses the cofactored equation. So `verify` below runs section 3's rule itself
// on noble's curve arithmetic: S < L, A decoded with y reduced mod p, k = SHA-512(R || A
// || M) mod L, and encode([S]B - [k]A) compared with R as bytes.
//
// Why @noble/ed25519 for the fallback: one audited file with no dependencies (its
// SHA-512 comes from WebCrypto), whose deterministic RFC 8032 signatures are the same
// bytes as OpenSSL's, and whose Point arithmetic the rule above needs anyway.

import * as noble from "../vendor/noble-ed25519-3.2.0/index.js";
import { concat, equal, leToBigInt } from "./bytes.js";
import { sha512, subtle } from "./hashing.js";

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const PKCS8_SEED_PREFIX = Uint8Array.of(
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
);
const ALGORITHM = { name: "Ed25519" };

/** True if `signature` is valid for `message` under `publicKey` (PROTOCOL.md section 3). */
export async function verify(publicKey, signature, message) {
  if (publicKey.length !== 32 || signature.length !== 64) {
    return false;
  }
  const r = signature.subarray(0, 32);
  const s = leToBigInt(signature.subarray(32));
  if (s >= L) {
    return false;
  }
  let a;
  try {
    a = noble.Point.fromBytes(publicKey, true); // true: y >= p accepted, reduced mod p
  } catch {
    return false; // not a curve point
  }
  const k = leToBigInt(await sha512(concat(r, publicKey, message))) % L;
  const check = noble.Point.BASE.multiply(s, false).subtract(a.multiply(k, false));
  return equal(check.toBytes(), r);
}

let webCryptoEd25519 = null;

/** Whether this browser's WebCrypto makes Ed25519 keys (asked once). */
export async function hasWebCryptoEd25519() {
  if (webCryptoEd25519 === null) {
    try {
      await subtle().generateKey(ALGORITHM, false, ["sign", "verify"]);
      webCryptoEd25519 = true;
    } catch {
      webCryptoEd25519 = false;
    }
  }
  return webCryptoEd25519;
}

/** A key that signs: `publicKey` (32 bytes) and `sign(message)`. `kind` says how it is
 * held: "webcrypto" (a CryptoKey; non-extractable when generated here) or "noble" (the
 * 32-byte seed in memory, the fallback). */
export class Signer {
  constructor(kind, publicKey, secret) {
    this.kind = kind;
    this.publicKey = publicKey;
    this.secret = secret; // a CryptoKey, or the seed
  }

  async sign(message) {
    if (this.kind === "webcrypto") {
      return new Uint8Array(await subtle().sign(ALGORITHM, this.secret, message));
    }
    return noble.signAsync(message, this.secret);
  }
}

/** A new key: WebCrypto's, non-extractable, if the browser has Ed25519; else noble's from
 * 32 random bytes. `prefer: "noble"` forces the fallback (tests). */
export async function generateSigner({ prefer = "webcrypto" } = {}) {
  if (prefer === "webcrypto" && (await hasWebCryptoEd25519())) {
    const pair = await subtle().generateKey(ALGORITHM, false, ["sign", "verify"]);
    const publicKey = new Uint8Array(await subtle().exportKey("raw", pair.publicKey));
    return new Signer("webcrypto", publicKey, pair.privateKey);
  }
  return signerFromSeed(crypto.getRandomValues(new Uint8Array(32)), { prefer: "noble" });
}

/** The key with this 32-byte RFC 8032 seed: a gate key (a QR code's or a password's),
 * an on-site ticket, or a test's fixed key. */
export async function signerFromSeed(seed, { prefer = "webcrypto" } = {}) {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new TypeError("an Ed25519 seed is 32 bytes");
  }
  const publicKey = await noble.getPublicKeyAsync(seed);
  if (prefer === "webcrypto" && (await hasWebCryptoEd25519())) {
    const key = await subtle().importKey(
      "pkcs8",
      concat(PKCS8_SEED_PREFIX, seed),
      ALGORITHM,
      false,
      ["sign"],
    );
    return new Signer("webcrypto", publicKey, key);
  }
  return new Signer("noble", publicKey, seed.slice());
}
