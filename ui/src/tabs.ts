// The editor area's tabs: project files, documents and documents tables, each keeping its own
// state (its own Monaco model: text, undo history; cursor and scroll), a dirty marker, and the
// context panel sections that belong to it. The open tabs come back when the project is opened
// again (localStorage, per project).

import type { editor as MonacoEditor } from 'monaco-editor/editor/editor.api';
import { editor, monaco } from './editor';
import { el } from './dom';
import { showContext } from './layout';
import { $, state, type OpenItem } from './state';

/** An editor tab. */
export interface Tab {
  /** `file:PATH`, `doc:DB/ID`, `docs:DB`. */
  key: string;
  kind: 'file' | 'doc' | 'docs';
  /** Short label on the tab. */
  label: string;
  /** Full title (the line under the tabs). */
  title: string;
  /** Database of a document or documents tab. */
  db?: string;
  /** A file or document in the editor. */
  item?: OpenItem;
  model?: MonacoEditor.ITextModel;
  view?: MonacoEditor.ICodeEditorViewState | null;
  /** Context panel sections of this tab (`data-ctx` names) and the panel's title. */
  ctx: string[];
  ctxTitle?: string;
  /** Runs each time the tab becomes the active one (after the editor shows it). */
  onShow?: (t: Tab) => void;
}

const tabs: Tab[] = [];
let active: Tab | null = null;
let project = '';
const listeners: ((t: Tab | null) => void)[] = [];

/** The active tab. */
export const activeTab = () => active;
/** Every open tab, in order. */
export const allTabs = () => tabs.slice();
/** The tab `key`, if open. */
export const findTab = (key: string) => tabs.find((t) => t.key === key);
/** Calls `f` whenever another tab becomes active (or none). */
export const onTabChange = (f: (t: Tab | null) => void) => listeners.push(f);

/** Whether the tab holds unsaved edits. */
export function tabDirty(t: Tab): boolean {
  return !!t.item && !!t.model && !t.item.readOnly && t.model.getValue() !== t.item.saved;
}

/** The editor language of a tab: documents and .json are JSON, project .js files JavaScript. */
function language(t: Tab) {
  const path = t.item?.path ?? '';
  if (t.kind === 'doc' || path.endsWith('.json') || path.endsWith('.jsonl')) return 'json';
  if (path.endsWith('.js')) return 'javascript';
  return 'plaintext';
}

/** Opens a tab (or activates the one with the same key, answered instead). */
export function openTab(t: Tab, text?: string): Tab {
  const have = findTab(t.key);
  if (have) {
    activate(have);
    return have;
  }
  if (t.item) {
    t.model = monaco.editor.createModel(text ?? t.item.saved, language(t));
    t.model.onDidChangeContent(() => renderTabs());
  }
  const i = active ? tabs.indexOf(active) + 1 : tabs.length;
  tabs.splice(i, 0, t);
  activate(t);
  return t;
}

/** Makes `t` the active tab: the editor (or the documents table) shows it, with its context. */
export function activate(t: Tab) {
  if (active?.model && active !== t) active.view = editor.saveViewState();
  active = t;
  state.current = t.item ?? null;
  if (t.db) state.docsDb = t.db;
  $('welcome').hidden = true;
  $('editor').hidden = !t.model;
  $('docs-view').hidden = t.kind !== 'docs';
  if (t.model) {
    editor.setModel(t.model);
    editor.updateOptions({ readOnly: !!t.item?.readOnly });
    if (t.view) editor.restoreViewState(t.view);
  }
  showTitle();
  showContext(t.ctx, t.ctxTitle);
  renderTabs();
  persist();
  t.onShow?.(t);
  for (const f of listeners) f(t);
}

/** Updates the active tab's title line and dirty marker (after a save or a new revision). */
export function showTitle() {
  const t = active;
  $('tab-title').textContent = t ? t.title : 'Open a file from the explorer';
  $('tab-title').classList.toggle('dirty', !!t && tabDirty(t));
}

/** Gives a tab a new key and labels (a new document once created). */
export function retitle(t: Tab, key: string, label: string, title: string) {
  const dup = findTab(key);
  if (dup && dup !== t) closeTab(dup, true);
  t.key = key;
  t.label = label;
  t.title = title;
  showTitle();
  renderTabs();
  persist();
}

/** Closes a tab (asking first when it has unsaved edits, unless `force`); answers whether it closed. */
export function closeTab(t: Tab, force = false): boolean {
  if (!force && tabDirty(t) && !confirm(`Discard unsaved changes to ${t.title}?`)) return false;
  const i = tabs.indexOf(t);
  if (i < 0) return true;
  tabs.splice(i, 1);
  if (active === t) {
    active = null;
    const next = tabs[i] ?? tabs[i - 1];
    if (next) activate(next);
    else showNothing();
  }
  t.model?.dispose();
  renderTabs();
  persist();
  return true;
}

function showNothing() {
  state.current = null;
  editor.setModel(null);
  $('editor').hidden = true;
  $('docs-view').hidden = true;
  $('welcome').hidden = false;
  showTitle();
  showContext([]);
  for (const f of listeners) f(null);
}

/** Closes every tab (asking once when some have unsaved edits); answers whether they closed. */
export function closeAll(): boolean {
  const dirty = tabs.filter(tabDirty);
  if (dirty.length && !confirm(`Discard unsaved changes to ${dirty.map((t) => t.title).join(', ')}?`)) return false;
  for (const t of tabs.slice()) closeTab(t, true);
  return true;
}

/** Activates the next (or previous, `step` -1) tab. */
export function cycleTab(step: number) {
  if (!tabs.length) return;
  const i = active ? tabs.indexOf(active) : -1;
  activate(tabs[(i + step + tabs.length) % tabs.length]);
}

function renderTabs() {
  const bar = $('tabbar');
  bar.replaceChildren(
    ...tabs.map((t) => {
      const dirty = tabDirty(t);
      const close = el('span', { class: 'tab-close', role: 'button', 'aria-label': `Close ${t.label}`, title: 'Close' }, '×');
      const b = el('div', { class: `tab kind-${t.kind}${t === active ? ' active' : ''}${dirty ? ' dirty' : ''}`, role: 'tab', tabindex: t === active ? '0' : '-1', 'aria-selected': String(t === active), 'data-tab': t.key, title: t.title }, el('span', { class: 'tab-label' }, t.label), close);
      b.addEventListener('click', (e) => {
        if (e.target === close) closeTab(t);
        else activate(t);
      });
      b.addEventListener('auxclick', (e) => {
        if (e.button === 1) closeTab(t);
      });
      b.addEventListener('keydown', (e) => {
        if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
          e.preventDefault();
          cycleTab(e.key === 'ArrowRight' ? 1 : -1);
          (bar.querySelector('.tab.active') as HTMLElement | null)?.focus();
        } else if (e.key === 'Delete') closeTab(t);
        else if (e.key === 'Enter') editor.focus();
      });
      return b;
    }),
  );
  showTitle();
}

// ---- Reopen on restart: what was open, per project.

interface SavedTab { kind: Tab['kind']; path?: string; db?: string; id?: string }
const storeKey = () => `fullsync.tabs.${project}`;

function persist() {
  if (!project) return;
  const list: SavedTab[] = tabs
    .filter((t) => !(t.kind === 'doc' && !t.item?.doc?.id))
    .map((t) => (t.kind === 'file' ? { kind: 'file', path: t.item!.path } : t.kind === 'doc' ? { kind: 'doc', db: t.db, id: t.item!.doc!.id } : { kind: 'docs', db: t.db }));
  const at = active ? tabs.filter((t) => !(t.kind === 'doc' && !t.item?.doc?.id)).indexOf(active) : -1;
  localStorage.setItem(storeKey(), JSON.stringify({ tabs: list, active: at }));
}

/**
 * Sets the project the tabs belong to and answers the tabs it had open last time (and which
 * was active), for the caller to reopen.
 */
export function restoreFor(name: string): { tabs: SavedTab[]; active: number } {
  project = name;
  try {
    const s = JSON.parse(localStorage.getItem(storeKey()) ?? 'null') as { tabs: SavedTab[]; active: number } | null;
    return s ?? { tabs: [], active: -1 };
  } catch {
    return { tabs: [], active: -1 };
  }
}

/** Stops remembering tabs while they are being reopened (so a half-reopened list is not saved). */
export function holdPersist<T>(f: () => Promise<T>): Promise<T> {
  const name = project;
  project = '';
  return f().finally(() => {
    project = name;
    persist();
  });
}
