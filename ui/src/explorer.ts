// The project explorer: the project's tree (files, connectors, design documents, each with its
// context menu), a "documents" entry per database, and quick open (Ctrl-P) over every file.
// The tree collapses (remembered per project), has an icon per kind, a filter box, and works
// from the keyboard alone (tree-keys in this module): arrows, Enter, F2 rename, Delete, the
// context-menu key (or Shift-F10), Home/End; Tab leaves it.

import type { ProjectTree, TreeNode } from './api-types';
import { applier, attachMenu, openMenuOf, runMenuAction, setPartApply, setUsedBy, type NodeCtx } from './explorer-menu';
import { showProblems } from './problems';
import { quickOpen } from './quick-open';
import { connectionsBox, focusConnections } from './servers';
import { $, backend, state, status } from './state';

// What opening a node does is set by the studio once its chunk (Monaco, the editor) has loaded
// (`setOpeners`): the explorer is shown before that, and a click meanwhile waits for it.
type Openers = { openFile: (path: string) => unknown; openDocs: (db: string) => unknown };
let openers: Openers | null = null;
let waiting: ((o: Openers) => void) | null = null;
const later = (f: (o: Openers) => void) => (openers ? f(openers) : (waiting = f));
const openFile = (path: string) => later((o) => void o.openFile(path));
const openDocs = (db: string) => later((o) => void o.openDocs(db));

/** Sets how the explorer opens files and documents (and runs a click made before). */
export function setOpeners(o: Openers) {
  openers = o;
  waiting?.(o);
  waiting = null;
}


const applyEdit = applier(backend, (p) => showProject(p), status);
setPartApply(async (args, what) => {
  try {
    const r = await backend.call('part_edit', args);
    showProject(r.project);
    status(what);
    if (args.op !== 'delete' && !(args.op === 'set_reduce' && !args.reduce)) await openFile(r.path);
  } catch (e) {
    status((e as Error).message, true);
  }
});
setUsedBy(async (n) => {
  if (n.kind !== 'transaction' && n.kind !== 'connector') return [];
  try {
    const r = await backend.call('used_by', { kind: n.kind, name: n.name, connector: n.connector ?? '' });
    return r.used_by.map((u) => `${u.sequence} (${u.step})`);
  } catch {
    return [];
  }
});

function renderTree(nodes: TreeNode[], parent: { connector?: string; ddoc?: string } = {}, trail = ''): HTMLUListElement {
  const ul = document.createElement('ul');
  ul.setAttribute('role', trail ? 'group' : 'none');
  for (const n of nodes) {
    const li = document.createElement('li');
    li.setAttribute('role', 'none');
    const label = document.createElement('span');
    const key = `${trail}/${n.kind}:${n.name}`;
    li.dataset.key = key;
    label.dataset.node = `${n.kind}:${n.name}`;
    nodeLabel(label, n.name, iconOf(n), n.kind);
    if (n.path) {
      label.classList.add('file');
      label.dataset.path = n.path;
      label.title = n.path;
      label.addEventListener('click', () => void openFile(n.path!));
    }
    const ctx: NodeCtx = {
      kind: n.kind,
      name: n.name,
      ...parent,
      path: n.path,
      hasReduce: n.kind === 'view' && !!n.children?.some((k) => k.name === 'reduce'),
      hasValidate: n.kind === 'ddoc' && !!n.children?.some((k) => k.kind === 'validate'),
    };
    attachMenu(label, ctx, applyEdit);
    li.append(label);
    const inner = n.kind === 'connector' ? { connector: n.name } : n.kind === 'ddoc' ? { ...parent, ddoc: n.name } : n.kind === 'view' ? { ...parent } : parent;
    if (n.children?.length) {
      li.append(renderTree(n.children, inner, key));
      setExpanded(li, !collapsed.has(key));
    }
    ul.append(li);
  }
  return ul;
}
attachMenu($('explorer'), { kind: 'project', name: '' }, applyEdit);

function collectFiles(nodes: TreeNode[], trail: string[] = []): { label: string; path: string }[] {
  return nodes.flatMap((n) => [
    ...(n.path ? [{ label: [...trail, n.name].join(' › '), path: n.path }] : []),
    ...collectFiles(n.children ?? [], [...trail, n.name]),
  ]);
}

/** Quick open (Ctrl-P) over the files of the open project. */
export function showQuickOpen() {
  quickOpen(state.projectFiles, (path) => void openFile(path));
}

/** The icon of a node: its kind, or for files what they are (map, reduce, validate, settings). */
function iconOf(n: TreeNode): string {
  if (n.kind !== 'file') return n.kind;
  if (n.name === 'map' || n.name === 'reduce') return n.name;
  if (n.name === 'validate_doc_update') return 'validate';
  if (n.name.endsWith('.toml')) return 'settings';
  return 'file';
}

/** Fills a tree label: twisty, icon, name, kind (the label is the focusable tree item). */
function nodeLabel(label: HTMLElement, name: string, icon: string, kind: string) {
  label.setAttribute('role', 'treeitem');
  label.tabIndex = -1;
  label.classList.add('node');
  const twisty = document.createElement('span');
  twisty.className = 'twisty';
  twisty.setAttribute('aria-hidden', 'true');
  const ic = document.createElement('span');
  ic.className = `icon icon-${icon}`;
  ic.setAttribute('aria-hidden', 'true');
  const text = document.createElement('span');
  text.className = 'name';
  text.textContent = name;
  const k = document.createElement('span');
  k.className = 'kind';
  k.textContent = kind;
  label.append(twisty, ic, text, k);
}

// ---- Collapsed nodes (remembered per project) and the filter.
let projectName = '';
let collapsed = new Set<string>();
const collapsedKey = () => `fullsync.explorer.${projectName}`;

function setExpanded(li: HTMLElement, open: boolean) {
  li.classList.toggle('collapsed', !open);
  li.querySelector(':scope > span.node')?.setAttribute('aria-expanded', String(open));
}

function toggle(li: HTMLElement, open?: boolean) {
  if (!li.querySelector(':scope > ul')) return;
  const now = open ?? li.classList.contains('collapsed');
  setExpanded(li, now);
  const key = li.dataset.key!;
  if (now) collapsed.delete(key);
  else collapsed.add(key);
  localStorage.setItem(collapsedKey(), JSON.stringify([...collapsed]));
}

function applyFilter() {
  const q = ($('explorer-filter') as HTMLInputElement).value.trim().toLowerCase();
  const ex = $('explorer');
  ex.classList.toggle('filtering', !!q);
  const walk = (li: HTMLElement): boolean => {
    const label = li.querySelector<HTMLElement>(':scope > span.node');
    const own = !q || (label?.querySelector('.name')?.textContent ?? '').toLowerCase().includes(q) || (label?.dataset.path ?? '').toLowerCase().includes(q);
    let kid = false;
    for (const c of li.querySelectorAll<HTMLElement>(':scope > ul > li')) kid = walk(c) || kid;
    const show = own || kid;
    li.classList.toggle('filtered-out', !show);
    li.classList.toggle('filter-open', !!q && kid);
    return show;
  };
  for (const li of ex.querySelectorAll<HTMLElement>(':scope > ul > li')) walk(li);
}

/** The tree items one can move to (not inside a collapsed node, not filtered out). */
function visibleItems(): HTMLElement[] {
  return [...$('explorer').querySelectorAll<HTMLElement>('span.node')].filter((l) => l.offsetParent !== null && !l.hidden);
}

function focusItem(l: HTMLElement | undefined) {
  if (!l) return;
  for (const o of $('explorer').querySelectorAll<HTMLElement>('span.node[tabindex="0"]')) o.tabIndex = -1;
  l.tabIndex = 0;
  l.focus();
  l.scrollIntoView({ block: 'nearest' });
}

/** Activates a node: opens its file or documents, or expands/collapses it. */
function activateNode(label: HTMLElement) {
  if (label.dataset.path) void openFile(label.dataset.path);
  else if (label.dataset.docs) void openDocs(label.dataset.docs);
  else toggle(label.parentElement!);
}

function treeKeys(e: KeyboardEvent) {
  const label = (e.target as HTMLElement).closest<HTMLElement>('span.node');
  if (!label || (e.target as HTMLElement).tagName === 'INPUT') return;
  const li = label.parentElement!;
  const items = visibleItems();
  const i = items.indexOf(label);
  const hasKids = !!li.querySelector(':scope > ul');
  const open = hasKids && !li.classList.contains('collapsed');
  switch (e.key) {
    // Below the tree's last item: the connections list.
    case 'ArrowDown': if (i + 1 < items.length) focusItem(items[i + 1]); else focusConnections(); break;
    case 'ArrowUp': focusItem(items[i - 1]); break;
    case 'Home': focusItem(items[0]); break;
    case 'End': focusItem(items[items.length - 1]); break;
    case 'ArrowRight':
      if (hasKids && !open) toggle(li, true);
      else if (open) focusItem(li.querySelector<HTMLElement>(':scope > ul > li:not(.filtered-out) > span.node') ?? undefined);
      break;
    case 'ArrowLeft':
      if (open) toggle(li, false);
      else focusItem(li.parentElement?.closest('li')?.querySelector<HTMLElement>(':scope > span.node') ?? undefined);
      break;
    case 'Enter': activateNode(label); break;
    case 'F2': if (!runMenuAction(label, 'Rename')) status('This item cannot be renamed from the explorer.'); break;
    case 'Delete': if (!runMenuAction(label, 'Delete')) status('This item cannot be deleted from the explorer.'); break;
    case 'ContextMenu': openMenuOf(label); break;
    case 'F10': if (e.shiftKey) openMenuOf(label); else return; break;
    default: return;
  }
  e.preventDefault();
  e.stopPropagation();
}

{
  const ex = $('explorer');
  ex.addEventListener('keydown', treeKeys);
  ex.addEventListener('click', (e) => {
    const label = (e.target as HTMLElement).closest<HTMLElement>('span.node');
    if (!label) return;
    for (const o of ex.querySelectorAll<HTMLElement>('span.node[tabindex="0"]')) o.tabIndex = -1;
    label.tabIndex = 0;
    // Folders open and close on click; the twisty of any node too.
    if ((e.target as HTMLElement).classList.contains('twisty') || (!label.dataset.path && !label.dataset.docs)) toggle(label.parentElement!);
  });
  // The tree is one stop of Tab: it lands on the active (or first) item.
  ex.addEventListener('focusin', (e) => {
    if (e.target === ex) focusItem(ex.querySelector<HTMLElement>('span.node.active') ?? visibleItems()[0]);
    // The node with the focus is the tree's Tab stop (and the one the palette's actions are for).
    const label = (e.target as HTMLElement).closest?.<HTMLElement>('span.node');
    if (label && label.tabIndex !== 0) {
      for (const o of ex.querySelectorAll<HTMLElement>('span.node[tabindex="0"]')) o.tabIndex = -1;
      label.tabIndex = 0;
    }
  });
  const filter = $('explorer-filter') as HTMLInputElement;
  filter.addEventListener('input', applyFilter);
  filter.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'Enter') {
      e.preventDefault();
      focusItem(visibleItems()[0]);
    } else if (e.key === 'Escape') {
      filter.value = '';
      applyFilter();
    }
  });
}

/** Puts the keyboard focus in the explorer (on the open file's node, or the first). */
export function focusExplorer() {
  focusItem($('explorer').querySelector<HTMLElement>('span.node.active') ?? visibleItems()[0]);
}

/** Shows a project in the explorer (after opening it and after every edit). */
export function showProject(p: ProjectTree) {
  if (p.name !== projectName) {
    projectName = p.name;
    try {
      collapsed = new Set(JSON.parse(localStorage.getItem(collapsedKey()) ?? '[]') as string[]);
    } catch {
      collapsed = new Set();
    }
  }
  const focused = (document.activeElement as HTMLElement | null)?.closest?.('#explorer li')?.getAttribute('data-key');
  // The Connections list is moved, not redrawn: moving it out of the page would drop the focus
  // of a user going through it with the keyboard, so it is given back below.
  const inConnections = (document.activeElement as HTMLElement | null)?.closest?.('#connections') ? (document.activeElement as HTMLElement) : null;
  state.projectFiles = collectFiles([...p.tree, ...(p.files ?? [])]);
  state.projectDbs = p.tree.filter((n) => n.kind === 'connector').map((n) => n.name);
  $('project-name').textContent = `${p.name} ${p.version}`;
  $('project-desc').textContent = p.description ?? '';
  $('project-desc').title = p.description ?? '';
  // In narrow windows the description is hidden (style.css): the name's tooltip carries it.
  $('project-name').title = [`${p.name} ${p.version}`, p.description].filter(Boolean).join(': ');
  const ex = $('explorer');
  const connectors = renderTree(p.tree);
  ex.replaceChildren(connectors);
  // fullsync.toml, handlers/, tests/, data/.
  if (p.files?.length) ex.append(renderTree(p.files));
  ex.append(connectionsBox());
  if (inConnections?.isConnected) inConnections.focus({ preventScroll: true });
  // A "documents" entry under each connector opens its database.
  connectors.querySelectorAll(':scope > li').forEach((li, i) => {
    const db = p.tree[i]?.name;
    if (!db) return;
    const entry = document.createElement('li');
    entry.setAttribute('role', 'none');
    entry.dataset.key = `/connector:${db}/documents`;
    const label = document.createElement('span');
    label.className = 'file';
    label.dataset.docs = db;
    nodeLabel(label, 'documents', 'database', 'database');
    label.title = `The documents of ${db}`;
    label.addEventListener('click', () => void openDocs(db));
    entry.append(label);
    li.querySelector('ul')?.prepend(entry);
  });
  applyFilter();
  const first = (focused && ex.querySelector<HTMLElement>(`li[data-key="${CSS.escape(focused)}"] > span.node`)) || ex.querySelector<HTMLElement>('span.node');
  if (first) first.tabIndex = 0;
  if (focused && first && ex.contains(first)) first.focus();
  const open = state.current && !state.current.doc ? state.current.path : null;
  if (open) ex.querySelector(`span[data-path="${CSS.escape(open)}"]`)?.classList.add('active');
  showProblems(p.diagnostics);
  if (p.diagnostics.length) status(`${p.diagnostics.length} problem(s) in the project: see Problems below`, true);
  // For the start-up measure (bench/node/studio-start.mjs): the first time the tree is drawn.
  if (!performance.getEntriesByName('explorer-shown').length) performance.mark('explorer-shown');
}

