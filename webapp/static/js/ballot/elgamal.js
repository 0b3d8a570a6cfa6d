// Exponential ElGamal (docs/PROTOCOL.md 15.2), the twin of ballotcrypto/elgamal.py:
//   Enc(m; r) = (alpha, beta) = (r·G, m·G + r·Y)                                 (E1)
// A ciphertext is {alpha, beta} of points here and [alpha, beta] of 32-byte encodings
// on the wire.

import {
  IDENTITY,
  MalformedCrypto,
  baseMul,
  mul,
  mulPublic,
  pointFromBytes,
  smallMultiple,
} from "./group.js";

export const ZERO = Object.freeze({ alpha: IDENTITY, beta: IDENTITY });

/** Enc(m; r) (E1); `r` is the voter's secret, uniform in [1, L). */
export function encrypt(publicKey, m, r) {
  return { alpha: baseMul(r), beta: smallMultiple(m).add(mul(r, publicKey)) };
}

/** Enc(m; 0) = (O, m·G): a public constant (a budget's cap or floor). */
export function trivial(m) {
  return { alpha: IDENTITY, beta: smallMultiple(m) };
}

export function add(a, b) {
  return { alpha: a.alpha.add(b.alpha), beta: a.beta.add(b.beta) };
}

export function sub(a, b) {
  return { alpha: a.alpha.subtract(b.alpha), beta: a.beta.subtract(b.beta) };
}

/** k·E with k public (E3). */
export function scale(k, a) {
  return { alpha: mulPublic(k, a.alpha), beta: mulPublic(k, a.beta) };
}

/** The homomorphic sum of `ciphertexts` (ZERO for none). */
export function total(ciphertexts) {
  return ciphertexts.reduce((sum, c) => add(sum, c), ZERO);
}

export function equals(a, b) {
  return a.alpha.equals(b.alpha) && a.beta.equals(b.beta);
}

export function toValue(c) {
  return [c.alpha.toBytes(), c.beta.toBytes()];
}

/** The ciphertext of an encoded [alpha, beta]; `fresh` refuses alpha = O (r = 0). */
export function decodeCiphertext(value, what, fresh = false) {
  if (!Array.isArray(value) || value.length !== 2) {
    throw new MalformedCrypto(`${what}: expected an array [alpha, beta]`);
  }
  return {
    alpha: pointFromBytes(value[0], `${what}.alpha`, !fresh),
    beta: pointFromBytes(value[1], `${what}.beta`, true),
  };
}
