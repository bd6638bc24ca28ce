import * as monaco from 'monaco-editor/editor/editor.api';
import 'monaco-editor/languages/definitions/javascript/register';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import { BackendError, HttpBackend, type Backend } from './backend';
import './style.css';

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

const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
const backend: Backend = new HttpBackend(token);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const editor = monaco.editor.create($('editor'), {
  value: '',
  language: 'javascript',
  theme: 'vs-dark',
  automaticLayout: true,
  minimap: { enabled: false },
  fontSize: 13,
});
(window as unknown as { studioEditor: monaco.editor.IStandaloneCodeEditor }).studioEditor = editor;

let current: { path: string; saved: string } | null = null;
let previewTimer: number | undefined;
let previewSeq = 0;

function status(msg: string, error = false) {
  const s = $('status');
  s.textContent = msg;
  s.classList.toggle('error', error);
}

function renderTree(nodes: TreeNode[]): HTMLUListElement {
  const ul = document.createElement('ul');
  for (const n of nodes) {
    const li = document.createElement('li');
    const label = document.createElement('span');
    label.textContent = n.name;
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
    li.append(label);
    if (n.children?.length) li.append(renderTree(n.children));
    ul.append(li);
  }
  return ul;
}

function showProject(p: ProjectInfo) {
  $('project-name').textContent = `${p.name} ${p.version}`;
  const ex = $('explorer');
  ex.replaceChildren(renderTree(p.tree));
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
    current = { path, saved: f.text };
    editor.setValue(f.text);
    $('tab-title').textContent = path;
    $('tab-title').classList.remove('dirty');
    document.querySelectorAll('#explorer span.active').forEach((e) => e.classList.remove('active'));
    document.querySelector(`#explorer span[data-path="${CSS.escape(path)}"]`)?.classList.add('active');
    schedulePreview(0);
    const v = viewOf(path);
    if (v) showRunner(v);
  } catch (e) {
    status((e as Error).message, true);
  }
}

async function save() {
  if (!current) return;
  const text = editor.getValue();
  try {
    const p = await backend.call<ProjectInfo>('file_write', { path: current.path, text });
    current.saved = text;
    $('tab-title').classList.remove('dirty');
    showProject(p);
    status(`saved ${current.path}`);
  } catch (e) {
    status(`not saved: ${(e as Error).message}`, true);
  }
}

function schedulePreview(delay = 250) {
  window.clearTimeout(previewTimer);
  previewTimer = window.setTimeout(() => void runPreview(), delay);
}

async function runPreview() {
  if (!current) return;
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
    $('problems').textContent = err.message;
    $('preview-meta').textContent = 'The function does not run: see the problem below the editor.';
  }
}

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
  const url = `${location.origin}/${runnerView.db}/_design/${runnerView.ddoc}/_view/${runnerView.view}?${params}`;
  $('runner-curl').textContent = `curl '${url}'`;
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

editor.onDidChangeModelContent(() => {
  if (!current) return;
  $('tab-title').classList.toggle('dirty', editor.getValue() !== current.saved);
  schedulePreview();
});
editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, () => void save());
window.addEventListener('beforeunload', (e) => {
  if (current && editor.getValue() !== current.saved) e.preventDefault();
});

(async () => {
  if (!token) {
    status('No studio token in the URL: open the address printed by `fullsync serve --studio`.', true);
    return;
  }
  try {
    showProject(await backend.call<ProjectInfo>('project_tree'));
    status('ready');
  } catch (e) {
    status((e as Error).message, true);
  }
})();
