// Project files in the editor: open, save (refused when the file changed on disk since it was
// loaded), and external changes (another editor, git, a generator): reloaded when the editor
// has no unsaved edits; otherwise offered (compare, take the disk version, keep mine). Saves
// carry the loaded text as `base`, so the backend refuses to overwrite a change it has not shown.

import { BackendError } from './backend';
import { closeCompare, editor, mayDiscard, showCompare } from './editor';
import { showProject } from './explorer';
import { schedulePreview, viewOf } from './preview';
import { showRunner } from './runner';
import { openSheet } from './sheets';
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

/** Opens a project file in the editor (with its preview, runner and sheet). */
export async function openFile(path: string) {
  if (!mayDiscard()) return;
  try {
    const f = await backend.call('file_read', { path });
    hideExternal();
    state.current = { path, saved: f.text };
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
        showProject(project);
        if (state.current?.path === file) void reopenCurrent();
      },
      status,
    });
  } catch (e) {
    status((e as Error).message, true);
  }
}

/** Saves the open project file (Ctrl-S). */
export async function saveFile() {
  const open = state.current;
  if (!open || open.doc) return;
  const text = editor.getValue();
  try {
    const p = await backend.call('file_write', { path: open.path, text, base: open.saved });
    open.saved = text;
    $('tab-title').classList.remove('dirty');
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
  $('tab-title').classList.add('dirty');
  hideExternal();
  closeCompare();
  status(`keeping your edits of ${state.current.path}: save (Ctrl-S) to replace the disk version`);
});
window.setInterval(() => {
  if (document.visibilityState === 'visible') void checkExternal();
}, 2000);
window.addEventListener('focus', () => void checkExternal());
