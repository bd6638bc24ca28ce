// Documents of a database: the documents table in a tab (docs-table.ts), each document in its
// own tab (edit as JSON, create, delete), and in the context panel its conflicts, revision
// tree, history and attachments; the live `_changes` feed of the database in the bottom panel.

import type { ChangesPage } from './api-types';
import { mountAttachments, type AttachmentStub } from './attachments';
import { showConflicts } from './conflicts';
import { mountTable, onOpenRow, refresh, showTable, tableDb } from './docs-table';
import { showBottomTab } from './layout';
import { showRevTree } from './revtree';
import { $, backend, state, status } from './state';
import { activate, closeTab, findTab, openTab, retitle, showTitle, tabDirty, type Tab } from './tabs';

/** Opens the documents table of a database in a tab (and follows its changes below). */
export async function openDocs(db: string) {
  state.docsDb = db;
  openTab({ key: `docs:${db}`, kind: 'docs', label: `${db} · documents`, title: `${db} › documents`, db, ctx: ['docs'], ctxTitle: 'Documents', onShow: docsShown });
  await showTable(db);
  await startChanges(db);
  showBottomTab('changes', false);
}

function docsShown(t: Tab) {
  $('docs-side-db').textContent = t.db!;
  if (tableDb() !== t.db) void showTable(t.db!);
  if (changesDb !== t.db) void startChanges(t.db!);
}

mountTable();
onOpenRow((db, id) => void openDoc(db, id).catch((e) => status((e as Error).message, true)));

// ---- Live `_changes` of the last database opened: the newest 50, then polled every second.
/** One row of the `_changes` feed. */
type Change = ChangesPage['results'][number];
let changesTimer: number | undefined;
let changesGen = 0;
let changesDb: string | null = null;
let refreshTimer: number | undefined;

function changeRow(db: string, c: Change): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.id = c.id;
  li.className = 'link';
  li.textContent = `${c.seq}  ${c.id}  ${c.changes[0]?.rev ?? ''}${c.deleted ? '  deleted' : ''}`;
  li.title = c.deleted ? `${c.id} was deleted` : `Open ${c.id}`;
  if (c.deleted) li.classList.add('deleted');
  li.addEventListener('click', () => void openDoc(db, c.id).catch((e) => status((e as Error).message, true)));
  return li;
}

async function startChanges(db: string) {
  const gen = ++changesGen;
  changesDb = db;
  window.clearTimeout(changesTimer);
  $('changes-db').textContent = db;
  const list = $('changes-list');
  let since = 0;
  try {
    const first = await backend.call('changes', { db, latest: true, limit: 50 });
    if (gen !== changesGen) return;
    list.replaceChildren(...first.results.map((c) => changeRow(db, c)));
    since = first.last_seq;
  } catch (e) {
    $('changes-live').textContent = `stopped: ${(e as Error).message}`;
    return;
  }
  const poll = async () => {
    if (gen !== changesGen) return;
    try {
      const next = await backend.call('changes', { db, since, limit: 100 });
      if (gen !== changesGen) return;
      for (const c of next.results) list.prepend(changeRow(db, c));
      while (list.children.length > 100) list.lastElementChild?.remove();
      since = next.last_seq;
      $('changes-live').textContent = 'live';
      // The table follows the writes (at most once a second, and only when it shows this database).
      if (next.results.length && tableDb() === db) {
        window.clearTimeout(refreshTimer);
        refreshTimer = window.setTimeout(() => void refresh(), 300);
      }
    } catch (e) {
      $('changes-live').textContent = `retrying: ${(e as Error).message}`;
    }
    changesTimer = window.setTimeout(poll, 1000);
  };
  changesTimer = window.setTimeout(poll, 1000);
}

/** Reloads the documents table (after a write from the studio). */
export async function listDocs() {
  if (tableDb()) await refresh();
}

interface DocMeta { history: { rev: string; status: string }[]; conflicts: string[]; rev: string; attachments: Record<string, AttachmentStub>; old?: string }
const metas = new WeakMap<Tab, DocMeta>();

/**
 * Opens a document in its tab (`rev`: an older revision, read-only; `force`: reload even over
 * unsaved edits). A document already open with unsaved edits is only shown again.
 */
export async function openDoc(db: string, id: string, force = false, rev?: string) {
  const key = `doc:${db}/${id}`;
  const have = findTab(key);
  if (have && !force && tabDirty(have) && !confirm(`Discard unsaved changes to ${have.title}?`)) {
    activate(have);
    return;
  }
  const doc = await backend.call('doc_get', rev ? { db, id, rev } : { db, id });
  const history = (doc._revs_info as { rev: string; status: string }[] | undefined) ?? [];
  const conflicts = (doc._conflicts as string[] | undefined) ?? [];
  delete doc._revs_info;
  delete doc._conflicts;
  const text = JSON.stringify(doc, null, 2);
  const title = rev ? `${db} › ${id} @ ${rev} (older revision, read-only)` : `${db} › ${id}`;
  const item = { path: `${db}/${id}`, saved: text, doc: { db, id }, readOnly: !!rev };
  const prev = have ? metas.get(have) : undefined;
  // An older revision's `_revs_info` stops at itself: keep listing the current document's history.
  const meta: DocMeta = { history: rev && prev ? prev.history : history, conflicts, rev: String(doc._rev), attachments: (doc._attachments ?? {}) as Record<string, AttachmentStub>, old: rev };
  let t = have;
  if (!t) {
    t = { key, kind: 'doc', label: id, title, db, item, ctx: ['doc'], ctxTitle: 'Document', onShow: docShown };
    metas.set(t, meta);
    openTab(t, text);
  } else {
    t.item = item;
    t.title = title;
    metas.set(t, meta);
    t.model!.setValue(text);
    activate(t);
  }
  if (rev) {
    status(`${id} at ${rev}: an older revision, read-only; click the first revision in History to go back`);
    return;
  }
  status(conflicts.length ? `${id} has ${conflicts.length} conflicting revision(s): ${conflicts.join(', ')}` : `${id} ${doc._rev}`, conflicts.length > 0);
}

/** A document tab became the active one: its history, conflicts, revision tree, attachments. */
function docShown(t: Tab) {
  const meta = metas.get(t);
  const { db, id } = t.item!.doc!;
  $('docs-db').textContent = id ? `${db} › ${id}` : `${db} › new`;
  $('docs-delete').toggleAttribute('disabled', !id);
  if (!meta || !id) {
    $('history').hidden = true;
    $('revtree').hidden = true;
    $('conflicts').hidden = true;
    attachments.show(null);
    return;
  }
  showHistory(db, id, meta.history, meta.old ?? meta.rev, !!meta.old);
  attachments.show({ db, id, rev: meta.rev, attachments: meta.attachments, readOnly: !!meta.old });
  void showRevTree(db, id, meta.old ?? meta.rev, (rev, current) => void openDoc(db, id, false, current ? undefined : rev).catch((e) => status((e as Error).message, true)));
  if (!meta.old) void showConflicts(db, id, meta.conflicts.length > 0);
}

// Attachments of the open document (ui/src/attachments.ts): after an upload or a delete the
// document is reopened, so the editor shows the new `_rev` and `_attachments`.
const attachments = mountAttachments(backend, $('attachments'), {
  mayReload: () => !state.current || !state.current.doc || state.current.readOnly || !tabDirtyActive() || confirm(`Discard unsaved changes to ${state.current.path}?`),
  reload: (db, id) => openDoc(db, id, true),
});

function tabDirtyActive(): boolean {
  const t = state.current?.doc ? findTab(`doc:${state.current.doc.db}/${state.current.doc.id}`) : undefined;
  return !!t && tabDirty(t);
}

/** Revision history of the open document (`_revs_info`): older bodies open read-only. */
function showHistory(db: string, id: string, history: { rev: string; status: string }[], shown: string, old: boolean) {
  $('history').hidden = history.length === 0;
  $('history-list').replaceChildren(
    ...history.map((h, i) => {
      const li = document.createElement('li');
      li.dataset.rev = h.rev;
      li.textContent = `${h.rev}  ${h.status === 'available' ? '' : h.status}${i === 0 ? '  (current)' : ''}`;
      if (h.rev === shown) li.classList.add('active');
      if (h.status === 'available' && h.rev !== shown) {
        li.classList.add('link');
        li.addEventListener('click', () => void openDoc(db, id, false, i === 0 && old ? undefined : h.rev).catch((e) => status((e as Error).message, true)));
      }
      return li;
    }),
  );
}

$('docs-new').addEventListener('click', () => {
  const db = tableDb() ?? state.docsDb;
  if (!db) return;
  const text = '{\n  "_id": "new-document",\n  "type": ""\n}\n';
  const have = findTab(`doc:${db}/`);
  if (have) closeTab(have);
  const t: Tab = { key: `doc:${db}/`, kind: 'doc', label: 'new document', title: `${db} › new document (Ctrl-S to create)`, db, item: { path: `${db}/(new)`, saved: '', doc: { db, id: '' } }, ctx: ['doc'], ctxTitle: 'Document', onShow: docShown };
  openTab(t, text);
});
$('docs-table-open').addEventListener('click', () => {
  const db = state.current?.doc?.db ?? state.docsDb;
  if (db) void openDocs(db);
});
$('docs-delete').addEventListener('click', async () => {
  if (!state.current?.doc?.id) return;
  const doc = JSON.parse(state.current.saved) as { _rev: string };
  const { db, id } = state.current.doc;
  if (!confirm(`Delete ${id} (revision ${doc._rev})? Other revisions stay.`)) return;
  try {
    await backend.call('doc_delete', { db, id, rev: doc._rev });
    status(`deleted ${id}`);
    const t = findTab(`doc:${db}/${id}`);
    if (t) closeTab(t, true);
    void listDocs();
  } catch (e) {
    status((e as Error).message, true);
  }
});

/** Saves the open document (Ctrl-S): the editor's JSON as a new revision. */
export async function saveDoc() {
  const open = state.current;
  if (!open?.doc) return;
  const t = findTab(`doc:${open.doc.db}/${open.doc.id}`);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(t?.model?.getValue() ?? '');
  } catch (e) {
    $('problems').textContent = `not saved: the document is not valid JSON (${(e as Error).message})`;
    return;
  }
  try {
    const r = await backend.call('doc_put', { db: open.doc.db, doc });
    $('problems').textContent = '';
    if (t && !open.doc.id) {
      // A new document: its tab becomes the document's.
      t.item!.doc = { db: open.doc.db, id: r.id };
      t.item!.path = `${open.doc.db}/${r.id}`;
      retitle(t, `doc:${open.doc.db}/${r.id}`, r.id, `${open.doc.db} › ${r.id}`);
    }
    await openDoc(open.doc.db, r.id, true);
    showTitle();
    status(`saved ${r.id} as ${r.rev}`);
    void listDocs();
  } catch (e) {
    $('problems').textContent = `not saved: ${(e as Error).message}`;
    status(`not saved: ${(e as Error).message}`, true);
  }
}
