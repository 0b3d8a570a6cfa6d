// One IndexedDB object store, one database each: the voter's key (keystore.js) and the
// kept receipts (receipts_store.js). A database per store, so neither needs a version
// upgrade the other must agree on.

/** `run(mode, action)` for store `store` of database `database`: opens the database,
 * runs `action(objectStore)` in one transaction and resolves with its request's result
 * once the transaction completes (so a write is durable when it resolves). */
export function objectStore(database, store) {
  function open() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(database, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(store);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return async function run(mode, action) {
    const db = await open();
    try {
      return await new Promise((resolve, reject) => {
        const transaction = db.transaction(store, mode);
        const request = action(transaction.objectStore(store));
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
  };
}
