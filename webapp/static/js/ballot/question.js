// One question of an encrypted ballot (docs/PROTOCOL.md 15.9), the twin of
// ballotcrypto/question.py, with the ballot's tracking code and the voter's Benaloh check
// (ballotcrypto/benaloh.py):
//   question = [[E_0, …, E_{n-1}], [P_0, …, P_{n-1}], count proof | nil, budget proof | nil]

import { encode } from "../encoding.js";
import { Domain, taggedHash } from "../hashing.js";
import * as elgamal from "./elgamal.js";
import { L, MalformedCrypto, randomScalars } from "./group.js";
import {
  ZERO_ONE_NONCES,
  countNonceCount,
  allowedCounts,
  decodeDisjunctive,
  disjunctiveToValue,
  proveCount,
  proveZeroOne,
  verifyCount,
  verifyZeroOne,
} from "./proofs.js";
import {
  budgetNonceCount,
  budgetToValue,
  decodeBudget,
  proveBudget,
  verifyBudget,
} from "./budget.js";

/** A proof that decodes but does not verify; `what` names it (Python's InvalidBallotProof). */
export class InvalidBallotProof extends Error {
  constructor(what) {
    super(`${what}: the proof does not verify`);
    this.name = "InvalidBallotProof";
    this.what = what;
  }
}

/**
 * The public terms of a question's proofs: {options, minimum, maximum, costs (array or
 * null), cap, floor}, as votingcontract.secret_polls.question_rule makes them.
 */
export function questionRule({ options, minimum, maximum, costs = null, cap = 0, floor = 0 }) {
  return Object.freeze({ options, minimum, maximum, costs, cap, floor });
}

/** False when the bounds exclude nothing that 0/1 selections could add up to. */
export function countsSelections(rule) {
  return !(rule.minimum === 0 && rule.maximum >= rule.options);
}

function countHigh(rule) {
  return Math.min(rule.maximum, rule.options);
}

/** Random scalars `encryptQuestion` takes besides the encryption randomness. */
export function nonceCount(rule) {
  let count = rule.options * ZERO_ONE_NONCES;
  if (countsSelections(rule)) {
    count += countNonceCount(rule.minimum, countHigh(rule));
  }
  if (rule.costs !== null) {
    count += budgetNonceCount(rule.costs, rule.cap, rule.floor);
  }
  return count;
}

/**
 * Encrypt `selections` (0/1 per option) with `randomness` (one secret scalar in [1, L)
 * per option, kept for an audit) and prove them well formed; `nonces` as many as
 * nonceCount(rule), in Python's order (the same inputs give Python's bytes).
 */
export async function encryptQuestion(context, publicKey, rule, selections, randomness, nonces) {
  if (selections.length !== rule.options || randomness.length !== rule.options) {
    throw new RangeError(`${selections.length} selections for ${rule.options} options`);
  }
  if (nonces.length !== nonceCount(rule)) {
    throw new RangeError(`expected ${nonceCount(rule)} nonces, got ${nonces.length}`);
  }
  let at = 0;
  const take = (count) => nonces.slice(at, (at += count));
  const ciphertexts = selections.map((s, i) => elgamal.encrypt(publicKey, s, randomness[i]));
  const optionProofs = [];
  for (let i = 0; i < rule.options; i++) {
    optionProofs.push(
      await proveZeroOne(
        context.at(context.question, i),
        publicKey,
        ciphertexts[i],
        selections[i],
        randomness[i],
        take(ZERO_ONE_NONCES),
      ),
    );
  }
  let countProof = null;
  if (countsSelections(rule)) {
    const high = countHigh(rule);
    countProof = await proveCount(
      context,
      publicKey,
      ciphertexts,
      selections,
      randomness,
      rule.minimum,
      high,
      take(countNonceCount(rule.minimum, high)),
    );
  }
  let budgetProof = null;
  if (rule.costs !== null) {
    budgetProof = await proveBudget(
      context,
      publicKey,
      selections,
      randomness,
      rule.costs,
      rule.cap,
      rule.floor,
      take(budgetNonceCount(rule.costs, rule.cap, rule.floor)),
    );
  }
  return { ciphertexts, optionProofs, countProof, budgetProof };
}

/**
 * encryptQuestion with fresh secret randomness and nonces from crypto.getRandomValues:
 * {question, randomness}. Keep `randomness` only for an audit; a cast ballot's is
 * forgotten (whoever has it can read the choices).
 */
export async function encryptFresh(context, publicKey, rule, selections) {
  const randomness = randomScalars(rule.options);
  const nonces = randomScalars(nonceCount(rule));
  const question = await encryptQuestion(context, publicKey, rule, selections, randomness, nonces);
  return { question, randomness };
}

/** Throws InvalidBallotProof naming the first proof of the question that fails. */
export async function validateQuestion(context, publicKey, rule, question) {
  const where = `question ${context.question}`;
  checkShape(rule, question, where);
  for (let i = 0; i < rule.options; i++) {
    const place = context.at(context.question, i);
    const [ciphertext, proof] = [question.ciphertexts[i], question.optionProofs[i]];
    if (!(await verifyZeroOne(place, publicKey, ciphertext, proof))) {
      throw new InvalidBallotProof(`${where} option ${i}: 0/1`);
    }
  }
  const { ciphertexts } = question;
  const [low, high] = [rule.minimum, countHigh(rule)];
  if (
    question.countProof !== null &&
    !(await verifyCount(context, publicKey, ciphertexts, low, high, question.countProof))
  ) {
    throw new InvalidBallotProof(`${where}: selection count`);
  }
  if (
    question.budgetProof !== null &&
    rule.costs !== null &&
    !(await verifyBudget(
      context,
      publicKey,
      ciphertexts,
      rule.costs,
      rule.cap,
      rule.floor,
      question.budgetProof,
    ))
  ) {
    throw new InvalidBallotProof(`${where}: budget`);
  }
}

export function questionToValue(question) {
  return [
    question.ciphertexts.map(elgamal.toValue),
    question.optionProofs.map(disjunctiveToValue),
    question.countProof === null ? null : disjunctiveToValue(question.countProof),
    question.budgetProof === null ? null : budgetToValue(question.budgetProof),
  ];
}

/** The question's encoded array, shaped by `rule`; MalformedCrypto for anything else. */
export function decodeQuestion(value, rule, what) {
  if (!Array.isArray(value) || value.length !== 4) {
    throw new MalformedCrypto(`${what}: expected [ciphertexts, proofs, count, budget]`);
  }
  const [rawCts, rawProofs, rawCount, rawBudget] = value;
  if (!Array.isArray(rawCts) || rawCts.length !== rule.options) {
    throw new MalformedCrypto(`${what}: expected ${rule.options} ciphertexts`);
  }
  if (!Array.isArray(rawProofs) || rawProofs.length !== rule.options) {
    throw new MalformedCrypto(`${what}: expected ${rule.options} option proofs`);
  }
  const ciphertexts = rawCts.map((c, i) =>
    elgamal.decodeCiphertext(c, `${what}.ciphertexts[${i}]`, true),
  );
  const optionProofs = rawProofs.map((p, i) => decodeDisjunctive(p, 2, `${what}.proofs[${i}]`));
  let countProof = null;
  if (countsSelections(rule)) {
    const branches = allowedCounts(rule.minimum, countHigh(rule)).length;
    countProof = decodeDisjunctive(rawCount, branches, `${what}.count`);
  } else if (rawCount !== null) {
    throw new MalformedCrypto(`${what}.count: must be nil for bounds [0, ${rule.options}]`);
  }
  let budgetProof = null;
  if (rule.costs !== null) {
    budgetProof = decodeBudget(rawBudget, rule.costs, rule.cap, rule.floor, `${what}.budget`);
  } else if (rawBudget !== null) {
    throw new MalformedCrypto(`${what}.budget: must be nil on a question without a budget`);
  }
  return { ciphertexts, optionProofs, countProof, budgetProof };
}

function checkShape(rule, question, where) {
  const { ciphertexts, optionProofs } = question;
  if (ciphertexts.length !== rule.options || optionProofs.length !== rule.options) {
    throw new InvalidBallotProof(`${where}: ${question.ciphertexts.length} ciphertexts`);
  }
  if ((question.countProof === null) === countsSelections(rule)) {
    throw new InvalidBallotProof(`${where}: selection count proof missing or not expected`);
  }
  if ((question.budgetProof === null) !== (rule.costs === null)) {
    throw new InvalidBallotProof(`${where}: budget proof missing or not expected`);
  }
}

/**
 * Benaloh's check on the voter's device: the options whose ciphertext is not
 * Enc(selection; r) under `publicKey`; [] when the booth encrypted exactly what it
 * claims. A count that differs names every option.
 */
export function mismatchedOptions(publicKey, ciphertexts, selections, randomness) {
  if (!(ciphertexts.length === selections.length && selections.length === randomness.length)) {
    const n = Math.max(ciphertexts.length, selections.length, randomness.length);
    return Array.from({ length: n }, (_, i) => i);
  }
  const wrong = [];
  ciphertexts.forEach((ct, i) => {
    const [s, r] = [selections[i], BigInt(randomness[i])];
    const allowed = (s === 0 || s === 1) && 0n < r && r < L;
    if (!allowed || !elgamal.equals(elgamal.encrypt(publicKey, s, r), ct)) {
      wrong.push(i);
    }
  });
  return wrong;
}

/** The tracking code: H(BALLOT_TRACKING, encode(the ballot's `encrypted` array)). */
export async function trackingCode(encrypted) {
  return taggedHash(Domain.BALLOT_TRACKING, encode(encrypted));
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** The code as a voter reads it (15.11): its first 16 bytes in base32 without padding,
 * in groups of 4 joined by "-", as votingcontract.secret_polls.format_tracking_code. */
export function trackingText(code, separator = "-") {
  let bits = 0;
  let buffer = 0;
  let text = "";
  for (const byte of code.slice(0, 16)) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      text += BASE32[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) {
    text += BASE32[(buffer << (5 - bits)) & 31];
  }
  return text.match(/.{1,4}/g).join(separator);
}
