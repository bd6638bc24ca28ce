// The studio (loaded by main.ts): wires the screens (one module each) to the header and the
// editor's keys, then shows the project. Shared state lives in state.ts; each screen keeps its own.
//
//   editor.ts      Monaco, CouchDB completions, problem markers, the compare view
//   explorer.ts    project tree, context menus, quick open
//   files.ts       project files: open, save, external changes
//   preview.ts     live preview of the open view
//   runner.ts      view runner (query options, curl)
//   documents.ts   documents of a database: list, edit, history, attachments, _changes
//   conflicts.ts   conflicting revisions: compare, keep, merge
//   servers.ts     connections (engine + server profiles) and a server's workspace

import { editor, closeCompare, editorTheme, isDirty, mayDiscard, monaco } from './editor';
import { BackendError } from './backend';
import { openGit } from './git';
import { openProjectDialog } from './open-project';
import { applyTheme, openSettings, savedTheme } from './settings';
import { openAbout } from './about';
import { mountOps } from './ops';
import type { ProjectTree } from './api-types';
import { mountConnections } from './servers';
import { showProject, showQuickOpen } from './explorer';
import { hideExternal, openFile, reopenCurrent, saveFile } from './files';
import { openDoc, openDocs, saveDoc } from './documents';
import { schedulePreview } from './preview';
import { $, backend, state, status } from './state';
import { watchSync } from './sync-status';
import { loadableSeeds } from './sample-data';
import './preview-test';

$('git-open').addEventListener('click', () => void openGit(backend, () => void reopenCurrent()));

/** The Open dialog; a newly opened project replaces the explorer and closes the open file. */
function showOpenDialog() {
  void openProjectDialog(
    backend,
    (p) => {
      state.current = null;
      editor.updateOptions({ readOnly: false });
      editor.setValue('');
      $('tab-title').textContent = 'Open a file from the explorer';
      $('tab-title').classList.remove('dirty');
      for (const id of ['runner', 'docs', 'sheet']) $(id).hidden = true;
      hideExternal();
      closeCompare();
      showProject(p);
      const kept = p.import?.read_only.length;
      status(`opened ${p.name}${kept ? ` (imported; ${kept} Convertigo object(s) kept read-only)` : ''}`);
    },
    mayDiscard,
  );
}
$('open-open').addEventListener('click', showOpenDialog);
applyTheme(savedTheme(), editorTheme);
window.matchMedia?.('(prefers-color-scheme: light)').addEventListener('change', () => applyTheme(savedTheme(), editorTheme));
$('settings-open').addEventListener('click', () => void openSettings(backend, editorTheme));
$('about-open').addEventListener('click', () => void openAbout(backend));

/** Ctrl-S: the open document or project file. */
async function save() {
  if (!state.current) return;
  if (state.current.readOnly) {
    status('an older revision is read-only: open the current one in History to edit', true);
    return;
  }
  await (state.current.doc ? saveDoc() : saveFile());
}

// Connections (the engine and the server profiles) under the explorer; a server's workspace.
mountConnections(backend, $('explorer'));

// The operations screens: listener activity, replication, deploy.
mountOps(backend, {
  openFile,
  async openDoc(db, id) {
    await openDocs(db);
    await openDoc(db, id).catch((e) => status((e as Error).message, true));
  },
});

editor.onDidChangeModelContent(() => {
  if (!state.current) return;
  $('tab-title').classList.toggle('dirty', isDirty());
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
window.addEventListener('beforeunload', (e) => {
  if (isDirty()) e.preventDefault();
});

/**
 * Shows the project once its tree arrives: `first` is the `project_tree` call main.ts started
 * before this chunk loaded (null: a web page without a token in its URL).
 */
export async function start(first: Promise<ProjectTree> | null) {
  if (!first) {
    status('No studio token in the URL: open the address printed by `fullsync serve --studio`.', true);
    return;
  }
  // Every applied change (the studio's or another program's): new files appear in the explorer.
  watchSync(backend, $('sync'), () => {
    void backend
      .call('project_tree')
      .then((p) => {
        showProject(p);
        const open = state.current;
        if (open && !open.doc) document.querySelector(`#explorer span[data-path="${CSS.escape(open.path)}"]`)?.classList.add('active');
      })
      .catch(() => {});
  });
  try {
    showProject(await first);
    status('ready · Ctrl-P goes to a file');
    const seeds = await loadableSeeds(backend);
    if (seeds.length) status(`${seeds.map((s) => s.db).join(', ')} ${seeds.length > 1 ? 'have' : 'has'} no documents yet: open "documents" in the explorer to load the project's sample data`);
  } catch (e) {
    status((e as Error).message, true);
    if (e instanceof BackendError && e.code === 'invalid_project') showOpenDialog();
  }
}
