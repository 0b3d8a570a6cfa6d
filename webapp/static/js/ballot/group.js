// The group of encrypted ballots (docs/PROTOCOL.md 15.1): ristretto255 from the vendored
// @noble/curves, scalars as BigInt modulo L. The browser's twin of ballotcrypto/group.py.
//
// Points are noble's RistrettoPoint objects inside these modules and 32-byte canonical
// encodings outside them. Scalar multiplications by a secret (the voter's randomness,
// a proof's nonces) use noble's constant-time `multiply`; those by public values (what
// a verifier computes) its faster `multiplyUnsafe`. BigInt arithmetic modulo L is not
// constant time, as in Python's prover: the secrets live only on the voter's device.

import { ristretto255 } from "../../vendor/noble-curves-2.4.0/ed25519.js";
import { leToBigInt, toHex } from "../bytes.js";

export const RistrettoPoint = ristretto255.Point;
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;
export const POINT_SIZE = 32;
export const SCALAR_SIZE = 32;
export const IDENTITY = RistrettoPoint.ZERO;
export const GENERATOR = RistrettoPoint.BASE;

/** Bytes that are not a canonical point, scalar or message of 15.x (Python's MalformedCrypto). */
export class MalformedCrypto extends Error {
  constructor(message) {
    super(message);
    this.name = "MalformedCrypto";
  }
}

export function mod(k) {
  const r = BigInt(k) % L;
  return r < 0n ? r + L : r;
}

/** The point `data` encodes (15.1), or MalformedCrypto naming `what`. */
export function pointFromBytes(data, what, allowIdentity = false) {
  if (!(data instanceof Uint8Array)) {
    throw new MalformedCrypto(`${what}: expected bytes`);
  }
  if (data.length !== POINT_SIZE) {
    throw new MalformedCrypto(`${what}: expected ${POINT_SIZE} bytes, got ${data.length}`);
  }
  let point;
  try {
    point = RistrettoPoint.fromBytes(data);
  } catch {
    throw new MalformedCrypto(`${what}: not a canonical ristretto255 encoding`);
  }
  if (!allowIdentity && point.equals(IDENTITY)) {
    throw new MalformedCrypto(`${what}: the identity element is not allowed here`);
  }
  return point;
}

export function pointToBytes(point) {
  return point.toBytes();
}

export function pointHex(point) {
  return toHex(point.toBytes());
}

/** The scalar `data` encodes (32 bytes little-endian, below L), or MalformedCrypto. */
export function scalarFromBytes(data, what) {
  if (!(data instanceof Uint8Array)) {
    throw new MalformedCrypto(`${what}: expected bytes`);
  }
  if (data.length !== SCALAR_SIZE) {
    throw new MalformedCrypto(`${what}: expected ${SCALAR_SIZE} bytes, got ${data.length}`);
  }
  const value = leToBigInt(data);
  if (value >= L) {
    throw new MalformedCrypto(`${what}: scalar is not below the group order`);
  }
  return value;
}

export function scalarToBytes(value) {
  if (typeof value !== "bigint" || value < 0n || value >= L) {
    throw new RangeError("scalar outside [0, L)");
  }
  const out = new Uint8Array(SCALAR_SIZE);
  let rest = value;
  for (let i = 0; i < SCALAR_SIZE; i++) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

/** k·P with k secret (constant time); k ≡ 0 or P = O gives O, as group.py's `mul`. */
export function mul(k, point) {
  const scalar = mod(k);
  return scalar === 0n || point.equals(IDENTITY) ? IDENTITY : point.multiply(scalar);
}

/** k·P with k and P public (a verifier's work). */
export function mulPublic(k, point) {
  return point.multiplyUnsafe(mod(k));
}

export function baseMul(k) {
  return mul(k, GENERATOR);
}

const small = new Map();

/** m·G for the small plaintexts of ballots (0, 1, counts, costs), kept once computed. */
export function smallMultiple(m) {
  const key = BigInt(m);
  let point = small.get(key);
  if (point === undefined) {
    point = mulPublic(key, GENERATOR);
    if (small.size < 4096) {
      small.set(key, point);
    }
  }
  return point;
}

export function inverse(k) {
  let [a, b, x, y] = [mod(k), L, 1n, 0n];
  if (a === 0n) {
    throw new RangeError("0 has no inverse modulo L");
  }
  while (b !== 0n) {
    const q = a / b;
    [a, b, x, y] = [b, a - q * b, y, x - q * y];
  }
  return mod(x);
}

/**
 * A uniform secret scalar in [1, L): 64 random bytes reduced modulo L (a bias below
 * 2^-250), drawn again in the negligible case of 0.
 */
export function randomScalar() {
  for (;;) {
    const bytes = globalThis.crypto.getRandomValues(new Uint8Array(64));
    const value = leToBigInt(bytes) % L;
    if (value !== 0n) {
      return value;
    }
  }
}

export function randomScalars(count) {
  return Array.from({ length: count }, () => randomScalar());
}
