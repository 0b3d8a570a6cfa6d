// The voter's key kept in the browser, in IndexedDB (database "votechain", store "keys").
//
// A WebCrypto key is stored as the CryptoKey object itself: IndexedDB keeps it
// non-extractable, so page scripts can sign with it but nothing can read the private
// key out, not even this code. On a browser without WebCrypto Ed25519 the fallback key
// is a 32-byte seed, and IndexedDB holds those bytes: as safe as the browser profile,
// no safer. `kind` in the record says which, so a page can tell the citizen.

import { Signer, generateSigner } from "./ed25519.js";
import { objectStore } from "./idb.js";

const DATABASE = "votechain";
const STORE = "keys";

const run = objectStore(DATABASE, STORE);

export class KeyExists extends Error {
  constructor(name) {
    super(`a key named "${name}" is already kept in this browser`);
    this.name = "KeyExists";
  }
}

/** A new key saved under `name`, as a Signer. A key already kept under that name is
 * replaced only with `{replace: true}`: an enrolled key overwritten by mistake would lock
 * its phone out until a new key is enrolled and has waited out the replacement delay. */
export async function createKey(name, { replace = false, ...options } = {}) {
  const signer = await generateSigner(options);
  const record = { kind: signer.kind, publicKey: signer.publicKey, secret: signer.secret };
  try {
    await run("readwrite", (store) => (replace ? store.put(record, name) : store.add(record, name)));
  } catch (error) {
    if (error && error.name === "ConstraintError") {
      throw new KeyExists(name);
    }
    throw error;
  }
  return signer;
}

/** The Signer saved under `name`, or null if there is none. */
export async function loadKey(name) {
  const record = await run("readonly", (store) => store.get(name));
  if (!record) {
    return null;
  }
  return new Signer(record.kind, new Uint8Array(record.publicKey), record.secret);
}

export async function deleteKey(name) {
  await run("readwrite", (store) => store.delete(name));
}
