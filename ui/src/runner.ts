// The view runner: every query option of the open view, JSON keys validated as you type, the
// rows and the equivalent curl line.

import { el } from './dom';
import { showBottomTab } from './layout';
import { $, backend } from './state';

let openDoc: (db: string, id: string) => void = () => {};
/** Sets what a click on a result row's id does (open the document). */
export function onOpenResultDoc(f: (db: string, id: string) => void) {
  openDoc = f;
}

/** The rows of a view answer as a table; each id opens its document. */
export function rowsTable(body: Element, db: string, rows: { id?: string; key: unknown; value: unknown }[], idFirst = true) {
  body.replaceChildren(
    ...rows.map((r) => {
      const id = r.id
        ? el('button', { class: 'link doc-link', 'data-id': r.id, title: `Open ${r.id}` }, r.id)
        : '';
      if (typeof id !== 'string') id.addEventListener('click', () => openDoc(db, r.id!));
      const cells = [el('td', {}, id), el('td', {}, JSON.stringify(r.key)), el('td', {}, JSON.stringify(r.value))];
      if (!idFirst) cells.push(cells.shift()!);
      return el('tr', {}, ...cells);
    }),
  );
}

let runnerView: { db: string; ddoc: string; view: string } | null = null;
const JSON_FIELDS = ['key', 'startkey', 'endkey'];

function runnerQuery(): Record<string, unknown> | null {
  const form = $('runner-form') as HTMLFormElement;
  const q: Record<string, unknown> = {};
  let ok = true;
  for (const el of Array.from(form.elements) as HTMLInputElement[]) {
    if (!el.name) continue;
    el.classList.remove('invalid');
    if (el.type === 'checkbox') {
      if (el.checked) q[el.name] = true;
    } else if (el.value !== '') {
      if (JSON_FIELDS.includes(el.name)) {
        try {
          q[el.name] = JSON.parse(el.value);
        } catch {
          el.classList.add('invalid');
          el.title = 'not valid JSON: strings need quotes, e.g. "paid"';
          ok = false;
        }
      } else if (el.name === 'reduce') {
        q.reduce = el.value === 'true';
      } else {
        q[el.name] = Number(el.value);
      }
    }
  }
  return ok ? q : null;
}

/** Shows the runner for a view (its map or reduce function was opened). */
export function showRunner(v: { db: string; ddoc: string; view: string }) {
  runnerView = v;
  $('runner').hidden = false;
  $('runner-view').textContent = `${v.ddoc}/${v.view}`;
}

async function runQuery() {
  if (!runnerView) return;
  const q = runnerQuery();
  if (!q) {
    $('runner-meta').textContent = 'Fix the highlighted JSON fields (strings need quotes, e.g. "paid"): nothing was run.';
    $('runner-meta').classList.add('error');
    // The curl line would show the previous query: clear it rather than mislead.
    $('runner-curl').textContent = '';
    showBottomTab('results');
    return;
  }
  const params = new URLSearchParams(Object.entries(q).map(([k, v]) => [k, typeof v === 'string' || JSON_FIELDS.includes(k) ? JSON.stringify(v) : String(v)]));
  const url = `${await backend.httpBase()}/${runnerView.db}/_design/${runnerView.ddoc}/_view/${runnerView.view}?${params}`;
  // Project databases are FullSync databases: the CouchDB API answers views there to an admin
  // only. curl asks for the password of the local admin (local-admin.json, configuration folder).
  $('runner-curl').textContent = `curl -u admin '${url}'`;
  $('runner-curl').title = "The local admin's password is in local-admin.json of the configuration folder (see Settings).";
  try {
    const r = await backend.call('view_query', { ...runnerView, query: q });
    const total = r.result.total_rows !== undefined ? ` · total_rows ${r.result.total_rows} · offset ${r.result.offset}` : '';
    $('runner-meta').textContent = `${runnerView.ddoc}/${runnerView.view} · ${r.result.rows.length} row(s)${total} · ${r.ms.toFixed(1)} ms`;
    $('runner-meta').classList.remove('error');
    $('runner-json').textContent = JSON.stringify(r.result, null, 2);
    rowsTable(document.querySelector('#runner-rows tbody')!, runnerView.db, r.result.rows as { id?: string; key: unknown; value: unknown }[]);
  } catch (e) {
    $('runner-meta').textContent = (e as Error).message;
    $('runner-meta').classList.add('error');
    $('runner-json').textContent = '';
    document.querySelector('#runner-rows tbody')!.replaceChildren();
  }
  showBottomTab('results');
}

$('runner-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void runQuery();
});
$('runner-form').addEventListener('input', () => void runnerQuery());
