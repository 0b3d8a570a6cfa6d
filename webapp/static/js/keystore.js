// The voter's key kept in the browser, in IndexedDB (database "votechain", store "keys").
//
// A WebCrypto key is stored as the CryptoKey object itself: IndexedDB keeps it
// non-extractable, so page scripts can sign with it but nothing can read the private
// key out, not even this code. On a browser without WebCrypto Ed25519 the fallback key
// is a 32-byte seed, and IndexedDB holds those bytes: as safe as the browser profile,
// no safer. `kind` in the record says which, so a page can tell the citizen.

import { Signer, generateSigner } from "./ed25519.js";

const DATABASE = "votechain";
const STORE = "keys";

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, action) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const request = action(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(request.result);
      // A failed request (add over an existing key) holds the error; the transaction
      // learns it only once it aborts.
      const failed = () => reject(request.error || transaction.error);
      transaction.onerror = failed;
      transaction.onabort = failed;
    });
  } finally {
    db.close();
  }
}

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
