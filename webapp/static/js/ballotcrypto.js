// Encrypted ballots in the browser (docs/PROTOCOL.md section 15): the voter's side of
// ballotcrypto/ (encrypting and proving a question, the tracking code, the Benaloh check)
// and the verifier of a question. The modules under ballot/ do the work; this one names
// what a page imports. The group comes from the vendored @noble/curves (ristretto255).

export * from "./ballot/group.js";
export * as elgamal from "./ballot/elgamal.js";
export * from "./ballot/proofs.js";
export * from "./ballot/budget.js";
export * from "./ballot/question.js";
