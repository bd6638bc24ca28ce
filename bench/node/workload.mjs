// The reference workload (shared/peers.md): docs of about 200 bytes,
//   {_id: "doc-0000042", type: "type"+(i%10), n: i, name: "...", tags: [...], payload: 110 x "x"}
// fullsync-bench generates the same shape on the Rust side.

const PAYLOAD = 'x'.repeat(110);

export function refDoc(i) {
  return {
    _id: 'doc-' + String(i).padStart(7, '0'),
    type: 'type' + (i % 10),
    n: i,
    name: 'name ' + i,
    tags: ['tag' + (i % 3), 'tag' + (i % 7)],
    payload: PAYLOAD,
  };
}

/** The N docs as batches of `batch` (built before any timer starts). */
export function refBatches(n, batch) {
  const out = [];
  for (let start = 0; start < n; start += batch) {
    const docs = [];
    for (let i = start; i < Math.min(n, start + batch); i++) docs.push(refDoc(i));
    out.push(docs);
  }
  return out;
}
