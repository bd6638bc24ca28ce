// The explorer's context menu: create, rename and delete connectors, design documents, views,
// listeners and transactions. Names are typed in place (Enter applies, Escape cancels); deleting
// asks first and says what goes. Every edit is one `project_edit` command that answers the new
// project tree.

import type { Edit, ItemKind, PartEdit, ProjectTree } from './api-types';
import type { Backend } from './backend';
import { runTransaction } from './run-panel';

/** Where a node sits in the project. */
export interface NodeCtx { kind: string; name: string; connector?: string; ddoc?: string; path?: string; hasReduce?: boolean; hasValidate?: boolean }

type Apply = (args: Edit, what: string) => Promise<void>;

/** Creates (or deletes) a part that lives in its own file: `part_edit`, then opens the file. */
type PartApply = (args: PartEdit, what: string) => Promise<void>;
let applyPart: PartApply = async () => {};

/** Sets how the menu applies a `part_edit` (the explorer shows the new tree and opens the file). */
export function setPartApply(f: PartApply) {
  applyPart = f;
}

const REDUCES = ['_count', '_sum', '_stats', '_approx_count_distinct'];
/** Files of parts that `part_edit` deletes (the rest go with their parent). */
const PART_FILE = /(\/filters\/[^/]+\.js|\/validate_doc_update\.js|\/views\/lib\/[^/]+\.js|\/views\/[^/]+\/reduce\.js|^connectors\/[^/]+\/indexes\/[^/]+\.json|^handlers\/[^/]+\.js|^tests\/[^/]+\.test\.json)$/;

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
  /** Asks a name in place (a scratch row under the node); null when cancelled. */
  const ask = async (placeholder: string) => {
    const row = document.createElement('span');
    row.className = 'pending';
    label.after(row);
    const name = await askName(row, '', placeholder);
    row.remove();
    return name;
  };
  const named = (placeholder: string, make: (name: string) => PartEdit, what: (name: string) => string) => async () => {
    const name = await ask(placeholder);
    if (name) await applyPart(make(name), what(name));
  };
  const c = n.connector ?? '';
  if (n.kind === 'project') out.push(['New connector', create('connector', {})]);
  if (n.kind === 'connector') {
    out.push(['New design document', create('ddoc', { connector: n.name })]);
    out.push(['New listener', create('listener', { connector: n.name })]);
    out.push(['New transaction', create('transaction', { connector: n.name })]);
    out.push([
      'New Mango index',
      async () => {
        const name = await ask('new index name');
        if (!name) return;
        const fields = await ask('fields, separated by commas (e.g. type, date)');
        if (fields === null) return;
        await applyPart({ op: 'index', connector: n.name, name, fields: fields.split(',').map((f) => f.trim()).filter(Boolean) }, `Created Mango index ${name}`);
      },
    ]);
  }
  if (n.kind === 'ddoc') {
    out.push(['New view', create('view', { connector: c, ddoc: n.name })]);
    out.push(['New filter', named('new filter name', (name) => ({ op: 'filter', connector: c, ddoc: n.name, name }), (x) => `Created filter ${x}`)]);
    if (!n.hasValidate) out.push(['New validate_doc_update', () => void applyPart({ op: 'validate', connector: c, ddoc: n.name }, `Created validate_doc_update of ${n.name}`)]);
    out.push(['New lib module', named('new module name (require views/lib/NAME)', (name) => ({ op: 'lib', connector: c, ddoc: n.name, name }), (x) => `Created views/lib/${x}`)]);
  }
  if (n.kind === 'view') {
    const ddoc = n.ddoc ?? '';
    for (const r of [...REDUCES, 'custom']) {
      out.push([`Reduce: ${r === 'custom' ? 'custom function' : r}`, () => void applyPart({ op: 'set_reduce', connector: c, ddoc, view: n.name, reduce: r }, `${n.name} reduces with ${r === 'custom' ? 'a custom function' : r}`)]);
    }
    if (n.hasReduce) out.push(['Remove reduce', () => void applyPart({ op: 'set_reduce', connector: c, ddoc, view: n.name, reduce: null }, `${n.name} has no reduce now`)]);
    out.push(['New test', named('new test name', (name) => ({ op: 'test', connector: c, ddoc, view: n.name, name }), (x) => `Created test ${x} from the documents of ${c} and what ${n.name} answers now`)]);
  }
  if (n.kind === 'transaction') out.push(['Run…', () => runTransaction(c, n.name)]);
  if (n.kind === 'folder' && n.name === 'handlers') out.push(['New handler', named('new handler name', (name) => ({ op: 'handler', name }), (x) => `Created handlers/${x}.js`)]);
  if (n.path && PART_FILE.test(n.path)) {
    out.push([
      'Delete',
      async () => {
        if (!confirm(`Delete ${n.path}? (git can bring it back if it was committed)`)) return;
        await applyPart({ op: 'delete', path: n.path! }, `Deleted ${n.path}`);
      },
    ]);
  }
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

const menus = new WeakMap<HTMLElement, () => [string, () => void][]>();

function showMenu(entries: [string, () => void][], x: number, y: number, back: HTMLElement | null) {
  closeMenu();
  const m = document.createElement('ul');
  menu = m;
  m.className = 'context-menu';
  m.dataset.testid = 'context-menu';
  m.setAttribute('role', 'menu');
  const run = (f: () => void) => {
    closeMenu();
    back?.focus();
    f();
  };
  for (const [text, f] of entries) {
    const li = document.createElement('li');
    li.setAttribute('role', 'menuitem');
    li.tabIndex = -1;
    li.textContent = text;
    li.addEventListener('click', (ev) => {
      ev.stopPropagation();
      run(f);
    });
    m.append(li);
  }
  // Keyboard: arrows move, Enter runs, Escape closes and gives the focus back.
  m.addEventListener('keydown', (e) => {
    const items = [...m.querySelectorAll<HTMLElement>('li')];
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') items[(i + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length]?.focus();
    else if (e.key === 'Home' || e.key === 'End') items[e.key === 'Home' ? 0 : items.length - 1]?.focus();
    else if (e.key === 'Enter' || e.key === ' ') {
      const k = items[i];
      const entry = k && entries[i];
      if (entry) run(entry[1]);
    } else if (e.key === 'Escape' || e.key === 'Tab') {
      closeMenu();
      back?.focus();
    } else return;
    e.preventDefault();
    e.stopPropagation();
  });
  m.style.left = `${Math.min(x, window.innerWidth - 200)}px`;
  m.style.top = `${Math.min(y, window.innerHeight - 24 * entries.length - 10)}px`;
  document.body.append(m);
  (m.querySelector('li') as HTMLElement | null)?.focus();
}

/** Gives `label` (a node of the explorer) its context menu. */
export function attachMenu(label: HTMLElement, n: NodeCtx, apply: Apply) {
  menus.set(label, () => items(n, label, apply));
  label.addEventListener('contextmenu', (e) => {
    const entries = items(n, label, apply);
    if (!entries.length) return;
    e.preventDefault();
    e.stopPropagation();
    // The context-menu key opens it at the node, not at the pointer.
    const r = label.getBoundingClientRect();
    const atKey = e.clientX === 0 && e.clientY === 0;
    showMenu(entries, atKey ? r.left + 24 : e.clientX, atKey ? r.bottom : e.clientY, label.closest('#explorer') ? label : null);
  });
}

/** Opens the context menu of `label` from the keyboard (context-menu key, Shift-F10). */
export function openMenuOf(label: HTMLElement): boolean {
  const entries = menus.get(label)?.() ?? [];
  if (!entries.length) return false;
  const r = label.getBoundingClientRect();
  showMenu(entries, r.left + 24, r.bottom, label);
  return true;
}

/** Runs the action `name` ("Rename", "Delete") of `label`'s menu; false when it has none. */
export function runMenuAction(label: HTMLElement, name: string): boolean {
  const entry = (menus.get(label)?.() ?? []).find(([t]) => t === name);
  if (!entry) return false;
  entry[1]();
  return true;
}

/** The actions of `label`'s menu (the command palette lists them for the selected node). */
export function menuActions(label: HTMLElement): [string, () => void][] {
  return menus.get(label)?.() ?? [];
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
