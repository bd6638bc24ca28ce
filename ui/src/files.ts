// Project files in the editor: open, save (refused when the file changed on disk since it was
// loaded), and external changes (another editor, git, a generator): reloaded when the editor
// has no unsaved edits; otherwise offered (compare, take the disk version, keep mine). Saves
// carry the loaded text as `base`, so the backend refuses to overwrite a change it has not shown.

import { BackendError } from './backend';
import { closeCompare, editor, showCompare } from './editor';
import { showProject } from './explorer';
import { schedulePreview, viewOf } from './preview';
import { showRunner } from './runner';
import { openSheet, sheetOf } from './sheets';
import { activate, findTab, openTab, showTitle, type Tab } from './tabs';
import { showTester } from './tester';
import { $, backend, state, status } from './state';

let diskText: string | null = null;

/** After files changed on disk under the editor (git discard): reload the open file unless it has unsaved edits. */
export async function reopenCurrent() {
  if (!state.current || state.current.doc || state.current.readOnly) return;
  const path = state.current.path;
  const f = await backend.call('file_read', { path }).catch(() => null);
  if (!f) return;
  if (editor.getValue() === state.current.saved) {
    state.current.saved = f.text;
    editor.setValue(f.text);
  }
}

/** `connectors/<db>/design/<ddoc>/filters/<name>.js` or `.../validate_doc_update.js` -> its parts. */
export function testableOf(path: string): { db: string; ddoc: string; kind: 'filter' | 'validate'; name: string } | null {
  const m = /^connectors\/([^/]+)\/design\/([^/]+)\/(?:filters\/([^/]+)|(validate_doc_update))\.js$/.exec(path);
  return m ? { db: m[1], ddoc: m[2], kind: m[3] ? 'filter' : 'validate', name: m[3] ?? 'validate_doc_update' } : null;
}

/** What the context panel shows for a file. */
function contextOf(path: string): string[] {
  if (viewOf(path)) return ['view'];
  if (testableOf(path)) return ['tester'];
  if (sheetOf(path)) return ['sheet'];
  return [];
}

/** A file's short label: its last two path segments. */
const shortLabel = (path: string) => path.split('/').slice(-2).join(' › ');

/** Opens a project file in a tab (or shows its tab), at `line` when given. */
export async function openFile(path: string, line?: number) {
  const have = findTab(`file:${path}`);
  if (have) {
    activate(have);
    reveal(line);
    return;
  }
  try {
    const f = await backend.call('file_read', { path });
    openTab({ key: `file:${path}`, kind: 'file', label: shortLabel(path), title: path, item: { path, saved: f.text }, ctx: contextOf(path), ctxTitle: viewOf(path) ? 'View' : testableOf(path) ? 'Tester' : sheetOf(path) ? 'Properties' : undefined, onShow: fileShown }, f.text);
    reveal(line);
  } catch (e) {
    status((e as Error).message, true);
  }
}

function reveal(line?: number) {
  if (!line) return;
  editor.revealLineInCenter(line);
  editor.setPosition({ lineNumber: line, column: 1 });
  editor.focus();
}

/** A file tab became the active one: its explorer node, preview, runner, sheet or tester. */
function fileShown(t: Tab) {
  const path = t.item!.path;
  hideExternal();
  closeCompare();
  document.querySelectorAll('#explorer span.active').forEach((e) => e.classList.remove('active'));
  document.querySelector(`#explorer span[data-path="${CSS.escape(path)}"]`)?.classList.add('active');
  $('problems').textContent = '';
  const v = viewOf(path);
  if (v) {
    schedulePreview(0);
    showRunner(v);
  }
  const tester = testableOf(path);
  if (tester) showTester(tester);
  if (sheetOf(path))
    void openSheet(backend, $('sheet'), path, {
      saved(project, file) {
        showProject(project);
        if (state.current?.path === file) void reopenCurrent();
      },
      status,
    });
}

/** Saves the open project file (Ctrl-S). */
export async function saveFile() {
  const open = state.current;
  if (!open || open.doc) return;
  const text = editor.getValue();
  try {
    const p = await backend.call('file_write', { path: open.path, text, base: open.saved });
    open.saved = text;
    showTitle();
    showProject(p);
    status(`saved ${open.path}`);
  } catch (e) {
    if (e instanceof BackendError && e.code === 'conflict') {
      void checkExternal();
      return;
    }
    status(`not saved: ${(e as Error).message}`, true);
  }
}

async function checkExternal() {
  if (!state.current || state.current.doc || state.current.readOnly) return;
  const path = state.current.path;
  let disk: string;
  try {
    disk = (await backend.call('file_read', { path })).text;
  } catch {
    return; // deleted or unreadable: a save recreates it
  }
  if (!state.current || state.current.path !== path || disk === state.current.saved) return;
  if (editor.getValue() === state.current.saved) {
    const pos = editor.getPosition();
    state.current.saved = disk;
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

/** Hides the external-change bar. */
export function hideExternal() {
  diskText = null;
  $('extbar').hidden = true;
}

$('ext-compare').addEventListener('click', () => {
  if (diskText === null || !state.current) return;
  showCompare(`left: on disk · right: your edits (${state.current.path})`, diskText, editor.getValue(), 'javascript');
});
$('ext-take').addEventListener('click', () => {
  if (diskText === null || !state.current) return;
  state.current.saved = diskText;
  editor.setValue(diskText);
  hideExternal();
  closeCompare();
  status(`took the disk version of ${state.current.path}`);
});
$('ext-keep').addEventListener('click', () => {
  if (diskText === null || !state.current) return;
  // The disk version becomes the base: the next save replaces it with yours.
  state.current.saved = diskText;
  showTitle();
  hideExternal();
  closeCompare();
  status(`keeping your edits of ${state.current.path}: save (Ctrl-S) to replace the disk version`);
});
window.setInterval(() => {
  if (document.visibilityState === 'visible') void checkExternal();
}, 2000);
window.addEventListener('focus', () => void checkExternal());
