// The project explorer: the project's tree (files, connectors, design documents, each with its
// context menu), a "documents" entry per database, and quick open (Ctrl-P) over every file.

import type { ProjectTree, TreeNode } from './api-types';
import { applier, attachMenu, setPartApply, setUsedBy, type NodeCtx } from './explorer-menu';
import { quickOpen } from './quick-open';
import { openDocs } from './documents';
import { openFile } from './files';
import { connectionsBox } from './servers';
import { $, backend, state, status } from './state';

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
    if (n.children?.length) li.append(renderTree(n.children, inner));
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

/** Shows a project in the explorer (after opening it and after every edit). */
export function showProject(p: ProjectTree) {
  state.projectFiles = collectFiles([...p.tree, ...(p.files ?? [])]);
  $('project-name').textContent = `${p.name} ${p.version}`;
  $('project-desc').textContent = p.description ?? '';
  $('project-desc').title = p.description ?? '';
  const ex = $('explorer');
  const connectors = renderTree(p.tree);
  ex.replaceChildren(connectors);
  // fullsync.toml, handlers/, tests/, data/.
  if (p.files?.length) ex.append(renderTree(p.files));
  ex.append(connectionsBox());
  // A "documents" entry under each connector opens its database.
  connectors.querySelectorAll(':scope > li').forEach((li, i) => {
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

