// The Mango screen (a tab of the bottom panel, next to the editor): a `_find` query on a local database (selector, fields, sort, limit, each
// validated as you type), its documents as a table, and its `_explain`: which index answers it
// and why the others do not.

import type { Backend } from './backend';
import { el, messageLine, type Screen } from './ops-kit';

/** `text` as JSON, or the error of the first place it is not. */
function parse(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

const cell = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

export const mangoScreen: Screen = (backend: Backend, body, host) => {
  const msg = messageLine('mango-msg');
  const db = el('select', { 'data-testid': 'mango-db' });
  const selector = el('textarea', { 'data-testid': 'mango-selector', rows: '6', spellcheck: 'false' });
  selector.value = '{\n  "type": "order"\n}';
  const fields = el('input', { 'data-testid': 'mango-fields', placeholder: '_id, status, total (empty: whole documents)', spellcheck: 'false' });
  const sort = el('input', { 'data-testid': 'mango-sort', placeholder: '[{"date": "desc"}] (needs an index on those fields)', spellcheck: 'false' });
  const limit = el('input', { 'data-testid': 'mango-limit', type: 'number', min: '1', value: '25' });
  const problems = el('div', { class: 'error', 'data-testid': 'mango-invalid' });
  const go = el('button', { class: 'primary', 'data-testid': 'mango-run' }, 'Run');
  const meta = el('div', { class: 'hint', 'data-testid': 'mango-meta' });
  const table = el('table', { class: 'ops-table', 'data-testid': 'mango-results' });
  const explain = el('pre', { class: 'mono run-json', 'data-testid': 'mango-explain' });
  body.replaceChildren(
    el('div', { class: 'ops-col narrow' },
      el('div', { class: 'ops-form' },
        el('label', { class: 'wide' }, 'Database', db),
        el('label', { class: 'wide' }, 'Selector (JSON)', selector),
        el('label', { class: 'wide' }, 'Fields', fields),
        el('label', { class: 'wide' }, 'Sort (JSON array)', sort),
        el('label', {}, 'Limit', limit)),
      problems, el('div', { class: 'row' }, go), msg.box),
    el('div', { class: 'ops-col' }, el('h3', {}, 'Documents'), meta, el('div', { class: 'ops-scroll' }, table), el('h3', {}, 'Explain'), explain),
  );

  /** The `_find` body, or the list of what is wrong with the form. */
  function build(): { query?: Record<string, unknown>; errors: string[] } {
    const errors: string[] = [];
    const q: Record<string, unknown> = {};
    const s = parse(selector.value);
    if (!s.ok) errors.push(`selector: not JSON (${s.error})`);
    else if (typeof s.value !== 'object' || s.value === null || Array.isArray(s.value)) errors.push('selector: a JSON object, e.g. {"type": "order"}');
    else q.selector = s.value;
    selector.classList.toggle('invalid', !s.ok || !q.selector);
    const f = fields.value.trim();
    if (f) {
      if (f.startsWith('[')) {
        const p = parse(f);
        if (!p.ok || !Array.isArray(p.value) || !p.value.every((x) => typeof x === 'string')) errors.push('fields: a list of field names, e.g. _id, status');
        else q.fields = p.value;
      } else q.fields = f.split(',').map((x) => x.trim()).filter(Boolean);
    }
    fields.classList.toggle('invalid', errors.some((e) => e.startsWith('fields')));
    const so = sort.value.trim();
    if (so) {
      const p = parse(so);
      if (!p.ok || !Array.isArray(p.value)) errors.push('sort: a JSON array, e.g. [{"date": "desc"}] or ["date"]');
      else q.sort = p.value;
    }
    sort.classList.toggle('invalid', errors.some((e) => e.startsWith('sort')));
    const n = Number(limit.value);
    if (limit.value && (!Number.isInteger(n) || n < 1)) errors.push('limit: a whole number above 0');
    else if (limit.value) q.limit = n;
    return errors.length ? { errors } : { query: q, errors };
  }
  const validate = () => {
    const { errors } = build();
    problems.textContent = errors.join('\n');
    go.disabled = errors.length > 0;
  };
  for (const i of [selector, fields, sort, limit]) i.addEventListener('input', validate);

  /** (Re)lists the local databases, keeping the one selected. */
  const loadDbs = () => backend.call('databases').then((dbs) => {
    const keep = db.value;
    db.replaceChildren(...dbs.filter((d) => !d.name.startsWith('_')).map((d) => el('option', { value: d.name }, `${d.name} (${d.doc_count} docs)`)));
    if (keep && dbs.some((d) => d.name === keep)) db.value = keep;
  }).catch((e) => msg.say((e as Error).message, true));

  go.addEventListener('click', async () => {
    const { query, errors } = build();
    if (!query) return msg.say(errors.join('\n'), true);
    go.disabled = true;
    try {
      const r = await backend.call('mango_query', { db: db.value, query });
      msg.say('');
      const docs = r.find.docs;
      const cols = [...new Set(docs.slice(0, 50).flatMap((d) => Object.keys(d)))].filter((c) => c !== '_rev').slice(0, 12);
      table.replaceChildren(
        el('thead', {}, el('tr', {}, ...cols.map((c) => el('th', {}, c)))),
        el('tbody', {}, ...docs.map((d) => {
          const tr = el('tr', { 'data-id': String(d._id ?? '') }, ...cols.map((c) => el('td', { class: 'mono' }, cell(d[c]))));
          if (typeof d._id === 'string') {
            tr.title = `Open ${d._id}`;
            // The document opens in the editor; the results stay in the bottom panel.
            tr.addEventListener('click', () => {
              void host.openDoc(db.value, d._id as string);
            });
          }
          return tr;
        })));
      const ix = r.explain.index;
      meta.textContent = `${docs.length} document(s) · ${r.ms.toFixed(1)} ms · index ${ix.ddoc ? `${ix.ddoc}/` : ''}${ix.name} (${ix.type})${r.find.warning ? ` · ${r.find.warning}` : ''}`;
      explain.textContent = JSON.stringify(r.explain, null, 2);
    } catch (e) {
      msg.say((e as Error).message, true);
    } finally {
      go.disabled = false;
    }
  });
  // Showing the tab again re-lists the databases (one may be new).
  return loadDbs;
};
