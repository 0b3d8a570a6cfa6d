// Chain structures a receipt check reads (docs/PROTOCOL.md sections 5-8, 11.2), the
// browser's twins of chain/block.py, chain/certificate.py, chain/merkle.py,
// chain/genesis.py and votingcontract/receipts.py: strict decoders and the hashes.

import { concat, fromHex, u64be } from "./bytes.js";
import {
  DecodeError,
  decode,
  encode,
  expectArray,
  expectBytes,
  expectInt,
  expectList,
  expectStr,
} from "./encoding.js";
import { Domain, taggedHash } from "./hashing.js";
import { RECEIPT_CODES } from "./limits.js";

export const MAX_VALIDATORS = 256;
const MAX_GENESIS_NAME = 128;
const MAX_PROOF_DEPTH = 64;

/** header = [version, chain_id, height, timestamp_ms, prev_hash, tx_root, prev_app_hash,
 * prev_receipts_root, proposer]; `hash` is its block hash. */
export async function decodeHeader(bytes) {
  const f = expectList(decode(bytes), 9, "header");
  const header = {
    version: expectInt(f[0], "header.version"),
    chainId: expectStr(f[1], "header.chain_id", 64),
    height: expectInt(f[2], "header.height", 1),
    timestampMs: expectInt(f[3], "header.timestamp_ms"),
    prevHash: expectBytes(f[4], "header.prev_hash", 32),
    txRoot: expectBytes(f[5], "header.tx_root", 32),
    prevAppHash: expectBytes(f[6], "header.prev_app_hash", 32),
    prevReceiptsRoot: expectBytes(f[7], "header.prev_receipts_root", 32),
    proposer: expectBytes(f[8], "header.proposer", 32),
  };
  if (header.version !== 1) {
    throw new DecodeError(`header.version: unknown version ${header.version}`);
  }
  header.hash = await taggedHash(Domain.BLOCK_HEADER, bytes);
  return header;
}

/** The header of a block as GET /v1/raw/blocks/{h} serves it ([block, certificate,
 * [receipt bytes, ...]], section 14.2), decoded as `decodeHeader` does. The whole answer
 * must be canonical; only the header is read. */
export async function headerOfRawBlock(bytes) {
  const answer = expectList(decode(bytes), 3, "raw block");
  const block = expectList(answer[0], 2, "block");
  return decodeHeader(encode(block[0])); // canonical, so these are the bytes served
}

/** certificate = [chain_id, view, height, block_hash, [[validator, signature], ...]] */
export function decodeCertificate(bytes) {
  const f = expectList(decode(bytes), 5, "certificate");
  const signatures = expectArray(f[4], "certificate.signatures", MAX_VALIDATORS).map((item) => {
    const pair = expectList(item, 2, "certificate.signature");
    return {
      validator: expectBytes(pair[0], "certificate.validator", 32),
      signature: expectBytes(pair[1], "certificate.signature", 64),
    };
  });
  return {
    chainId: expectStr(f[0], "certificate.chain_id", 64),
    view: expectInt(f[1], "certificate.view"),
    height: expectInt(f[2], "certificate.height", 1),
    blockHash: expectBytes(f[3], "certificate.block_hash", 32),
    signatures,
  };
}

/** What each validator of a certificate signed: H(COMMIT_VOTE, encode([chain_id, view,
 * height, block_hash])). */
export function commitVoteSignBytes(certificate) {
  const { chainId, view, height, blockHash } = certificate;
  return taggedHash(Domain.COMMIT_VOTE, encode([chainId, view, height, blockHash]));
}

/** receipt = [tx_id, position, code, poll_id | nil] */
export function decodeReceipt(bytes) {
  const f = expectList(decode(bytes), 4, "receipt");
  const code = expectStr(f[2], "receipt.code", 32);
  if (!RECEIPT_CODES.includes(code)) {
    throw new DecodeError(`receipt.code: unknown code "${code}"`);
  }
  return {
    txId: expectBytes(f[0], "receipt.tx_id", 32),
    position: expectInt(f[1], "receipt.position"),
    code,
    pollId: f[3] === null ? null : expectBytes(f[3], "receipt.poll_id", 32),
  };
}

/** A genesis.json document (section 8) read strictly: {chainId, validators: [{name,
 * publicKey}], quorum, hash}. The hash is computed from the encoding, never taken from the
 * document (GET /v1/genesis adds a genesis_hash that must not be trusted). */
export async function genesisFromJson(doc) {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new DecodeError("genesis.json must hold a JSON object");
  }
  const version = doc.version === undefined ? 1 : doc.version;
  if (version !== 1) {
    throw new DecodeError(`genesis.json has version ${JSON.stringify(version)}; this reads version 1`);
  }
  const named = (list, what) =>
    expectArray(list, `genesis.${what}`, MAX_VALIDATORS).map((item, i) => {
      if (item === null || typeof item !== "object") {
        throw new DecodeError(`genesis.${what}[${i}]: expected an object`);
      }
      return [
        expectStr(item.name, `genesis.${what}[${i}].name`, MAX_GENESIS_NAME),
        keyFromHex(item.public_key, `genesis.${what}[${i}].public_key`),
      ];
    });
  const chainId = expectStr(doc.chain_id, "genesis.chain_id", 64);
  const validators = named(doc.validators, "validators");
  const admins = expectArray(doc.admins, "genesis.admins", MAX_VALIDATORS).map((a, i) =>
    keyFromHex(a, `genesis.admins[${i}]`),
  );
  const attesters = named(doc.attesters, "attesters");
  if (!chainId) {
    throw new DecodeError("genesis.chain_id: 1 to 64 characters");
  }
  if (!validators.length || !admins.length) {
    throw new DecodeError("genesis lists no validators or no admin key");
  }
  const hexes = validators.map(([, key]) => key.join(","));
  if (new Set(hexes).size !== hexes.length) {
    throw new DecodeError("genesis lists a validator key twice");
  }
  const value = [1, chainId, expectInt(doc.genesis_time_ms, "genesis.genesis_time_ms"), validators, admins, attesters];
  const n = validators.length;
  const f = Math.floor((n - 1) / 3);
  return {
    chainId,
    validators: validators.map(([name, publicKey]) => ({ name, publicKey })),
    quorum: Math.floor((n + f) / 2) + 1,
    hash: await taggedHash(Domain.GENESIS, encode(value)),
  };
}

function keyFromHex(text, what) {
  try {
    return expectBytes(fromHex(text, what), what, 32);
  } catch (error) {
    throw new DecodeError(`${what}: expected 32 bytes of hex`);
  }
}

/** Whether `item` is leaf `proof.index` of the tree with root `root` (section 6). */
export async function verifyMerkleProof(root, item, proof) {
  const { index, leafCount, siblings } = proof;
  if (!(index >= 0 && index < leafCount) || siblings.length > MAX_PROOF_DEPTH) {
    return false;
  }
  let current = await taggedHash(Domain.MERKLE_LEAF, item);
  let position = index;
  let width = leafCount;
  let next = 0;
  while (width > 1) {
    if ((position ^ 1) < width) {
      if (next >= siblings.length) {
        return false;
      }
      const other = siblings[next++];
      const pair = position % 2 === 0 ? concat(current, other) : concat(other, current);
      current = await taggedHash(Domain.MERKLE_NODE, pair);
    }
    position = Math.floor(position / 2);
    width = Math.ceil(width / 2);
  }
  if (next !== siblings.length) {
    return false;
  }
  const sealed = await taggedHash(Domain.MERKLE_ROOT, concat(u64be(leafCount), current));
  return sealed.every((byte, i) => byte === root[i]);
}
