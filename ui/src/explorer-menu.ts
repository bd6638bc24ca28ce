// The explorer's context menu: create, rename and delete connectors, design documents, views,
// listeners and transactions. Names are typed in place (Enter applies, Escape cancels); deleting
// asks first and says what goes. Every edit is one `project_edit` command that answers the new
// project tree.

import type { Edit, ItemKind, ProjectTree } from './api-types';
import type { Backend } from './backend';

/** Where a node sits in the project. */
export interface NodeCtx { kind: string; name: string; connector?: string; ddoc?: string }

type Apply = (args: Edit, what: string) => Promise<void>;

const EDITABLE = new Set(['connector', 'ddoc', 'view', 'listener', 'transaction']);
const LABEL: Record<string, string> = { connector: 'connector', ddoc: 'design document', view: 'view', listener: 'listener', transaction: 'transaction' };

/** The Convertigo sequence steps calling a node (`Sequence (step)`), empty when none. */
type UsedBy = (n: NodeCtx) => Promise<string[]>;
let usedBy: UsedBy = async () => [];

/** Sets how the menu asks who calls a transaction or connector (before a rename or delete). */
export function setUsedBy(f: UsedBy) {
  usedBy = f;
}

const list = (steps: string[]) => steps.map((s) => `\n  • ${s}`).join('');

let menu: HTMLUListElement | null = null;

function closeMenu() {
  menu?.remove();
  menu = null;
}
document.addEventListener('click', closeMenu);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') closeMenu();
});

/** An input in place of `anchor`; resolves with the typed name, or null when cancelled. */
function askName(anchor: HTMLElement, initial: string, placeholder: string): Promise<string | null> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.className = 'inline-name';
    input.dataset.testid = 'explorer-name';
    input.value = initial;
    input.placeholder = placeholder;
    anchor.after(input);
    anchor.hidden = true;
    input.focus();
    input.select();
    let done = false;
    const finish = (v: string | null) => {
      if (done) return;
      done = true;
      input.remove();
      anchor.hidden = false;
      resolve(v);
    };
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') finish(input.value.trim() || null);
      if (e.key === 'Escape') finish(null);
      e.stopPropagation();
    });
    input.addEventListener('blur', () => finish(null));
  });
}

function where(n: NodeCtx) {
  return { connector: n.connector ?? '', ddoc: n.ddoc ?? '' };
}

function items(n: NodeCtx, label: HTMLElement, apply: Apply): [string, () => void][] {
  const out: [string, () => void][] = [];
  const create = (kind: ItemKind, ctx: { connector?: string; ddoc?: string }) => async () => {
    const placeholder = `new ${LABEL[kind]} name`;
    // A scratch row under the node for the name.
    const row = document.createElement('span');
    row.className = 'pending';
    label.after(row);
    const name = await askName(row, '', placeholder);
    row.remove();
    if (name) await apply({ op: 'create', kind, name, ...ctx }, `Created ${LABEL[kind]} ${name}`);
  };
  if (n.kind === 'project') out.push(['New connector', create('connector', {})]);
  if (n.kind === 'connector') {
    out.push(['New design document', create('ddoc', { connector: n.name })]);
    out.push(['New listener', create('listener', { connector: n.name })]);
    out.push(['New transaction', create('transaction', { connector: n.name })]);
  }
  if (n.kind === 'ddoc') out.push(['New view', create('view', { connector: n.connector ?? '', ddoc: n.name })]);
  if (EDITABLE.has(n.kind)) {
    out.push([
      'Rename',
      async () => {
        const name = await askName(label, n.name, `new name of ${n.name}`);
        if (!name || name === n.name) return;
        const callers = await usedBy(n);
        if (callers.length && !confirm(`Rename the ${LABEL[n.kind]} ${n.name} to ${name}? These Convertigo sequence steps call it; their references are rewritten to ${name}:${list(callers)}`)) return;
        await apply({ op: 'rename', kind: n.kind as ItemKind, name: n.name, new_name: name, ...where(n) }, `Renamed ${n.name} to ${name}`);
      },
    ]);
    out.push([
      'Delete',
      async () => {
        const what = n.kind === 'connector' ? `the connector ${n.name} with all its design documents, listeners and transactions` : n.kind === 'ddoc' ? `the design document ${n.name} with all its views` : `the ${LABEL[n.kind]} ${n.name}`;
        const callers = await usedBy(n);
        const broken = callers.length ? `\n\nThese Convertigo sequence steps call it and will fail (project check reports them):${list(callers)}` : '';
        if (!confirm(`Delete ${what}? Its files are removed from the project (git can bring them back if they were committed).${broken}`)) return;
        await apply({ op: 'delete', kind: n.kind as ItemKind, name: n.name, ...where(n) }, `Deleted ${LABEL[n.kind]} ${n.name}`);
      },
    ]);
  }
  return out;
}

/** Gives `label` (a node of the explorer) its context menu. */
export function attachMenu(label: HTMLElement, n: NodeCtx, apply: Apply) {
  label.addEventListener('contextmenu', (e) => {
    const entries = items(n, label, apply);
    if (!entries.length) return;
    e.preventDefault();
    e.stopPropagation();
    closeMenu();
    menu = document.createElement('ul');
    menu.className = 'context-menu';
    menu.dataset.testid = 'context-menu';
    menu.setAttribute('role', 'menu');
    for (const [text, run] of entries) {
      const li = document.createElement('li');
      li.setAttribute('role', 'menuitem');
      li.textContent = text;
      li.addEventListener('click', (ev) => {
        ev.stopPropagation();
        closeMenu();
        run();
      });
      menu.append(li);
    }
    menu.style.left = `${e.clientX}px`;
    menu.style.top = `${e.clientY}px`;
    document.body.append(menu);
  });
}

/** The `apply` of [`attachMenu`]: runs the edit and hands the new tree over. */
export function applier(backend: Backend, show: (tree: ProjectTree) => void, status: (msg: string, error?: boolean) => void): Apply {
  return async (args, what) => {
    try {
      show(await backend.call('project_edit', args));
      status(what);
    } catch (e) {
      status((e as Error).message, true);
    }
  };
}
