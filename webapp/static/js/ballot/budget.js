// A participatory budget's proof (docs/PROTOCOL.md 15.5): the chosen projects cost at most
// the cap and, with a minimum spend, at least the floor, each as a value proven to fit in
// n bits. The twin of ballotcrypto/nonnegative.py and budget.py; nonces in Python's order.

import { Domain } from "../hashing.js";
import * as elgamal from "./elgamal.js";
import { MalformedCrypto, inverse, mod } from "./group.js";
import {
  BIT,
  ZERO_ONE_NONCES,
  decodeDisjunctive,
  disjunctiveToValue,
  proveDisjunctive,
  verifyDisjunctive,
} from "./proofs.js";

export const MAX_BITS = 64;
export const UPPER_OFFSET = 0;
export const LOWER_OFFSET = 0x100;

function bitLength(value) {
  return value === 0n ? 0 : value.toString(2).length;
}

/** n such that every value of [0, bound] has n bits (at least 1). */
export function bitCount(bound) {
  const b = BigInt(bound);
  if (b < 0n) {
    throw new RangeError(`bound ${b} is negative`);
  }
  return Math.max(1, bitLength(b));
}

export function bitsNonceCount(bits) {
  return bits - 1 + bits * ZERO_ONE_NONCES;
}

/** A proof that D = Enc(d; rhoD) holds a value in [0, 2^bits) (N1, N2). */
export async function proveBits(context, offset, publicKey, d, rhoD, bits, nonces) {
  const value = BigInt(d);
  if (value < 0n || value >= 1n << BigInt(bits)) {
    throw new RangeError(`${value} does not fit in ${bits} bits`);
  }
  if (nonces.length !== bitsNonceCount(bits)) {
    throw new RangeError(`expected ${bitsNonceCount(bits)} nonces, got ${nonces.length}`);
  }
  const rhos = nonces.slice(0, bits - 1).map(mod);
  const partial = rhos.reduce((sum, rho, k) => sum + (rho << BigInt(k)), 0n);
  rhos.push(mod((BigInt(rhoD) - partial) * inverse(1n << BigInt(bits - 1)))); // (N1)
  const proofNonces = nonces.slice(bits - 1);
  const cts = [];
  const proofs = [];
  for (let k = 0; k < bits; k++) {
    const bit = Number((value >> BigInt(k)) & 1n);
    const ct = elgamal.encrypt(publicKey, bit, rhos[k]);
    cts.push(ct);
    proofs.push(
      await proveDisjunctive(
        Domain.BALLOT_BUDGET_BIT,
        context.at(context.question, offset + k),
        publicKey,
        ct,
        BIT,
        bit,
        rhos[k],
        proofNonces.slice(k * ZERO_ONE_NONCES, (k + 1) * ZERO_ONE_NONCES),
      ),
    );
  }
  return { bits: cts, proofs };
}

/** True if every B_k is a bit and Σ 2^k·B_k = target (N2). */
export async function verifyBits(context, offset, publicKey, target, bits, proof) {
  if (proof.bits.length !== bits || proof.proofs.length !== bits) {
    return false;
  }
  let weighted = elgamal.ZERO;
  for (let k = bits - 1; k >= 0; k--) {
    weighted = elgamal.add(elgamal.add(weighted, weighted), proof.bits[k]);
  }
  if (!elgamal.equals(weighted, target)) {
    return false;
  }
  for (let k = 0; k < bits; k++) {
    const where = context.at(context.question, offset + k);
    const [bit, bitProof] = [proof.bits[k], proof.proofs[k]];
    if (!(await verifyDisjunctive(Domain.BALLOT_BUDGET_BIT, where, publicKey, bit, BIT, bitProof))) {
      return false;
    }
  }
  return true;
}

function bitsToValue(proof) {
  return [proof.bits.map(elgamal.toValue), proof.proofs.map(disjunctiveToValue)];
}

function decodeBits(value, bits, what) {
  if (bits > MAX_BITS) {
    throw new MalformedCrypto(`${what}: ${bits} bits is more than ${MAX_BITS}`);
  }
  if (!Array.isArray(value) || value.length !== 2) {
    throw new MalformedCrypto(`${what}: expected [bit ciphertexts, bit proofs]`);
  }
  const [cts, proofs] = value;
  if (!Array.isArray(cts) || cts.length !== bits) {
    throw new MalformedCrypto(`${what}: expected ${bits} bit ciphertexts`);
  }
  if (!Array.isArray(proofs) || proofs.length !== bits) {
    throw new MalformedCrypto(`${what}: expected ${bits} bit proofs`);
  }
  return {
    bits: cts.map((ct, k) => elgamal.decodeCiphertext(ct, `${what}.bits[${k}]`)),
    proofs: proofs.map((p, k) => decodeDisjunctive(p, BIT.length, `${what}.proofs[${k}]`)),
  };
}

export function upperBits(cap) {
  return bitCount(cap);
}

/** 0 when there is no minimum spend. */
export function lowerBits(costs, floor) {
  const f = BigInt(floor);
  if (f === 0n) {
    return 0;
  }
  const spread = sumOf(costs) - f;
  return bitCount(spread > 0n ? spread : 0n);
}

export function budgetNonceCount(costs, cap, floor = 0) {
  const lower = lowerBits(costs, floor);
  return bitsNonceCount(upperBits(cap)) + (lower ? bitsNonceCount(lower) : 0);
}

/** W of (B1): Σ w_i·E_i. */
export function weightedTotal(ciphertexts, costs) {
  if (ciphertexts.length !== costs.length) {
    throw new RangeError(`${ciphertexts.length} ciphertexts for ${costs.length} costs`);
  }
  return elgamal.total(ciphertexts.map((ct, i) => elgamal.scale(BigInt(costs[i]), ct)));
}

export async function proveBudget(
  context,
  publicKey,
  selections,
  randomness,
  costs,
  cap,
  floor,
  nonces,
) {
  checkTerms(costs, cap, floor);
  const needed = budgetNonceCount(costs, cap, floor);
  if (nonces.length !== needed) {
    throw new RangeError(`expected ${needed} nonces, got ${nonces.length}`);
  }
  const spent = costs.reduce((sum, w, i) => sum + BigInt(w) * BigInt(selections[i]), 0n);
  if (spent < BigInt(floor) || spent > BigInt(cap)) {
    throw new RangeError(`the selection costs ${spent}, outside [${floor}, ${cap}]`);
  }
  const rhoW = mod(costs.reduce((sum, w, i) => sum + BigInt(w) * BigInt(randomness[i]), 0n));
  const nUpper = upperBits(cap);
  const split = bitsNonceCount(nUpper);
  const [upperNonces, lowerNonces] = [nonces.slice(0, split), nonces.slice(split)];
  const slack = BigInt(cap) - spent;
  const upper = await proveBits(context, UPPER_OFFSET, publicKey, slack, mod(-rhoW), nUpper, upperNonces);
  let lower = null;
  if (BigInt(floor) !== 0n) {
    const nLower = lowerBits(costs, floor);
    const above = spent - BigInt(floor);
    lower = await proveBits(context, LOWER_OFFSET, publicKey, above, rhoW, nLower, lowerNonces);
  }
  return { upper, lower };
}

export async function verifyBudget(context, publicKey, ciphertexts, costs, cap, floor, proof) {
  checkTerms(costs, cap, floor);
  const weighted = weightedTotal(ciphertexts, costs);
  const upperTarget = elgamal.sub(elgamal.trivial(cap), weighted); // (B2)
  const nUpper = upperBits(cap);
  if (!(await verifyBits(context, UPPER_OFFSET, publicKey, upperTarget, nUpper, proof.upper))) {
    return false;
  }
  if (BigInt(floor) === 0n) {
    return proof.lower === null;
  }
  if (proof.lower === null) {
    return false;
  }
  const lowerTarget = elgamal.sub(weighted, elgamal.trivial(floor)); // (B3)
  const nLower = lowerBits(costs, floor);
  return verifyBits(context, LOWER_OFFSET, publicKey, lowerTarget, nLower, proof.lower);
}

export function budgetToValue(proof) {
  return [bitsToValue(proof.upper), proof.lower === null ? null : bitsToValue(proof.lower)];
}

export function decodeBudget(value, costs, cap, floor, what) {
  if (!Array.isArray(value) || value.length !== 2) {
    throw new MalformedCrypto(`${what}: expected [upper, lower]`);
  }
  const upper = decodeBits(value[0], upperBits(cap), `${what}.upper`);
  if (BigInt(floor) === 0n) {
    if (value[1] !== null) {
      throw new MalformedCrypto(`${what}.lower: must be nil without a minimum spend`);
    }
    return { upper, lower: null };
  }
  return { upper, lower: decodeBits(value[1], lowerBits(costs, floor), `${what}.lower`) };
}

function sumOf(costs) {
  return costs.reduce((sum, w) => sum + BigInt(w), 0n);
}

function checkTerms(costs, cap, floor) {
  const [c, f] = [BigInt(cap), BigInt(floor)];
  if (costs.some((w) => BigInt(w) < 0n) || c < 0n || f < 0n || f > c) {
    throw new RangeError(`costs ${costs.join(", ")}, cap ${cap}, floor ${floor}: not a budget`);
  }
  if (sumOf(costs) >= 1n << BigInt(MAX_BITS)) {
    throw new RangeError("the costs add up to 2^64 or more");
  }
}
