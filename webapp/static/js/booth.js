// The booth of a secret poll (issue 16): the voter's choices encrypted in this browser
// under the poll's key, the tracking code, and Benaloh's "cast or audit" (PROTOCOL.md
// section 15). vote.js drives the page; this module holds no text and does no I/O.
//
// An encrypted ballot's randomness is the key to its choices: it stays in this object
// until the ballot is cast (then it is dropped) or audited (then it is shown, and the
// ballot is never cast: a booth cannot know in advance which ballots will be checked).

import { fromHex, toHex } from "./bytes.js";
import { decode, encode } from "./encoding.js";
import {
  BallotContext,
  encryptFresh,
  mismatchedOptions,
  pointFromBytes,
  questionRule,
  questionToValue,
  scalarToBytes,
  trackingCode,
  trackingText,
} from "./ballotcrypto.js";

/**
 * A question's proof terms from the voting form's attributes, as
 * votingcontract.secret_polls.question_rule makes them: the budget's floor is the
 * minimum spend rounded up, ceil(cap · percent / 100).
 */
export function ruleOfQuestion({ options, min, max, cap = null, minSpend = 0, costs = [] }) {
  if (cap === null) {
    return questionRule({ options, minimum: min, maximum: max });
  }
  const bigCap = BigInt(cap);
  const floor = (bigCap * BigInt(minSpend) + 99n) / 100n;
  return questionRule({
    options,
    minimum: min,
    maximum: max,
    costs: costs.map((c) => BigInt(c)),
    cap: bigCap,
    floor,
  });
}

/** The poll's joint key from GET /v1/polls/{id}, or null while the trustees make it. */
export function pollKey(pollDocument) {
  const secret = pollDocument?.secret;
  if (!secret || secret.phase !== "ready" || typeof secret.public_key !== "string") {
    return null;
  }
  return pointFromBytes(fromHex(secret.public_key, "public_key"), "public_key");
}

/**
 * Encrypt `chosen` (per question, the chosen option indices) for the voter whose key
 * signs the ballot. Returns the ballot: `encrypted` (the hex the cast_ballot dict
 * takes), its tracking code (bytes and text), and what an audit reveals.
 */
export async function encryptBallot({ chainId, pollId, voterKey, publicKey, rules, chosen }) {
  const context = new BallotContext(chainId, fromHex(pollId, "poll_id"), voterKey, 0);
  const questions = [];
  for (let q = 0; q < rules.length; q++) {
    const selections = Array.from({ length: rules[q].options }, (_, i) =>
      chosen[q].includes(i) ? 1 : 0,
    );
    const made = await encryptFresh(context.at(q), publicKey, rules[q], selections);
    questions.push({ selections, ...made });
  }
  const value = questions.map((q) => questionToValue(q.question));
  const code = await trackingCode(value);
  return {
    publicKey,
    questions,
    encrypted: toHex(encode(value)),
    trackingCode: code,
    trackingText: trackingText(code),
  };
}

/**
 * Benaloh's check of `ballot` against what the voter chose (`chosen`, as for
 * encryptBallot), done on this device: per question, the options whose ciphertext is
 * not the encryption of the voter's choice with the revealed randomness. All empty:
 * the booth encrypted exactly the voter's choices. Also gives the revealed randomness
 * (hex), which another device can check with the ballot's ciphertexts.
 */
export function auditBallot(ballot, chosen) {
  return ballot.questions.map((q, index) => {
    const voterSelections = q.selections.map((_, i) => (chosen[index].includes(i) ? 1 : 0));
    return {
      question: index,
      mismatched: mismatchedOptions(
        ballot.publicKey,
        q.question.ciphertexts,
        voterSelections,
        q.randomness,
      ),
      randomness: q.randomness.map((r) => toHex(scalarToBytes(r))),
    };
  });
}

/** Forget a cast ballot's secrets (what remains is public on the chain). */
export function forgetSecrets(ballot) {
  for (const q of ballot.questions) {
    q.randomness.fill(0n);
    q.randomness = [];
  }
}

/** The tracking code of a cast_ballot's dict form (the RPC's JSON of a committed ballot):
 * H(BALLOT_TRACKING, the `encrypted` bytes), or null for a public poll's ballot. */
export async function trackingOfBody(body) {
  if (typeof body?.encrypted !== "string") {
    return null;
  }
  const code = await trackingCode(decode(fromHex(body.encrypted, "encrypted")));
  return trackingText(code);
}
