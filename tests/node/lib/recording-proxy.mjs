// A transparent HTTP proxy that records every request it forwards, in the order the answers
// were completed: { method, path (decoded, with the query), status }. Tests use it to check the
// order of operations a client performs against a server (e.g. a staged deploy).

import http from 'node:http';

/**
 * @param {string} target  base URL of the server, e.g. http://127.0.0.1:5984/
 * @returns {Promise<{url: string, log: {method: string, path: string, status: number}[], stop: () => Promise<void>}>}
 */
export async function startRecordingProxy(target) {
  const base = new URL(target);
  const log = [];
  const server = http.createServer((req, res) => {
    const out = http.request(
      { hostname: base.hostname, port: base.port, method: req.method, path: req.url, headers: { ...req.headers, host: base.host } },
      (up) => {
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
        up.on('end', () => log.push({ method: req.method, path: decodeURIComponent(req.url), status: up.statusCode }));
      },
    );
    out.on('error', (e) => {
      log.push({ method: req.method, path: decodeURIComponent(req.url), status: 502 });
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'proxy', reason: String(e) }));
    });
    req.pipe(out);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    log,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
