// The hash to challenges (docs/PROTOCOL.md 15.3) and the disjunctive proof (15.4) with its
// two uses on a ballot: an option is 0 or 1, a question's count is within [min, max].
// The twin of ballotcrypto/challenge.py, context.py, disjunctive.py, zero_one.py and
// selection_count.py; the prover's nonces are arguments, consumed in Python's order, so
// the same nonces give the same bytes as Python.

import { encode } from "../encoding.js";
import { Domain, taggedHash } from "../hashing.js";
import { leToBigInt } from "../bytes.js";
import * as elgamal from "./elgamal.js";
import {
  GENERATOR,
  L,
  MalformedCrypto,
  baseMul,
  mod,
  mul,
  mulPublic,
  scalarFromBytes,
  scalarToBytes,
  smallMultiple,
} from "./group.js";

/** The `option` of a proof about a whole question (its count, its budget). */
export const NO_OPTION = 0xffff;

/** Where a voter's proof belongs: [chain_id, poll_id, voter_key, question, option]. */
export class BallotContext {
  constructor(chainId, pollId, voterKey, question, option = NO_OPTION) {
    Object.assign(this, { chainId, pollId, voterKey, question, option });
    Object.freeze(this);
  }

  at(question, option = NO_OPTION) {
    return new BallotContext(this.chainId, this.pollId, this.voterKey, question, option);
  }

  fields() {
    return [this.chainId, this.pollId, this.voterKey, this.question, this.option];
  }
}

/** c = int_le(H(domain, encode([context, statement, commitments]))) mod L (15.3). */
export async function challenge(domain, context, statement, commitments) {
  const data = encode([context.fields(), statement, commitments.map((p) => p.toBytes())]);
  return leToBigInt(await taggedHash(domain, data)) % L;
}

export function disjunctiveNonceCount(values) {
  return 2 * values.length - 1;
}

/** A proof that `ciphertext` = Enc(values[trueIndex]; r) is one of `values` (15.4). */
export async function proveDisjunctive(
  domain,
  context,
  publicKey,
  ciphertext,
  values,
  trueIndex,
  r,
  nonces,
) {
  if (nonces.length !== disjunctiveNonceCount(values)) {
    throw new RangeError(`expected ${disjunctiveNonceCount(values)} nonces, got ${nonces.length}`);
  }
  const w = mod(nonces[0]);
  let next = 1;
  const branches = [];
  const commitments = [];
  values.forEach((m, j) => {
    if (j === trueIndex) {
      branches.push([0n, 0n]);
      commitments.push(baseMul(w), mul(w, publicKey));
      return;
    }
    const c = mod(nonces[next]);
    const v = mod(nonces[next + 1]);
    next += 2;
    branches.push([c, v]);
    commitments.push(...branchCommitments(publicKey, ciphertext, m, c, v));
  });
  const statement = statementOf(publicKey, ciphertext, values);
  const c = await challenge(domain, context, statement, commitments);
  const others = branches.reduce((sum, [cj]) => sum + cj, 0n);
  const ci = mod(c - others);
  branches[trueIndex] = [ci, mod(w + ci * BigInt(r))];
  return { branches };
}

/** True if `proof` shows `ciphertext` encrypts one of `values` under (D1)-(D3). */
export async function verifyDisjunctive(domain, context, publicKey, ciphertext, values, proof) {
  if (proof.branches.length !== values.length) {
    return false;
  }
  const commitments = [];
  values.forEach((m, j) => {
    const [c, v] = proof.branches[j];
    commitments.push(...branchCommitments(publicKey, ciphertext, m, c, v));
  });
  const statement = statementOf(publicKey, ciphertext, values);
  const c = await challenge(domain, context, statement, commitments);
  return proof.branches.reduce((sum, [cj]) => sum + cj, 0n) % L === c;
}

export function disjunctiveToValue(proof) {
  return proof.branches.map(([c, v]) => [scalarToBytes(c), scalarToBytes(v)]);
}

export function decodeDisjunctive(value, branches, what) {
  if (!Array.isArray(value) || value.length !== branches) {
    throw new MalformedCrypto(`${what}: expected an array of ${branches} [c, v] pairs`);
  }
  return {
    branches: value.map((pair, j) => {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new MalformedCrypto(`${what}[${j}]: expected [c, v]`);
      }
      const c = scalarFromBytes(pair[0], `${what}[${j}].c`);
      return [c, scalarFromBytes(pair[1], `${what}[${j}].v`)];
    }),
  };
}

/** (a_j, b_j) of (D1) and (D2); every value here is public. */
export function branchCommitments(publicKey, ciphertext, m, c, v) {
  const betaJ = Number(m) === 0 ? ciphertext.beta : ciphertext.beta.subtract(smallMultiple(m));
  return [
    mulPublic(v, GENERATOR).subtract(mulPublic(c, ciphertext.alpha)),
    mulPublic(v, publicKey).subtract(mulPublic(c, betaJ)),
  ];
}

function statementOf(publicKey, ciphertext, values) {
  return [publicKey.toBytes(), ciphertext.alpha.toBytes(), ciphertext.beta.toBytes(), [...values]];
}

// An option is 0 or 1: values [0, 1], domain BALLOT_ZERO_ONE, context at (question, option).
export const BIT = Object.freeze([0, 1]);
export const ZERO_ONE_NONCES = disjunctiveNonceCount(BIT);

export function proveZeroOne(context, publicKey, ciphertext, choice, r, nonces) {
  if (choice !== 0 && choice !== 1) {
    throw new RangeError(`a selection is 0 or 1, not ${choice}`);
  }
  const domain = Domain.BALLOT_ZERO_ONE;
  return proveDisjunctive(domain, context, publicKey, ciphertext, BIT, choice, r, nonces);
}

export function verifyZeroOne(context, publicKey, ciphertext, proof) {
  return verifyDisjunctive(Domain.BALLOT_ZERO_ONE, context, publicKey, ciphertext, BIT, proof);
}

// A question's count: the sum of its option ciphertexts encrypts one of min..max.
export function allowedCounts(minimum, maximum) {
  if (!(0 <= minimum && minimum <= maximum)) {
    throw new RangeError(`selection bounds [${minimum}, ${maximum}] are not 0 <= min <= max`);
  }
  return Array.from({ length: maximum - minimum + 1 }, (_, i) => minimum + i);
}

export function countNonceCount(minimum, maximum) {
  return disjunctiveNonceCount(allowedCounts(minimum, maximum));
}

export function proveCount(
  context,
  publicKey,
  ciphertexts,
  selections,
  randomness,
  minimum,
  maximum,
  nonces,
) {
  const values = allowedCounts(minimum, maximum);
  const count = selections.reduce((sum, s) => sum + s, 0);
  if (!values.includes(count)) {
    throw new RangeError(`${count} selections is outside [${minimum}, ${maximum}]`);
  }
  return proveDisjunctive(
    Domain.BALLOT_SELECTION_COUNT,
    context.at(context.question, NO_OPTION),
    publicKey,
    elgamal.total(ciphertexts),
    values,
    count - minimum,
    mod(randomness.reduce((sum, r) => sum + BigInt(r), 0n)),
    nonces,
  );
}

export function verifyCount(context, publicKey, ciphertexts, minimum, maximum, proof) {
  return verifyDisjunctive(
    Domain.BALLOT_SELECTION_COUNT,
    context.at(context.question, NO_OPTION),
    publicKey,
    elgamal.total(ciphertexts),
    allowedCounts(minimum, maximum),
    proof,
  );
}
