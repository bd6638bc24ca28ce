// Live preview: the rows of the view whose map or reduce function is open, recomputed as you
// type (debounced), with QuickJS compile errors marked on their line.

import type { BackendError } from './backend';
import { editor, markProblem } from './editor';
import { rowsTable } from './runner';
import { $, backend, state } from './state';

let previewTimer: number | undefined;
let previewSeq = 0;

/** What the preview shows now: its view, query and rows (null when nothing is shown). */
export let shownPreview: { view: { db: string; ddoc: string; view: string }; query: Record<string, unknown>; rows: unknown[]; path: string } | null = null;

/** `connectors/<db>/design/<ddoc>/views/<view>/(map|reduce).js` -> its parts. */
export function viewOf(path: string) {
  const m = /^connectors\/([^/]+)\/design\/([^/]+)\/views\/([^/]+)\/(map|reduce)\.js$/.exec(path);
  return m ? { db: m[1], ddoc: m[2], view: m[3], part: m[4] } : null;
}

/** Recomputes the preview after `delay` ms (restarted by each call). */
export function schedulePreview(delay = 250) {
  window.clearTimeout(previewTimer);
  previewTimer = window.setTimeout(() => void runPreview(), delay);
}

async function runPreview() {
  if (!state.current || state.current.doc) return;
  const v = viewOf(state.current.path);
  if (!v) {
    $('preview-meta').textContent = 'Open a map or reduce function to see its rows.';
    return;
  }
  const seq = ++previewSeq;
  shownPreview = null;
  // The file previewed: the answer is dropped if another tab is active by then.
  const path = state.current.path;
  const stale = () => seq !== previewSeq || state.current?.path !== path || !!state.current?.doc;
  let map = editor.getValue();
  let reduce: string | undefined;
  const sibling = path.replace(/(map|reduce)\.js$/, v.part === 'map' ? 'reduce.js' : 'map.js');
  if (v.part === 'reduce') {
    reduce = map;
    map = (await backend.call('file_read', { path: sibling })).text;
  } else {
    reduce = await backend.call('file_read', { path: sibling }).then((f) => f.text, () => undefined);
  }
  try {
    const query = reduce ? { group: true, limit: 100 } : { limit: 100 };
    const r = await backend.call('preview', { db: v.db, map, reduce, query, ddoc: v.ddoc });
    if (stale()) return;
    $('problems').textContent = '';
    markProblem(null);
    const total = r.result.total_rows !== undefined ? ` of ${r.result.total_rows}` : '';
    const docs = r.limited ? `the first ${r.docs.toLocaleString('en')} of ${r.total.toLocaleString('en')} docs (Run queries them all)` : `${r.docs} docs`;
    $('preview-meta').textContent = `${v.db} · ${r.result.rows.length} row(s)${total} · ${docs} · ${r.ms.toFixed(1)} ms`;
    $('preview-meta').title = r.limited ? 'The live preview maps the first documents by id, so it answers as you type on any database; the saved view indexes every document.' : '';
    $('preview-errors').textContent = r.errors.map((e) => `doc ${e.id}: ${e.error}`).join('\n');
    shownPreview = { view: { db: v.db, ddoc: v.ddoc, view: v.view }, query, rows: r.result.rows, path };
    rowsTable(document.querySelector('#preview-rows tbody')!, v.db, r.result.rows, false);
  } catch (e) {
    if (stale()) return;
    const err = e as BackendError;
    $('problems').textContent = err.line ? `line ${err.line}: ${err.message}` : err.message;
    // The line is in the edited function (map.js is the function), unless the reduce failed.
    markProblem(err.line && (v.part === 'map' ? err.message.includes('map') : err.message.includes('reduce')) ? { line: err.line, message: err.message } : null);
    $('preview-meta').textContent = 'The function does not run: see the problem below the editor.';
  }
}
