// The studio (loaded by main.ts): wires the screens (one module each) into the workbench's
// layout (layout.ts: panes, bottom panel tabs, context panel, status bar; tabs.ts: the editor
// area's tabs), the header, the keyboard and the command palette, then shows the project.
// Shared state lives in state.ts; each screen keeps its own.
//
//   editor.ts      Monaco, CouchDB completions, problem markers, the compare view
//   completions.ts `doc.` fields and types from a sample of the connector's documents
//   explorer.ts    project tree (keyboard, filter, collapse), context menus, quick open
//   files.ts       project files in tabs: open, save, external changes
//   preview.ts     live preview of the open view
//   runner.ts      view runner (query options, curl); results in the bottom panel
//   documents.ts   documents: table (docs-table.ts), tabs, history, attachments, _changes
//   revtree.ts     revision tree graph of a document
//   conflicts.ts   conflicting revisions: compare, keep, merge
//   tester.ts      filter / validate_doc_update tester
//   problems.ts    the project's diagnostics (Problems tab)
//   palette.ts     the command palette (Ctrl-Shift-P)
//   servers.ts     connections (engine + server profiles) and a server's workspace

import type { ProjectTree } from './api-types';
import { editor, closeCompare, editorTheme, monaco } from './editor';
import { BackendError, HttpBackend } from './backend';
import { openGit } from './git';
import { openProjectDialog } from './open-project';
import { applyTheme, openSettings, savedTheme } from './settings';
import { openAbout } from './about';
import { mountOps, openScreen, screens } from './ops';
import { focusExplorer, setOpeners, showProject, showQuickOpen } from './explorer';
import { menuActions } from './explorer-menu';
import { hideExternal, openFile, reopenCurrent, saveFile } from './files';
import { connectionCommands, mountConnections, refreshConnections } from './servers';
import { openDoc, openDocs, saveDoc } from './documents';
import { reload as reloadTable } from './docs-table';
import { schedulePreview } from './preview';
import { onOpenResultDoc } from './runner';
import { onOpenProblem, setProblemCheck, setProblemRoot } from './problems';
import { registerCommand, registerCommands, showPalette } from './palette';
import { registerBottomTab, setStatusItem, showBottomTab, togglePane } from './layout';
import { activate, activeTab, allTabs, closeAll, closeTab, cycleTab, holdPersist, onTabChange, restoreFor, showTitle, type Tab } from './tabs';
import { setupDataCompletions } from './completions';
import { $, backend, state, status } from './state';
import { watchSync } from './sync-status';
import { loadableSeeds } from './sample-data';
import './preview-test';

registerBottomTab({ id: 'results', label: 'Results' });
registerBottomTab({ id: 'changes', label: 'Changes' });
registerBottomTab({ id: 'problems', label: 'Problems' });
setOpeners({ openFile, openDocs });
onOpenProblem((path, line) => void openFile(path, line));
setProblemCheck(() => backend.call('project_check'));
onOpenResultDoc((db, id) => void openDoc(db, id).catch((e) => status((e as Error).message, true)));

$('git-open').addEventListener('click', () => void openGit(backend, () => void reopenCurrent()));

/** The Open dialog; a newly opened project replaces the explorer and closes the open tabs. */
function showOpenDialog() {
  void openProjectDialog(
    backend,
    (p) => {
      const info = p as ProjectTree & { import?: { read_only?: unknown[] } };
      closeAll();
      hideExternal();
      closeCompare();
      void showOpened(info);
      const kept = info.import?.read_only?.length;
      status(`opened ${info.name}${kept ? ` (imported; ${kept} Convertigo object(s) kept read-only)` : ''}`);
    },
    () => allTabs().length === 0 || closeAll(),
  );
}
$('open-open').addEventListener('click', showOpenDialog);
applyTheme(savedTheme(), editorTheme);
window.matchMedia?.('(prefers-color-scheme: light)').addEventListener('change', () => applyTheme(savedTheme(), editorTheme));
$('settings-open').addEventListener('click', () => void openSettings(backend, editorTheme));
$('about-open').addEventListener('click', () => void openAbout(backend));
$('palette-open').addEventListener('click', showPalette);

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
// (the explorer may have been shown before this chunk loaded, with the box still empty)
void refreshConnections();

// The operations screens: listener activity (bottom panel), replication, deploy.
const host = {
  openFile: (path: string) => openFile(path),
  async openDoc(db: string, id: string) {
    await openDoc(db, id).catch((e) => status((e as Error).message, true));
  },
};
mountOps(backend, host);

editor.onDidChangeModelContent(() => {
  if (!state.current) return;
  showTitle();
  schedulePreview();
});
editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, () => void save());
editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyP, showQuickOpen);
editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyMod.Shift | monaco.KeyCode.KeyP, showPalette);
// F6 / Shift-F6 move the focus between regions, also out of the editor (where Tab indents):
// explorer -> editor area -> context panel -> bottom panel.
const REGIONS: { box: string; focus: () => boolean }[] = [
  { box: '#explorer-pane', focus: () => (focusExplorer(), true) },
  {
    box: '#center > :not(#bottom)',
    focus: () => {
      if (!$('docs-view').hidden) $('docs-scroll').focus();
      else if (!$('editor').hidden) editor.focus();
      else return false;
      return true;
    },
  },
  { box: '#preview', focus: () => focusFirst($('context-body')) },
  { box: '#bottom', focus: () => focusFirst($('bottom-tabs')) },
];
function focusFirst(box: HTMLElement): boolean {
  const t = [...box.querySelectorAll<HTMLElement>('[aria-selected=true], input, button, select, textarea, [tabindex="0"]')].find((e) => e.offsetParent !== null || e instanceof SVGElement);
  t?.focus();
  return !!t;
}
function cycleRegion(step: number) {
  const a = document.activeElement;
  const at = REGIONS.findIndex((r) => [...document.querySelectorAll(r.box)].some((b) => b.contains(a)));
  for (let k = 1; k <= REGIONS.length; k++) {
    const r = REGIONS[(at + step * k + REGIONS.length * 2) % REGIONS.length];
    if ([...document.querySelectorAll<HTMLElement>(r.box)].some((b) => b.offsetParent !== null || b.getClientRects().length) && r.focus()) return;
  }
}
window.addEventListener(
  'keydown',
  (e) => {
    const ctrl = e.ctrlKey || e.metaKey;
    const k = e.key.toLowerCase();
    if (ctrl && e.shiftKey && !e.altKey && k === 'p') showPalette();
    else if (ctrl && !e.shiftKey && !e.altKey && k === 'p') showQuickOpen();
    else if (ctrl && !e.shiftKey && !e.altKey && k === 'b') togglePane('explorer');
    else if (ctrl && !e.shiftKey && e.altKey && k === 'b') togglePane('context');
    else if (ctrl && !e.shiftKey && !e.altKey && k === 'j') togglePane('bottom');
    else if (ctrl && e.shiftKey && k === 'e') {
      togglePane('explorer', true);
      $('explorer-filter').focus();
    } else if (e.key === 'F6') cycleRegion(e.shiftKey ? -1 : 1);
    else if (e.altKey && !ctrl && (e.key === 'PageDown' || e.key === 'PageUp')) cycleTab(e.key === 'PageDown' ? 1 : -1);
    else return;
    e.preventDefault();
    e.stopPropagation();
  },
  true,
);
window.addEventListener('beforeunload', (e) => {
  if (allTabs().some((t) => t.item && t.model && !t.item.readOnly && t.model.getValue() !== t.item.saved)) e.preventDefault();
});

// ---- The command palette: every action.
const cmd = (id: string, label: string, run: () => void, keys?: string) => registerCommand({ id, label, run, keys });
cmd('palette', 'Show all actions', showPalette, 'Ctrl-Shift-P');
cmd('quick-open', 'Go to a file…', showQuickOpen, 'Ctrl-P');
cmd('save', 'Save the open file or document', () => void save(), 'Ctrl-S');
cmd('open-project', 'Open a project…', showOpenDialog);
cmd('git', 'Git: changes, diffs, commit, history', () => $('git-open').click());
cmd('settings', 'Settings: theme, data folder, servers', () => $('settings-open').click());
cmd('about', 'About this build', () => $('about-open').click());
cmd('toggle-explorer', 'Toggle the explorer', () => togglePane('explorer'), 'Ctrl-B');
cmd('toggle-bottom', 'Toggle the bottom panel', () => togglePane('bottom'), 'Ctrl-J');
cmd('toggle-context', 'Toggle the context panel', () => togglePane('context'), 'Ctrl-Alt-B');
cmd('focus-explorer', 'Focus the explorer', () => {
  togglePane('explorer', true);
  focusExplorer();
}, 'F6');
cmd('filter-explorer', 'Filter the explorer', () => {
  togglePane('explorer', true);
  $('explorer-filter').focus();
}, 'Ctrl-Shift-E');
cmd('focus-editor', 'Focus the editor', () => editor.focus());
cmd('next-region', 'Move the focus to the next region (leave the editor)', () => cycleRegion(1), 'F6');
cmd('tab-focus', 'Toggle Tab moves the focus (in the editor)', () => editor.trigger('palette', 'editor.action.toggleTabFocusMode', null), 'Ctrl-M');
cmd('next-tab', 'Next tab', () => cycleTab(1), 'Alt-PageDown');
cmd('prev-tab', 'Previous tab', () => cycleTab(-1), 'Alt-PageUp');
cmd('close-tab', 'Close the tab', () => {
  const t = activeTab();
  if (t) closeTab(t);
});
cmd('close-all', 'Close all tabs', () => void closeAll());
for (const [id, label] of [['results', 'Results'], ['changes', 'Changes'], ['activity', 'Activity (listeners)'], ['problems', 'Problems']]) cmd(`show-${id}`, `Show ${label} (bottom panel)`, () => showBottomTab(id));
for (const s of screens()) cmd(`screen-${s.id}`, `${s.label}: ${s.title}`, () => openScreen(backend, host, s.id));
cmd('run-query', 'Run the view query', () => ($('runner-form') as HTMLFormElement).requestSubmit());
cmd('docs-reload', 'Documents: reload the table', () => void reloadTable());
cmd('docs-new', 'Documents: new document', () => $('docs-new').click());
cmd('docs-conflicted', 'Documents: toggle "conflicted only"', () => $('docs-conflicted').click());
cmd('docs-search', 'Documents: search by id prefix or Mango selector', () => $('docs-search').focus());
registerCommands(connectionCommands);
registerCommands(() => {
  const out = [];
  for (const db of state.projectDbs) out.push({ id: `docs:${db}`, label: `Open the documents of ${db}`, run: () => void openDocs(db) });
  for (const t of allTabs()) out.push({ id: `tab:${t.key}`, label: `Go to tab ${t.title}`, run: () => activate(t) });
  // The explorer's actions on the node that has the focus (or was last used).
  const node = document.querySelector<HTMLElement>('#explorer span.node[tabindex="0"]');
  if (node) {
    const name = node.querySelector('.name')?.textContent ?? '';
    for (const [label, run] of menuActions(node)) out.push({ id: `node:${label}`, label: `Explorer: ${label} (${name})`, run });
  }
  return out;
});

// ---- Status bar.
setStatusItem('conn', backend instanceof HttpBackend ? 'web mode' : 'desktop', { title: backend instanceof HttpBackend ? 'The studio backend over HTTP (fullsync serve --studio), loopback only' : 'The studio backend over Tauri IPC' });
void backend.httpBase().then(
  (u) => setStatusItem('server', `CouchDB API ${u.replace(/^https?:\/\//, '')}`, { title: `The engine's CouchDB API: ${u}` }),
  () => setStatusItem('server', 'CouchDB API unknown'),
);
let failing = false;
window.setInterval(() => {
  if (document.visibilityState !== 'visible') return;
  backend.call('studio_info').then(
    () => {
      if (failing) status('the studio backend answers again');
      failing = false;
      setStatusItem('conn', backend instanceof HttpBackend ? 'web mode' : 'desktop', { state: 'ok' });
    },
    (e: Error) => {
      failing = true;
      setStatusItem('conn', 'backend unreachable', { state: 'error', title: `${e.message}: is fullsync serve --studio still running?` });
    },
  );
}, 5000);

onTabChange((t: Tab | null) => {
  if (t?.db) setupDataCompletions(t.db);
  else if (t?.item && !t.item.doc) {
    const m = /^connectors\/([^/]+)\/design\//.exec(t.item.path);
    if (m) setupDataCompletions(m[1]);
  }
});

/** A project was opened (or the studio started): explorer, status bar, then its tabs again. */
async function showOpened(p: ProjectTree) {
  showProject(p);
  setProblemRoot(p.root ?? '');
  setStatusItem('project', `${p.name} ${p.version}`, { title: p.root ?? p.name });
  const saved = restoreFor(p.name);
  if (!saved.tabs.length) return;
  await holdPersist(async () => {
    for (const t of saved.tabs) {
      try {
        if (t.kind === 'file' && t.path) await openFile(t.path);
        else if (t.kind === 'docs' && t.db) await openDocs(t.db);
        else if (t.kind === 'doc' && t.db && t.id) await openDoc(t.db, t.id);
      } catch {
        // gone since: not reopened
      }
    }
  });
  const all = allTabs();
  const want = all[saved.active];
  if (want) activate(want);
}

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
  // Never redraw the explorer under a name being typed in place or an open menu: that would
  // throw away what the user typed; the change is applied once they are done.
  const busy = () => !!document.querySelector('[data-testid="explorer-name"], [data-testid="context-menu"]');
  let redraw = false;
  const refreshTree = () =>
    void backend
      .call('project_tree')
      .then((p) => {
        // Busy since the tree was asked for (the answer came late): redraw when done.
        if (busy()) {
          redraw = true;
          return;
        }
        showProject(p);
        const open = state.current;
        if (open && !open.doc) document.querySelector(`#explorer span[data-path="${CSS.escape(open.path)}"]`)?.classList.add('active');
      })
      .catch(() => {});
  window.setInterval(() => {
    if (redraw && !busy()) {
      redraw = false;
      refreshTree();
    }
  }, 500);
  watchSync(backend, $('sync'), () => {
    if (busy()) return false;
    refreshTree();
  });
  try {
    await showOpened(await first);
    status('ready · Ctrl-P goes to a file · Ctrl-Shift-P lists every action');
    const seeds = await loadableSeeds(backend);
    if (seeds.length) status(`${seeds.map((s) => s.db).join(', ')} ${seeds.length > 1 ? 'have' : 'has'} no documents yet: open "documents" in the explorer to load the project's sample data`);
  } catch (e) {
    status((e as Error).message, true);
    if (e instanceof BackendError && e.code === 'invalid_project') showOpenDialog();
  }
}
