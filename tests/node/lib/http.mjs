// Small HTTP helpers for talking to the server directly (not through PouchDB).
//
// raw(): node:http, full control over headers (Host, Content-Type, Content-Length) and
//        tolerant of a server that answers and closes before reading the whole body.
// json(): global fetch, JSON in and out, for the bulk of the comparisons.

import http from 'node:http';

/**
 * @param {string} url
 * @param {object} [opts]
 * @param {string} [opts.method]
 * @param {Record<string,string>} [opts.headers]
 * @param {string|Buffer} [opts.body]
 * @param {number} [opts.timeoutMs]
 * @returns {Promise<{status:number, headers:object, text:string, json:any}>}
 */
export function raw(url, { method = 'GET', headers = {}, body, timeoutMs = 30000 } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    let response = null;
    let done = false;
    let writeError = null;
    const finish = (fn, v) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      fn(v);
    };
    // CouchDB answers JSON as text/plain unless the client accepts application/json, as
    // PouchDB and every real client do: send it unless the caller set Accept.
    const hdrs = hasHeader(headers, 'accept') ? { ...headers } : { Accept: 'application/json', ...headers };
    if (body !== undefined && !hasHeader(hdrs, 'content-length')) {
      hdrs['Content-Length'] = Buffer.byteLength(body);
    }
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method,
        headers: hdrs,
        agent: false, // a fresh connection per request: no keep-alive state leaks between tests
      },
      (res) => {
        response = res;
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', (err) => finish(reject, err));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed;
          try {
            parsed = text.length ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          finish(resolve, { status: res.statusCode, headers: res.headers, text, json: parsed });
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish(reject, new Error(`${method} ${url}: no complete response within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => {
      // The server may answer (e.g. 413) and close while we are still sending: that is fine
      // as long as a response arrives.
      writeError = err;
      setTimeout(() => {
        if (!response) {
          finish(
            reject,
            new Error(`${method} ${url}: connection failed without an HTTP response (${writeError.code || writeError.message})`),
          );
        }
      }, 500);
    });
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

function hasHeader(headers, name) {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

/** fetch + JSON; throws with status and body on a non-2xx answer unless allowError. */
export async function json(url, { method = 'GET', body, headers = {}, allowError = false } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let data;
  try {
    data = text.length ? JSON.parse(text) : undefined;
  } catch {
    throw new Error(`${method} ${url} -> ${res.status}: body is not JSON: ${text.slice(0, 300)}`);
  }
  if (!res.ok && !allowError) {
    throw new Error(`${method} ${url} -> ${res.status} ${text.slice(0, 500)}`);
  }
  return allowError ? { status: res.status, data, headers: res.headers } : data;
}

/** Run fn over items with at most `limit` in flight; returns results in order. */
export async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
