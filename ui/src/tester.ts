// The filter and validate_doc_update tester (context panel of a filter or validate file): pick
// documents of the connector's database (by id, or the first ones) or type one, then see for
// each whether the filter passes it, or whether validate_doc_update accepts it as the given
// user, with what it threw. It runs the editor's text, saved or not.

import { el } from './dom';
import { editor } from './editor';
import { $, backend } from './state';


let target: { db: string; ddoc: string; kind: 'filter' | 'validate'; name: string } | null = null;
let built = false;
const ids = el('input', { 'data-testid': 'tester-ids', placeholder: 'ids, comma-separated (empty: the first 20)', spellcheck: 'false' });
const typed = el('textarea', { 'data-testid': 'tester-doc', rows: '4', placeholder: 'or type documents: {"_id": "x", ...} or [{...}, {...}]', spellcheck: 'false' });
const user = el('input', { 'data-testid': 'tester-user', placeholder: 'user name (empty: anonymous)', spellcheck: 'false' });
const roles = el('input', { 'data-testid': 'tester-roles', placeholder: 'roles, comma-separated', spellcheck: 'false' });
const query = el('input', { 'data-testid': 'tester-query', placeholder: 'req.query as JSON, e.g. {"type": "order"}', spellcheck: 'false' });
const run = el('button', { class: 'primary', 'data-testid': 'tester-run' }, 'Test');
const out = el('div', { 'data-testid': 'tester-results', class: 'tester-results', role: 'status' });
const title = el('h2', {}, 'Tester');
const userRow = el('div', { class: 'tester-user' }, user, roles);
const queryRow = el('div', {}, query);

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

async function pickDocs(db: string): Promise<Record<string, unknown>[]> {
  const text = typed.value.trim();
  if (text) {
    const v = JSON.parse(text) as unknown;
    return (Array.isArray(v) ? v : [v]) as Record<string, unknown>[];
  }
  const wanted = list(ids.value);
  if (wanted.length) {
    const docs = [];
    for (const id of wanted) {
      try {
        const d = await backend.call('doc_get', { db, id });
        delete d._revs_info;
        delete d._conflicts;
        docs.push(d);
      } catch (e) {
        throw new Error(`${id}: ${(e as Error).message}`);
      }
    }
    return docs;
  }
  const page = await backend.call('docs_page', { db, limit: 20 });
  return page.rows.map((r) => r.doc).filter((d) => !String(d._id).startsWith('_design/'));
}

async function test() {
  if (!target) return;
  const t = target;
  out.replaceChildren(el('p', { class: 'hint' }, 'running…'));
  let docs: Record<string, unknown>[];
  let q: unknown = {};
  try {
    docs = await pickDocs(t.db);
    if (t.kind === 'filter' && query.value.trim()) q = JSON.parse(query.value);
  } catch (e) {
    out.replaceChildren(el('p', { class: 'error' }, `Cannot test: ${(e as Error).message}. Type valid JSON documents or existing ids.`));
    return;
  }
  try {
    const r = await backend.call('fn_test', { db: t.db, kind: t.kind, source: editor.getValue(), docs, user: user.value.trim() || null, roles: list(roles.value), query: q });
    const verb = t.kind === 'filter' ? ['passes', 'filtered out'] : ['accepted', 'refused'];
    out.replaceChildren(
      el('p', { class: r.failed ? 'hint' : 'hint ok', 'data-testid': 'tester-summary' }, `${r.passed} ${verb[0]}, ${r.failed} ${verb[1]} (${docs.length} document(s))`),
      el('ul', {}, ...r.results.map((x) => el('li', { class: x.pass ? 'pass' : 'fail', 'data-id': x.id, 'data-pass': String(x.pass) }, el('span', { class: `badge ${x.pass ? 'ok' : 'error'}` }, x.pass ? verb[0] : verb[1]), ' ', el('code', {}, x.id), ...(x.message ? [el('div', { class: 'msg' }, x.message)] : [])))),
    );
  } catch (e) {
    out.replaceChildren(el('p', { class: 'error' }, (e as Error).message));
  }
}

/** Shows the tester for a filter or validate_doc_update file. */
export function showTester(t: { db: string; ddoc: string; kind: 'filter' | 'validate'; name: string }) {
  const box = $('tester');
  if (!built) {
    built = true;
    run.addEventListener('click', () => void test());
    box.append(title, el('p', { class: 'hint' }, 'Runs the function in the editor (saved or not) over documents.'), el('label', {}, 'Documents of the database', ids), typed, userRow, queryRow, run, out);
  }
  if (target?.db !== t.db || target?.name !== t.name) out.replaceChildren();
  target = t;
  title.textContent = t.kind === 'filter' ? `Test the filter ${t.name}` : 'Test validate_doc_update';
  userRow.hidden = false; // filters see req.userCtx too
  queryRow.hidden = t.kind !== 'filter';
}
