// Documents of a database: list with id search and counts, edit as JSON, create, delete, the
// revision history, attachments and the live `_changes` feed of the database.

import type { ChangesPage } from './api-types';
import { mountAttachments, type AttachmentStub } from './attachments';
import { showConflicts } from './conflicts';
import { editor, mayDiscard } from './editor';
import { $, backend, state, status } from './state';
import { offerSampleData } from './sample-data';

/** Opens the Documents panel on a database. */
export async function openDocs(db: string) {
  state.docsDb = db;
  $('docs').hidden = false;
  $('docs-db').textContent = db;
  await listDocs();
  await startChanges(db);
}

// ---- Live `_changes` of the open database: the newest 50, then polled every second.
/** One row of the `_changes` feed. */
type Change = ChangesPage['results'][number];
let changesTimer: number | undefined;
let changesGen = 0;

function changeRow(db: string, c: Change): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.id = c.id;
  li.textContent = `${c.seq}  ${c.id}  ${c.changes[0]?.rev ?? ''}${c.deleted ? '  deleted' : ''}`;
  if (c.deleted) li.classList.add('deleted');
  li.addEventListener('click', () => void openDoc(db, c.id).catch((e) => status((e as Error).message, true)));
  return li;
}

async function startChanges(db: string) {
  const gen = ++changesGen;
  window.clearTimeout(changesTimer);
  const list = $('changes-list');
  let since = 0;
  try {
    const first = await backend.call('changes', { db, latest: true, limit: 50 });
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
      if (next.results.length) void listDocs();
    } catch (e) {
      $('changes-live').textContent = `retrying: ${(e as Error).message}`;
    }
    changesTimer = window.setTimeout(poll, 1000);
  };
  changesTimer = window.setTimeout(poll, 1000);
}

/** Lists the documents of the open database (filtered by the id search). */
export async function listDocs() {
  if (!state.docsDb) return;
  const prefix = ($('docs-search') as HTMLInputElement).value;
  try {
    const r = await backend.call('docs_list', { db: state.docsDb, prefix, limit: 200 });
    $('docs-count').textContent = `${r.rows.length} shown of ${r.total} document(s)`;
    if (!prefix && r.rows.every((row) => row.id.startsWith('_design/'))) {
      const db = state.docsDb;
      void offerSampleData(backend, db, $('docs-count'), (msg, error) => {
        status(msg, error);
        if (state.docsDb === db) void listDocs();
      });
    }
    $('docs-list').replaceChildren(
      ...r.rows.map((row) => {
        const li = document.createElement('li');
        li.textContent = row.id;
        li.dataset.id = row.id;
        li.addEventListener('click', () => void openDoc(state.docsDb!, row.id));
        return li;
      }),
    );
  } catch (e) {
    $('docs-count').textContent = (e as Error).message;
  }
}

/** Opens a document in the editor (`rev`: an older revision, read-only; `force`: drop unsaved edits). */
export async function openDoc(db: string, id: string, force = false, rev?: string) {
  if (!force && !mayDiscard()) return;
  const doc = await backend.call('doc_get', rev ? { db, id, rev } : { db, id });
  const history = (doc._revs_info as { rev: string; status: string }[] | undefined) ?? [];
  const conflicts = (doc._conflicts as string[] | undefined) ?? [];
  delete doc._revs_info;
  delete doc._conflicts;
  const text = JSON.stringify(doc, null, 2);
  state.current = { path: `${db}/${id}`, saved: text, doc: { db, id }, readOnly: !!rev };
  editor.updateOptions({ readOnly: !!rev });
  editor.setValue(text);
  $('tab-title').textContent = rev ? `${db} › ${id} @ ${rev} (older revision, read-only)` : `${db} › ${id}`;
  $('tab-title').classList.remove('dirty');
  // An older revision's `_revs_info` stops at itself: keep listing the current document's history.
  if (!rev) currentHistory = history;
  showHistory(db, id, rev ? currentHistory : history, String(doc._rev), !!rev);
  attachments.show({ db, id, rev: String(doc._rev), attachments: (doc._attachments ?? {}) as Record<string, AttachmentStub>, readOnly: !!rev });
  if (rev) {
    status(`${id} at ${rev}: an older revision, read-only; click the first revision in History to go back`);
    return;
  }
  status(conflicts.length ? `${id} has ${conflicts.length} conflicting revision(s): ${conflicts.join(', ')}` : `${id} ${doc._rev}`, conflicts.length > 0);
  await showConflicts(db, id, conflicts.length > 0);
}

let currentHistory: { rev: string; status: string }[] = [];

// Attachments of the open document (ui/src/attachments.ts): after an upload or a delete the
// document is reopened, so the editor shows the new `_rev` and `_attachments`.
const attachments = mountAttachments(backend, $('attachments'), {
  mayReload: mayDiscard,
  reload: (db, id) => openDoc(db, id, true),
});

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

$('docs-search').addEventListener('input', () => void listDocs());
$('docs-new').addEventListener('click', () => {
  if (!state.docsDb) return;
  const text = '{\n  "_id": "new-document",\n  "type": ""\n}\n';
  state.current = { path: `${state.docsDb}/(new)`, saved: '', doc: { db: state.docsDb, id: '' } };
  editor.updateOptions({ readOnly: false });
  $('history').hidden = true;
  attachments.show(null);
  editor.setValue(text);
  $('tab-title').textContent = `${state.docsDb} › new document (Ctrl-S to create)`;
});
$('docs-delete').addEventListener('click', async () => {
  if (!state.current?.doc?.id) return;
  const doc = JSON.parse(state.current.saved) as { _rev: string };
  if (!confirm(`Delete ${state.current.doc.id} (revision ${doc._rev})? Other revisions stay.`)) return;
  try {
    await backend.call('doc_delete', { db: state.current.doc.db, id: state.current.doc.id, rev: doc._rev });
    status(`deleted ${state.current.doc.id}`);
    state.current = null;
    $('history').hidden = true;
    attachments.show(null);
    editor.setValue('');
    $('tab-title').textContent = 'Open a file from the explorer';
    void listDocs();
  } catch (e) {
    status((e as Error).message, true);
  }
});

/** Saves the open document (Ctrl-S): the editor's JSON as a new revision. */
export async function saveDoc() {
  const open = state.current;
  if (!open?.doc) return;
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(editor.getValue());
  } catch (e) {
    $('problems').textContent = `not saved: the document is not valid JSON (${(e as Error).message})`;
    return;
  }
  try {
    const r = await backend.call('doc_put', { db: open.doc.db, doc });
    $('problems').textContent = '';
    await openDoc(open.doc.db, r.id, true);
    status(`saved ${r.id} as ${r.rev}`);
    void listDocs();
  } catch (e) {
    $('problems').textContent = `not saved: ${(e as Error).message}`;
  }
}
