// The documents table of a database: virtual scrolling over any number of documents, fetched
// page by page from the backend (`docs_page`: after the last id of the previous page, or a skip
// to jump into the middle), columns inferred from the documents shown, sort by id, search by id
// prefix or Mango selector, "conflicted only", and a conflict marker on each row.

import { el } from './dom';
import type { DocRow, DocsPage } from './api-types';
import { offerSampleData } from './sample-data';
import { $, backend, status } from './state';

const ROW = 24;
const PAGE = 100;
const MAX_COLS = 8;

type Page = DocsPage;

let db: string | null = null;
let open: (db: string, id: string) => void = () => {};
/** Pages by index (unfiltered mode), or the one growing list (filtered: prefix, selector, conflicted). */
let pages = new Map<number, DocRow[] | Promise<void>>();
let list: DocRow[] = [];
let next: string | null = null;
let filtered = false;
let total = 0;
let count = 0;
let gen = 0;
let selected = 0;
let descending = false;
let columns: string[] = [];
let query: { prefix: string; selector: unknown; conflicted: boolean } = { prefix: '', selector: null, conflicted: false };
let loadingMore = false;

/** Sets what opening a row does. */
export function onOpenRow(f: (db: string, id: string) => void) {
  open = f;
}

/** Shows the table of `db` from its first row. */
export async function showTable(name: string) {
  if (db !== name) {
    db = name;
    selected = 0;
    ($('docs-search') as HTMLInputElement).value = '';
    ($('docs-conflicted') as HTMLInputElement).checked = false;
    columns = [];
  }
  await reload();
}

/** The database shown. */
export const tableDb = () => db;

function readQuery(): boolean {
  const text = ($('docs-search') as HTMLInputElement).value.trim();
  const conflicted = ($('docs-conflicted') as HTMLInputElement).checked;
  $('docs-search').classList.remove('invalid');
  if (text.startsWith('{')) {
    try {
      query = { prefix: '', selector: JSON.parse(text), conflicted };
    } catch (e) {
      $('docs-search').classList.add('invalid');
      say(`The Mango selector is not valid JSON (${(e as Error).message}): e.g. {"type": "order", "total": {"$gt": 10}}`, true);
      return false;
    }
  } else query = { prefix: text, selector: null, conflicted };
  return true;
}

function say(text: string, error = false) {
  $('docs-count').textContent = text;
  $('docs-count').classList.toggle('error', error);
}

/** Reloads from the first row (after a search, a filter, a sort or a write). */
export async function reload() {
  if (!db || !readQuery()) return;
  const g = ++gen;
  pages = new Map();
  list = [];
  next = null;
  filtered = !!query.prefix || query.selector !== null || query.conflicted;
  const first = await fetchPage({}).catch((e: Error) => {
    if (g === gen) say(e.message, true);
    return null;
  });
  if (!first || g !== gen) return;
  total = first.total;
  if (filtered) {
    list = first.rows;
    next = first.next;
    count = list.length;
  } else {
    pages.set(0, first.rows);
    count = total;
  }
  inferColumns(first.rows);
  showCount(first);
  // No data yet (design documents only): offer the project's sample data for this database.
  if (!filtered && first.rows.every((r) => r.id.startsWith('_design/'))) {
    const shown = db;
    void offerSampleData(backend, shown, $('docs-count'), (msg, error) => {
      status(msg, error);
      if (db === shown) void reload();
    });
  }
  ($('docs-scroll') as HTMLElement).scrollTop = 0;
  selected = Math.min(selected, Math.max(0, count - 1));
  render();
}

/** Refreshes the rows on screen (a change arrived), keeping the scroll position. */
export async function refresh() {
  if (!db) return;
  const keep = ($('docs-scroll') as HTMLElement).scrollTop;
  if (filtered) return reload();
  const g = ++gen;
  pages = new Map();
  const first = await fetchPage({ limit: 1 }).catch(() => null);
  if (!first || g !== gen) return;
  total = count = first.total;
  showCount(first);
  ($('docs-scroll') as HTMLElement).scrollTop = keep;
  render();
}

function fetchPage(extra: { after?: string | null; skip?: number; limit?: number }): Promise<Page> {
  return backend.call('docs_page', {
    db: db!,
    prefix: query.prefix,
    selector: query.selector ?? undefined,
    conflicted: query.conflicted,
    descending,
    limit: extra.limit ?? PAGE,
    after: extra.after ?? undefined,
    skip: extra.skip ?? 0,
  });
}

function showCount(p: Page) {
  if (!filtered) say(`${total} document(s) · sorted by id ${descending ? 'descending' : 'ascending'} · pages of ${PAGE} fetched as you scroll`);
  else {
    const more = next ? ` (more below: scroll on; ${p.scanned} read for this page)` : '';
    say(`${list.length} shown of ${total} document(s)${more}`);
  }
}

/** Column names: the most frequent top-level fields of the rows seen (after `_id` and `_rev`). */
function inferColumns(rows: DocRow[]) {
  const freq = new Map<string, number>();
  // Design documents are code: their members are no columns.
  for (const r of rows) if (!r.id.startsWith('_design/')) for (const k of Object.keys(r.doc)) if (!k.startsWith('_')) freq.set(k, (freq.get(k) ?? 0) + 1);
  const fresh = [...freq.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k);
  // Keep the columns already shown in place; add new ones after them.
  columns = [...columns.filter((c) => fresh.includes(c)), ...fresh.filter((c) => !columns.includes(c))].slice(0, MAX_COLS);
  const head = $('docs-head');
  head.replaceChildren(el('span', { class: 'c-flag', title: 'conflicts' }, '⚑'), el('span', { class: 'c-id', role: 'columnheader' }, `_id ${descending ? '↓' : '↑'}`), el('span', { class: 'c-rev', role: 'columnheader' }, '_rev'), ...columns.map((c) => el('span', { class: 'c-field', role: 'columnheader', title: c }, c)));
  const width = 28 + 240 + 120 + columns.length * 150;
  head.style.minWidth = `${width}px`;
  $('docs-spacer').style.minWidth = `${width}px`;
  $('docs-fields').replaceChildren(
    el('h3', {}, 'Columns (from the documents shown)'),
    el('ul', { class: 'fields' }, ...(columns.length ? columns.map((c) => el('li', {}, c)) : [el('li', { class: 'hint' }, 'no fields besides _id and _rev')])),
  );
}

function rowAt(i: number): DocRow | undefined {
  if (filtered) return list[i];
  const p = pages.get(Math.floor(i / PAGE));
  return Array.isArray(p) ? p[i % PAGE] : undefined;
}

function cell(v: unknown): string {
  if (v === undefined) return '';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
}

/** Draws the rows in view (and asks for the pages they need). */
function render() {
  const scroll = $('docs-scroll');
  const head = $('docs-head').offsetHeight;
  $('docs-spacer').style.height = `${count * ROW + (filtered && next ? ROW : 0)}px`;
  const first = Math.max(0, Math.floor((scroll.scrollTop) / ROW) - 5);
  const last = Math.min(count, Math.ceil((scroll.scrollTop + scroll.clientHeight - head) / ROW) + 5);
  const ul = $('docs-list');
  ul.style.top = `${first * ROW}px`;
  const items: HTMLElement[] = [];
  const missing = new Set<number>();
  for (let i = first; i < last; i++) {
    const r = rowAt(i);
    if (!r) {
      missing.add(Math.floor(i / PAGE));
      items.push(el('li', { class: 'docs-row loading', 'data-index': String(i) }, el('span', { class: 'c-flag' }), el('span', { class: 'c-id hint' }, 'loading…')));
      continue;
    }
    const conflicted = r.conflicts.length > 0;
    const li = el(
      'li',
      { class: `docs-row${conflicted ? ' conflicted' : ''}${i === selected ? ' selected' : ''}`, role: 'row', 'data-id': r.id, 'data-index': String(i), 'aria-selected': String(i === selected) },
      el('span', { class: 'c-flag', title: conflicted ? `${r.conflicts.length} conflicting revision(s): ${r.conflicts.join(', ')}` : '' }, conflicted ? '⚑' : ''),
      el('span', { class: 'c-id', title: r.id }, r.id),
      el('span', { class: 'c-rev', title: r.rev }, r.rev),
      ...columns.map((c) => el('span', { class: 'c-field' }, cell(r.doc[c]))),
    );
    if (conflicted) li.dataset.conflicts = String(r.conflicts.length);
    li.addEventListener('click', () => {
      selected = i;
      open(db!, r.id);
    });
    items.push(li);
  }
  if (filtered && next && last >= count - 1) {
    items.push(el('li', { class: 'docs-row more hint' }, el('span', { class: 'c-flag' }), el('span', { class: 'c-id' }, 'loading more…')));
    void loadMore();
  }
  ul.replaceChildren(...items);
  for (const p of missing) void loadPage(p);
}

async function loadPage(p: number) {
  if (pages.has(p)) return;
  const g = gen;
  const prev = pages.get(p - 1);
  const after = Array.isArray(prev) && prev.length ? prev[prev.length - 1].id : null;
  const job = fetchPage(after ? { after } : { skip: p * PAGE })
    .then((r) => {
      if (g !== gen) return;
      pages.set(p, r.rows);
      if (r.total !== total) {
        total = count = r.total;
        showCount(r);
      }
      if (columns.length < MAX_COLS) inferColumns(r.rows);
      render();
    })
    .catch((e: Error) => {
      if (g === gen) {
        pages.delete(p);
        say(e.message, true);
      }
    });
  pages.set(p, job);
}

async function loadMore() {
  if (loadingMore || !next) return;
  const g = gen;
  loadingMore = true;
  try {
    const r = await fetchPage({ after: next });
    if (g !== gen) return;
    list.push(...r.rows);
    next = r.next;
    count = list.length;
    if (columns.length < MAX_COLS) inferColumns(r.rows);
    showCount(r);
  } catch (e) {
    if (g === gen) {
      next = null;
      say((e as Error).message, true);
    }
    return;
  } finally {
    loadingMore = false;
  }
  // Goes on while the end of the list is in view (a selective filter scans in steps).
  render();
}

function select(i: number) {
  selected = Math.max(0, Math.min(count - 1, i));
  const scroll = $('docs-scroll');
  const head = $('docs-head').offsetHeight;
  const top = selected * ROW;
  if (top < scroll.scrollTop) scroll.scrollTop = top;
  else if (top + ROW > scroll.scrollTop + scroll.clientHeight - head) scroll.scrollTop = top + ROW - scroll.clientHeight + head;
  render();
}

/** Wires the toolbar, scrolling and keys (once, at start). */
export function mountTable() {
  let timer: number | undefined;
  $('docs-search').addEventListener('input', () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void reload(), 200);
  });
  $('docs-search').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      window.clearTimeout(timer);
      void reload();
    } else if (e.key === 'ArrowDown') {
      e.preventDefault();
      $('docs-scroll').focus();
    }
  });
  $('docs-conflicted').addEventListener('change', () => void reload());
  $('docs-sort').addEventListener('click', () => {
    descending = !descending;
    $('docs-sort').textContent = descending ? 'id ↓' : 'id ↑';
    void reload();
  });
  $('docs-scroll').addEventListener('scroll', () => render(), { passive: true });
  new ResizeObserver(() => db && render()).observe($('docs-scroll'));
  $('docs-scroll').addEventListener('keydown', (e) => {
    const pageRows = Math.max(1, Math.floor($('docs-scroll').clientHeight / ROW) - 2);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: pageRows, PageUp: -pageRows };
    if (e.key in moves) select(selected + moves[e.key]);
    else if (e.key === 'Home') select(0);
    else if (e.key === 'End') select(count - 1);
    else if (e.key === 'Enter') {
      const r = rowAt(selected);
      if (r && db) open(db, r.id);
    } else return;
    e.preventDefault();
  });
}
