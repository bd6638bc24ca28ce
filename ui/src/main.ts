import * as monaco from 'monaco-editor/editor/editor.api';
// The editor features the studio uses (register.all would add ~40 more: code lens, inlay
// hints, sticky scroll...; each costs parse time and memory in the webview).
import 'monaco-editor/features/bracketMatching/register';
import 'monaco-editor/features/clipboard/register';
import 'monaco-editor/features/codeEditor/register';
import 'monaco-editor/features/codicon/register';
import 'monaco-editor/features/comment/register';
import 'monaco-editor/features/contextmenu/register';
import 'monaco-editor/features/cursorUndo/register';
import 'monaco-editor/features/diffEditor/register';
import 'monaco-editor/features/find/register';
import 'monaco-editor/features/folding/register';
import 'monaco-editor/features/format/register';
import 'monaco-editor/features/gotoError/register';
import 'monaco-editor/features/gotoLine/register';
import 'monaco-editor/features/hover/register';
import 'monaco-editor/features/indentation/register';
import 'monaco-editor/features/linesOperations/register';
import 'monaco-editor/features/multicursor/register';
import 'monaco-editor/features/parameterHints/register';
import 'monaco-editor/features/quickCommand/register';
import 'monaco-editor/features/readOnlyMessage/register';
import 'monaco-editor/features/smartSelect/register';
import 'monaco-editor/features/snippet/register';
import 'monaco-editor/features/suggest/register';
import 'monaco-editor/features/inlineCompletions/register'; // brings the suggest widget's controller
import 'monaco-editor/features/tokenization/register';
import 'monaco-editor/features/wordHighlighter/register';
import 'monaco-editor/features/wordOperations/register';
import 'monaco-editor/languages/definitions/javascript/register';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import { BackendError, HttpBackend, connect, type Backend } from './backend';
import { applier, attachMenu, setUsedBy, type NodeCtx } from './explorer-menu';
import { openGit } from './git';
import { openSheet } from './sheets';
import { quickOpen } from './quick-open';
import { openProjectDialog } from './open-project';
import { applyTheme, effectiveTheme, openSettings, savedTheme } from './settings';
import { openAbout } from './about';
import './style.css';
import { mountOps } from './ops';
import { mountAttachments, type AttachmentStub } from './attachments';
import { watchSync } from './sync-status';

(self as unknown as { MonacoEnvironment: monaco.Environment }).MonacoEnvironment = {
  getWorker: () => new EditorWorker(),
};

interface TreeNode { name: string; kind: string; path?: string; children?: TreeNode[] }
interface ProjectInfo { name: string; version: string; tree: TreeNode[]; diagnostics: { message: string; file: string; line?: number }[] }
interface PreviewResult {
  result: { rows: { key: unknown; value: unknown; id?: string }[]; total_rows?: number };
  errors: { id: string; view: string; error: string }[];
  docs: number;
  ms: number;
}

const backend: Backend = connect();
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const editor = monaco.editor.create($('editor'), {
  value: '',
  language: 'javascript',
  theme: effectiveTheme() === 'dark' ? 'vs-dark' : 'vs',
  automaticLayout: true,
  minimap: { enabled: false },
  fontSize: 13,
});
(window as unknown as { studioEditor: monaco.editor.IStandaloneCodeEditor }).studioEditor = editor;

// CouchDB's design-document globals: completions with signatures and docs, and hovers. There is
// no TypeScript checker on these files (QuickJS compiles them instead), so a bare
// `function (doc) {}` never shows a false error.
const COUCH_GLOBALS: Record<string, [string, string]> = {
  emit: ['emit(key, value)', 'Adds a row to the view: `key` is collated the CouchDB way, `value` is any JSON.'],
  log: ['log(message)', 'Writes to the view server log (shown in the studio and `fullsync view`).'],
  sum: ['sum(values)', 'Sum of an array of numbers (reduce helper).'],
  isArray: ['isArray(value)', 'True when `value` is an array.'],
  toJSON: ['toJSON(value)', 'JSON text of `value`.'],
  require: ["require('views/lib/name')", 'Loads a CommonJS module from the design document (`views.lib` in map functions).'],
  getRow: ['getRow()', 'Next row in a list function.'],
  send: ['send(chunk)', 'Sends a chunk of the response in a list function.'],
  start: ['start(response)', 'Starts a list function response (headers, code).'],
  provides: ['provides(type, fn)', 'Registers a handler for a content type in list/show functions.'],
};
monaco.languages.registerCompletionItemProvider('javascript', {
  provideCompletionItems(model, position) {
    const word = model.getWordUntilPosition(position);
    const range = { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, startColumn: word.startColumn, endColumn: word.endColumn };
    return {
      suggestions: Object.entries(COUCH_GLOBALS).map(([name, [signature, doc]]) => ({
        label: name,
        kind: monaco.languages.CompletionItemKind.Function,
        detail: signature,
        documentation: { value: doc },
        insertText: `${name}($0)`,
        insertTextRules: monaco.languages.CompletionItemInsertTextRule.InsertAsSnippet,
        range,
      })),
    };
  },
});
monaco.languages.registerHoverProvider('javascript', {
  provideHover(model, position) {
    const w = model.getWordAtPosition(position);
    const g = w && COUCH_GLOBALS[w.word];
    if (!w || !g) return null;
    return {
      range: new monaco.Range(position.lineNumber, w.startColumn, position.lineNumber, w.endColumn),
      contents: [{ value: '`' + g[0] + '`' }, { value: g[1] }],
    };
  },
});

/** What the editor shows: a project file, or a document of a database (`doc` set). */
let current: { path: string; saved: string; doc?: { db: string; id: string }; readOnly?: boolean } | null = null;
let previewTimer: number | undefined;
let previewSeq = 0;

function status(msg: string, error = false) {
  const s = $('status');
  s.textContent = msg;
  s.classList.toggle('error', error);
}

const applyEdit = applier<ProjectInfo>(backend, (p) => showProject(p), status);
setUsedBy(async (n) => {
  if (n.kind !== 'transaction' && n.kind !== 'connector') return [];
  try {
    const r = await backend.call<{ used_by: { sequence: string; step: string }[] }>('used_by', { kind: n.kind, name: n.name, connector: n.connector ?? '' });
    return r.used_by.map((u) => `${u.sequence} (${u.step})`);
  } catch {
    return [];
  }
});

function renderTree(nodes: TreeNode[], parent: { connector?: string; ddoc?: string } = {}): HTMLUListElement {
  const ul = document.createElement('ul');
  for (const n of nodes) {
    const li = document.createElement('li');
    const label = document.createElement('span');
    label.textContent = n.name;
    label.dataset.node = `${n.kind}:${n.name}`;
    const kind = document.createElement('span');
    kind.className = 'kind';
    kind.textContent = n.kind;
    label.append(kind);
    if (n.path) {
      label.classList.add('file');
      label.dataset.path = n.path;
      label.title = n.path;
      label.addEventListener('click', () => void openFile(n.path!));
    }
    const ctx: NodeCtx = { kind: n.kind, name: n.name, ...parent };
    attachMenu(label, ctx, applyEdit);
    li.append(label);
    const inner = n.kind === 'connector' ? { connector: n.name } : n.kind === 'ddoc' ? { ...parent, ddoc: n.name } : n.kind === 'view' ? { ...parent } : parent;
    if (n.children?.length) li.append(renderTree(n.children, inner));
    ul.append(li);
  }
  return ul;
}
attachMenu($('explorer'), { kind: 'project', name: '' }, applyEdit);
$('git-open').addEventListener('click', () => void openGit(backend, () => void reopenCurrent()));

/** The Open dialog; a newly opened project replaces the explorer and closes the open file. */
function showOpenDialog() {
  void openProjectDialog(
    backend,
    (p) => {
      const info = p as ProjectInfo & { import?: { read_only?: unknown[] } };
      current = null;
      editor.updateOptions({ readOnly: false });
      editor.setValue('');
      $('tab-title').textContent = 'Open a file from the explorer';
      $('tab-title').classList.remove('dirty');
      for (const id of ['runner', 'docs', 'sheet']) $(id).hidden = true;
      hideExternal();
      closeCompare();
      showProject(info);
      const kept = info.import?.read_only?.length;
      status(`opened ${info.name}${kept ? ` (imported; ${kept} Convertigo object(s) kept read-only)` : ''}`);
    },
    () => !current || editor.getValue() === current.saved || confirm(`Discard unsaved changes to ${current.path}?`),
  );
}
$('open-open').addEventListener('click', showOpenDialog);
const editorTheme = (dark: boolean) => monaco.editor.setTheme(dark ? 'vs-dark' : 'vs');
applyTheme(savedTheme(), editorTheme);
window.matchMedia?.('(prefers-color-scheme: light)').addEventListener('change', () => applyTheme(savedTheme(), editorTheme));
$('settings-open').addEventListener('click', () => void openSettings(backend, editorTheme));
$('about-open').addEventListener('click', () => void openAbout(backend));

/** After files changed on disk under the editor (git discard): reload the open file unless it has unsaved edits. */
async function reopenCurrent() {
  if (!current || current.doc || current.readOnly) return;
  const path = current.path;
  const f = await backend.call<{ text: string }>('file_read', { path }).catch(() => null);
  if (!f) return;
  if (editor.getValue() === current.saved) {
    current.saved = f.text;
    editor.setValue(f.text);
  }
}

/** Every file of the open project, for quick open: its path and where it sits in the explorer. */
let projectFiles: { label: string; path: string }[] = [];

function collectFiles(nodes: TreeNode[], trail: string[] = []): { label: string; path: string }[] {
  return nodes.flatMap((n) => [
    ...(n.path ? [{ label: [...trail, n.name].join(' › '), path: n.path }] : []),
    ...collectFiles(n.children ?? [], [...trail, n.name]),
  ]);
}

function showQuickOpen() {
  quickOpen(projectFiles, (path) => void openFile(path));
}

function showProject(p: ProjectInfo) {
  projectFiles = collectFiles(p.tree);
  $('project-name').textContent = `${p.name} ${p.version}`;
  const ex = $('explorer');
  ex.replaceChildren(renderTree(p.tree));
  // A "documents" entry under each connector opens its database.
  ex.querySelectorAll(':scope > ul > li').forEach((li, i) => {
    const db = p.tree[i]?.name;
    if (!db) return;
    const entry = document.createElement('li');
    const label = document.createElement('span');
    label.className = 'file';
    label.dataset.docs = db;
    label.textContent = 'documents';
    const kind = document.createElement('span');
    kind.className = 'kind';
    kind.textContent = 'database';
    label.append(kind);
    label.addEventListener('click', () => void openDocs(db));
    entry.append(label);
    li.querySelector('ul')?.prepend(entry);
  });
  if (p.diagnostics.length) status(`${p.diagnostics.length} problem(s) in the project`, true);
}

/** `connectors/<db>/design/<ddoc>/views/<view>/(map|reduce).js` -> its parts. */
function viewOf(path: string) {
  const m = /^connectors\/([^/]+)\/design\/([^/]+)\/views\/([^/]+)\/(map|reduce)\.js$/.exec(path);
  return m ? { db: m[1], ddoc: m[2], view: m[3], part: m[4] } : null;
}

async function openFile(path: string) {
  if (current && editor.getValue() !== current.saved && !confirm(`Discard unsaved changes to ${current.path}?`)) return;
  try {
    const f = await backend.call<{ text: string }>('file_read', { path });
    hideExternal();
    current = { path, saved: f.text };
    editor.updateOptions({ readOnly: false });
    editor.setValue(f.text);
    $('tab-title').textContent = path;
    $('tab-title').classList.remove('dirty');
    document.querySelectorAll('#explorer span.active').forEach((e) => e.classList.remove('active'));
    document.querySelector(`#explorer span[data-path="${CSS.escape(path)}"]`)?.classList.add('active');
    schedulePreview(0);
    const v = viewOf(path);
    if (v) showRunner(v);
    else $('runner').hidden = true;
    void openSheet(backend, $('sheet'), path, {
      saved(project, file) {
        showProject(project as ProjectInfo);
        if (current?.path === file) void reopenCurrent();
      },
      status,
    });
  } catch (e) {
    status((e as Error).message, true);
  }
}

async function save() {
  if (!current) return;
  const text = editor.getValue();
  if (current.readOnly) {
    status('an older revision is read-only: open the current one in History to edit', true);
    return;
  }
  if (current.doc) {
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      $('problems').textContent = `not saved: the document is not valid JSON (${(e as Error).message})`;
      return;
    }
    try {
      const r = await backend.call<{ id: string; rev: string }>('doc_put', { db: current.doc.db, doc });
      $('problems').textContent = '';
      await openDoc(current.doc.db, r.id, true);
      status(`saved ${r.id} as ${r.rev}`);
      void listDocs();
    } catch (e) {
      $('problems').textContent = `not saved: ${(e as Error).message}`;
    }
    return;
  }
  try {
    const p = await backend.call<ProjectInfo>('file_write', { path: current.path, text, base: current.saved });
    current.saved = text;
    $('tab-title').classList.remove('dirty');
    showProject(p);
    status(`saved ${current.path}`);
  } catch (e) {
    if (e instanceof BackendError && e.code === 'conflict') {
      void checkExternal();
      return;
    }
    status(`not saved: ${(e as Error).message}`, true);
  }
}

function schedulePreview(delay = 250) {
  window.clearTimeout(previewTimer);
  previewTimer = window.setTimeout(() => void runPreview(), delay);
}

async function runPreview() {
  if (!current || current.doc) return;
  const v = viewOf(current.path);
  if (!v) {
    $('preview-meta').textContent = 'Open a map or reduce function to see its rows.';
    return;
  }
  const seq = ++previewSeq;
  let map = editor.getValue();
  let reduce: string | undefined;
  const sibling = current.path.replace(/(map|reduce)\.js$/, v.part === 'map' ? 'reduce.js' : 'map.js');
  if (v.part === 'reduce') {
    reduce = map;
    map = (await backend.call<{ text: string }>('file_read', { path: sibling })).text;
  } else {
    reduce = await backend.call<{ text: string }>('file_read', { path: sibling }).then((f) => f.text, () => undefined);
  }
  try {
    const query = reduce ? { group: true, limit: 100 } : { limit: 100 };
    const r = await backend.call<PreviewResult>('preview', { db: v.db, map, reduce, query, ddoc: v.ddoc });
    if (seq !== previewSeq) return;
    $('problems').textContent = '';
    markProblem(null);
    const total = r.result.total_rows !== undefined ? ` of ${r.result.total_rows}` : '';
    $('preview-meta').textContent = `${v.db} · ${r.result.rows.length} row(s)${total} · ${r.docs} docs · ${r.ms.toFixed(1)} ms`;
    $('preview-errors').textContent = r.errors.map((e) => `doc ${e.id}: ${e.error}`).join('\n');
    const body = document.querySelector('#preview-rows tbody')!;
    body.replaceChildren(
      ...r.result.rows.map((row) => {
        const tr = document.createElement('tr');
        for (const text of [JSON.stringify(row.key), JSON.stringify(row.value), row.id ?? '']) {
          const td = document.createElement('td');
          td.textContent = text;
          tr.append(td);
        }
        return tr;
      }),
    );
  } catch (e) {
    if (seq !== previewSeq) return;
    const err = e as BackendError;
    $('problems').textContent = err.line ? `line ${err.line}: ${err.message}` : err.message;
    // The line is in the edited function (map.js is the function), unless the reduce failed.
    markProblem(err.line && (v.part === 'map' ? err.message.includes('map') : err.message.includes('reduce')) ? { line: err.line, message: err.message } : null);
    $('preview-meta').textContent = 'The function does not run: see the problem below the editor.';
  }
}

/** A QuickJS compile error as a marker on its line in the editor (none: clears it). */
function markProblem(p: { line: number; message: string } | null) {
  const model = editor.getModel();
  if (!model) return;
  monaco.editor.setModelMarkers(
    model,
    'quickjs',
    p && p.line <= model.getLineCount()
      ? [{ severity: monaco.MarkerSeverity.Error, message: p.message, startLineNumber: p.line, startColumn: model.getLineFirstNonWhitespaceColumn(p.line) || 1, endLineNumber: p.line, endColumn: model.getLineMaxColumn(p.line) }]
      : [],
  );
}

// ---- Documents: list with id search and counts, edit as JSON, create, delete.
let docsDb: string | null = null;

async function openDocs(db: string) {
  docsDb = db;
  $('docs').hidden = false;
  $('docs-db').textContent = db;
  await listDocs();
  await startChanges(db);
}

// ---- Live `_changes` of the open database: the newest 50, then polled every second.
type Change = { seq: number; id: string; changes: { rev: string }[]; deleted?: boolean };
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
    const first = await backend.call<{ results: Change[]; last_seq: number }>('changes', { db, latest: true, limit: 50 });
    list.replaceChildren(...first.results.map((c) => changeRow(db, c)));
    since = first.last_seq;
  } catch (e) {
    $('changes-live').textContent = `stopped: ${(e as Error).message}`;
    return;
  }
  const poll = async () => {
    if (gen !== changesGen) return;
    try {
      const next = await backend.call<{ results: Change[]; last_seq: number }>('changes', { db, since, limit: 100 });
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

async function listDocs() {
  if (!docsDb) return;
  const prefix = ($('docs-search') as HTMLInputElement).value;
  try {
    const r = await backend.call<{ total: number; rows: { id: string; value: { rev: string } }[] }>('docs_list', { db: docsDb, prefix, limit: 200 });
    $('docs-count').textContent = `${r.rows.length} shown of ${r.total} document(s)`;
    $('docs-list').replaceChildren(
      ...r.rows.map((row) => {
        const li = document.createElement('li');
        li.textContent = row.id;
        li.dataset.id = row.id;
        li.addEventListener('click', () => void openDoc(docsDb!, row.id));
        return li;
      }),
    );
  } catch (e) {
    $('docs-count').textContent = (e as Error).message;
  }
}

async function openDoc(db: string, id: string, force = false, rev?: string) {
  if (!force && current && editor.getValue() !== current.saved && !confirm(`Discard unsaved changes to ${current.path}?`)) return;
  const doc = await backend.call<Record<string, unknown>>('doc_get', rev ? { db, id, rev } : { db, id });
  const history = (doc._revs_info as { rev: string; status: string }[] | undefined) ?? [];
  const conflicts = (doc._conflicts as string[] | undefined) ?? [];
  delete doc._revs_info;
  delete doc._conflicts;
  const text = JSON.stringify(doc, null, 2);
  current = { path: `${db}/${id}`, saved: text, doc: { db, id }, readOnly: !!rev };
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
  mayReload: () => !current || editor.getValue() === current.saved || confirm(`Discard unsaved changes to ${current.path}?`),
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

// ---- Conflicts: compare each live leaf with the winner, keep one or a merge; deletions confirmed by name.
let conflictLeaves: { db: string; id: string; leaves: Record<string, unknown>[] } | null = null;
let diffEditor: monaco.editor.IStandaloneDiffEditor | null = null;
const pretty = (d: unknown) => JSON.stringify(d, null, 2);

function closeCompare() {
  $('conflict-diff').hidden = true;
  $('diffbar').hidden = true;
}
$('diff-close').addEventListener('click', closeCompare);

async function showConflicts(db: string, id: string, any: boolean) {
  closeCompare();
  if (!any) {
    $('conflicts').hidden = true;
    conflictLeaves = null;
    return;
  }
  const leaves = await backend.call<Record<string, unknown>[]>('doc_revisions', { db, id });
  conflictLeaves = { db, id, leaves };
  $('conflicts').hidden = false;
  $('conflict-list').replaceChildren(
    ...leaves.map((leaf, i) => {
      const li = document.createElement('li');
      li.dataset.rev = String(leaf._rev);
      const label = document.createElement('code');
      label.textContent = `${leaf._rev}${i === 0 ? ' (winner)' : ''}`;
      const cmp = document.createElement('button');
      cmp.textContent = 'Compare';
      cmp.disabled = i === 0;
      cmp.addEventListener('click', () => compareLeaf(leaves[0], leaf));
      const keep = document.createElement('button');
      keep.textContent = 'Keep this';
      keep.className = 'keep';
      keep.addEventListener('click', () => void resolve(String(leaf._rev)));
      li.append(label, cmp, keep);
      return li;
    }),
  );
}

/** The read-only side-by-side compare under the editor (its previous texts are disposed). */
function showCompare(title: string, original: string, modified: string, language: string) {
  const box = $('conflict-diff');
  box.hidden = false;
  $('diffbar').hidden = false;
  $('diff-title').textContent = title;
  diffEditor ??= monaco.editor.createDiffEditor(box, { automaticLayout: true, readOnly: true, renderSideBySide: true, useInlineViewWhenSpaceIsLimited: false, renderIndicators: false, renderMarginRevertIcon: false, minimap: { enabled: false } });
  const old = diffEditor.getModel();
  diffEditor.setModel({ original: monaco.editor.createModel(original, language), modified: monaco.editor.createModel(modified, language) });
  old?.original.dispose();
  old?.modified.dispose();
}

function compareLeaf(winner: Record<string, unknown>, other: Record<string, unknown>) {
  showCompare(`left: ${winner._rev} (winner) · right: ${other._rev}`, pretty(winner), pretty(other), 'json');
}

async function resolve(keep: string, body?: Record<string, unknown>) {
  if (!conflictLeaves) return;
  const { db, id, leaves } = conflictLeaves;
  const others = leaves.map((l) => String(l._rev)).filter((r) => r !== keep);
  const what = body ? `Save the editor's text as a new revision on top of ${keep}` : `Keep ${keep}`;
  if (!confirm(`${what} and delete ${others.length} revision(s): ${others.join(', ')}?`)) return;
  try {
    const r = await backend.call<{ rev: string }>('doc_resolve', { db, id, keep, delete: others, body });
    await openDoc(db, id, true);
    status(`${id} resolved: kept ${r.rev}, deleted ${others.join(', ')}`);
  } catch (e) {
    status((e as Error).message, true);
  }
}

$('conflict-merge').addEventListener('click', () => {
  if (!conflictLeaves) return;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(editor.getValue());
  } catch (e) {
    $('problems').textContent = `not merged: the editor's text is not valid JSON (${(e as Error).message})`;
    return;
  }
  const keep = String(body._rev ?? conflictLeaves.leaves[0]._rev);
  delete body._conflicts;
  void resolve(keep, body);
});

$('docs-search').addEventListener('input', () => void listDocs());
$('docs-new').addEventListener('click', () => {
  if (!docsDb) return;
  const text = '{\n  "_id": "new-document",\n  "type": ""\n}\n';
  current = { path: `${docsDb}/(new)`, saved: '', doc: { db: docsDb, id: '' } };
  editor.updateOptions({ readOnly: false });
  $('history').hidden = true;
  attachments.show(null);
  editor.setValue(text);
  $('tab-title').textContent = `${docsDb} › new document (Ctrl-S to create)`;
});
$('docs-delete').addEventListener('click', async () => {
  if (!current?.doc?.id) return;
  const doc = JSON.parse(current.saved) as { _rev: string };
  if (!confirm(`Delete ${current.doc.id} (revision ${doc._rev})? Other revisions stay.`)) return;
  try {
    await backend.call('doc_delete', { db: current.doc.db, id: current.doc.id, rev: doc._rev });
    status(`deleted ${current.doc.id}`);
    current = null;
    $('history').hidden = true;
    attachments.show(null);
    editor.setValue('');
    $('tab-title').textContent = 'Open a file from the explorer';
    void listDocs();
  } catch (e) {
    status((e as Error).message, true);
  }
});

// ---- View runner: every query option, JSON keys validated as you type, the equivalent curl.
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

function showRunner(v: { db: string; ddoc: string; view: string }) {
  runnerView = v;
  $('runner').hidden = false;
  $('runner-view').textContent = `${v.ddoc}/${v.view}`;
}

async function runQuery() {
  if (!runnerView) return;
  const q = runnerQuery();
  if (!q) {
    $('runner-meta').textContent = 'Fix the highlighted JSON fields.';
    return;
  }
  const params = new URLSearchParams(Object.entries(q).map(([k, v]) => [k, typeof v === 'string' || JSON_FIELDS.includes(k) ? JSON.stringify(v) : String(v)]));
  const url = `${await backend.httpBase()}/${runnerView.db}/_design/${runnerView.ddoc}/_view/${runnerView.view}?${params}`;
  // Project databases are FullSync databases: the CouchDB API answers views there to an admin
  // only. curl asks for the password of the local admin (local-admin.json, configuration folder).
  $('runner-curl').textContent = `curl -u admin '${url}'`;
  $('runner-curl').title = "The local admin's password is in local-admin.json of the configuration folder (see Settings).";
  try {
    const r = await backend.call<{ result: { rows: unknown[]; total_rows?: number; offset?: number }; ms: number }>('view_query', { ...runnerView, query: q });
    const total = r.result.total_rows !== undefined ? ` · total_rows ${r.result.total_rows} · offset ${r.result.offset}` : '';
    $('runner-meta').textContent = `${r.result.rows.length} row(s)${total} · ${r.ms.toFixed(1)} ms`;
    $('runner-json').textContent = JSON.stringify(r.result, null, 2);
  } catch (e) {
    $('runner-meta').textContent = (e as Error).message;
    $('runner-json').textContent = '';
  }
}

$('runner-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void runQuery();
});
$('runner-form').addEventListener('input', () => void runnerQuery());

// The operations screens: listener activity, replication, deploy.
mountOps(backend, {
  async openDoc(db, id) {
    await openDocs(db);
    await openDoc(db, id).catch((e) => status((e as Error).message, true));
  },
});

editor.onDidChangeModelContent(() => {
  if (!current) return;
  $('tab-title').classList.toggle('dirty', editor.getValue() !== current.saved);
  schedulePreview();
});
editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, () => void save());
editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyP, showQuickOpen);
window.addEventListener('keydown', (e) => {
  if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === 'p') {
    e.preventDefault();
    showQuickOpen();
  }
});

// ---- External changes to the open file (another editor, git, a generator): reloaded when the
// editor has no unsaved edits; otherwise offered (compare, take the disk version, keep mine).
// Saves carry the loaded text as `base`, so the backend refuses to overwrite a change it has
// not shown.
let diskText: string | null = null;

async function checkExternal() {
  if (!current || current.doc || current.readOnly) return;
  const path = current.path;
  let disk: string;
  try {
    disk = (await backend.call<{ text: string }>('file_read', { path })).text;
  } catch {
    return; // deleted or unreadable: a save recreates it
  }
  if (!current || current.path !== path || disk === current.saved) return;
  if (editor.getValue() === current.saved) {
    const pos = editor.getPosition();
    current.saved = disk;
    editor.setValue(disk);
    if (pos) editor.setPosition(pos);
    status(`reloaded ${path}: it changed on disk`);
    schedulePreview(0);
    return;
  }
  if (diskText === disk) return;
  diskText = disk;
  $('ext-text').textContent = `${path} changed on disk while you were editing it.`;
  $('extbar').hidden = false;
}

function hideExternal() {
  diskText = null;
  $('extbar').hidden = true;
}

$('ext-compare').addEventListener('click', () => {
  if (diskText === null || !current) return;
  showCompare(`left: on disk · right: your edits (${current.path})`, diskText, editor.getValue(), 'javascript');
});
$('ext-take').addEventListener('click', () => {
  if (diskText === null || !current) return;
  current.saved = diskText;
  editor.setValue(diskText);
  hideExternal();
  closeCompare();
  status(`took the disk version of ${current.path}`);
});
$('ext-keep').addEventListener('click', () => {
  if (diskText === null || !current) return;
  // The disk version becomes the base: the next save replaces it with yours.
  current.saved = diskText;
  $('tab-title').classList.add('dirty');
  hideExternal();
  closeCompare();
  status(`keeping your edits of ${current.path}: save (Ctrl-S) to replace the disk version`);
});
window.setInterval(() => {
  if (document.visibilityState === 'visible') void checkExternal();
}, 2000);
window.addEventListener('focus', () => void checkExternal());
window.addEventListener('beforeunload', (e) => {
  if (current && editor.getValue() !== current.saved) e.preventDefault();
});

(async () => {
  if (backend instanceof HttpBackend && !backend.hasToken()) {
    status('No studio token in the URL: open the address printed by `fullsync serve --studio`.', true);
    return;
  }
  // Every applied change (the studio's or another program's): new files appear, the open file reloads.
  watchSync(backend, $('sync'), () => {
    void backend
      .call<ProjectInfo>('project_tree')
      .then((p) => {
        showProject(p);
        if (current && !current.doc) document.querySelector(`#explorer span[data-path="${CSS.escape(current.path)}"]`)?.classList.add('active');
      })
      .catch(() => {});
    void checkExternal();
  });
  try {
    // Started by index.html before the bundle loaded; the same command otherwise.
    const boot = (window as unknown as { __studioBoot?: Promise<ProjectInfo> | null }).__studioBoot;
    const first = boot
      ? boot.catch((e: { code?: string; message?: string }) => {
          throw new BackendError(e?.code ?? 'internal', e?.message ?? String(e));
        })
      : backend.call<ProjectInfo>('project_tree');
    showProject(await first);
    status('ready · Ctrl-P goes to a file');
  } catch (e) {
    status((e as Error).message, true);
    if (e instanceof BackendError && e.code === 'invalid_project') showOpenDialog();
  }
})();
