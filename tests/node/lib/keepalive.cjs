// Preloaded into pouchdb-server (node -r ./keepalive.cjs ...): pouchdb-server 4.2.0 crashes on an
// unhandled 'error' event (e.g. a missing _changes filter). Log it and keep serving.
// (Same as bench/node/keepalive.cjs; kept here so tests/node is self-contained.)
process.on('uncaughtException', (err) => {
  // eslint-disable-next-line no-console
  console.error('[pouchdb-server keepalive] uncaught exception:', err && err.stack ? err.stack : err);
});
