// Shared by the studio benchmarks: a data folder with `n` orders in the sample project's
// `orders` database, loaded over HTTP by a `fullsync serve` on it.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const STATUSES = ['paid', 'pending', 'shipped', 'cancelled'];

/** Loads `n` orders into `data` with the `fullsync` binary `bin`; answers the seconds taken. */
export async function loadOrders(bin, data, n) {
  const child = spawn(bin, ['serve', '--data', data, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const couch = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (l) => {
      const m = /listening on (http:\S+)/.exec(l);
      if (m) resolve(m[1]);
    });
    child.on('exit', (c) => reject(new Error(`fullsync exited with ${c}: ${stderr}`)));
  });
  await fetch(`${couch}orders`, { method: 'PUT' });
  const t = performance.now();
  for (let i = 0; i < n; i += 5000) {
    const docs = [];
    for (let j = i; j < Math.min(n, i + 5000); j++) {
      docs.push({ _id: `order-${String(j).padStart(7, '0')}`, type: 'order', status: STATUSES[j % 4], total: j % 100, customer: `c${j % 997}`, date: `2026-${String((j % 12) + 1).padStart(2, '0')}-01` });
    }
    const r = await fetch(`${couch}orders/_bulk_docs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ docs }) });
    if (r.status !== 201) throw new Error(`bulk insert: ${r.status} ${await r.text()}`);
  }
  const secs = (performance.now() - t) / 1000;
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
  return secs;
}
