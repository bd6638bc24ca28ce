// The workbench's layout primitives, which every screen plugs into:
//
//   panes         explorer | center (editor area + bottom panel) | context panel; resizable by
//                 their splitters (mouse or arrow keys), collapsible (Ctrl-B, Ctrl-J,
//                 Ctrl-Alt-B), sizes and states remembered in localStorage
//   bottom panel  tabs (results, changes, activity, problems, tests...): `registerBottomTab`
//   context panel the sections (`data-ctx`) that belong to the active editor tab: `showContext`
//   status bar    project, connection, sync state, server, problems count: `setStatusItem`
//
// The page never scrolls: every pane scrolls inside itself.

import { el } from './dom';

/** A pane that can be resized and collapsed. */
export type PaneId = 'explorer' | 'context' | 'bottom';

interface Saved {
  sizes: Record<PaneId, number>;
  collapsed: Record<PaneId, boolean>;
  bottomTab: string;
}

const KEY = 'fullsync.layout';
/** Default sizes follow the window (a 1024 px wide window keeps ~500 px for the editor). */
const clamp = (lo: number, v: number, hi: number) => Math.round(Math.max(lo, Math.min(v, hi)));
const DEFAULTS: Saved = {
  sizes: { explorer: clamp(200, window.innerWidth * 0.19, 270), context: clamp(260, window.innerWidth * 0.27, 400), bottom: clamp(120, window.innerHeight * 0.25, 240) },
  collapsed: { explorer: false, context: false, bottom: false },
  bottomTab: 'results',
};
const MIN: Record<PaneId, number> = { explorer: 150, context: 220, bottom: 70 };
/** The editor keeps at least this much room. */
const CENTER_MIN_W = 320;
const CENTER_MIN_H = 140;

function load(): Saved {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Partial<Saved> | null;
    return { sizes: { ...DEFAULTS.sizes, ...(s?.sizes ?? {}) }, collapsed: { ...DEFAULTS.collapsed, ...(s?.collapsed ?? {}) }, bottomTab: s?.bottomTab ?? DEFAULTS.bottomTab };
  } catch {
    return structuredClone(DEFAULTS);
  }
}

const saved = load();
const persist = () => localStorage.setItem(KEY, JSON.stringify(saved));
const root = () => document.getElementById('workbench')!;

/** The largest size `id` may take in the window as it is now. */
function maxSize(id: PaneId): number {
  if (id === 'bottom') {
    const center = document.getElementById('center')!.getBoundingClientRect().height;
    return Math.max(MIN.bottom, center - CENTER_MIN_H);
  }
  const other = id === 'explorer' ? 'context' : 'explorer';
  const otherW = saved.collapsed[other] ? 0 : saved.sizes[other];
  return Math.max(MIN[id], window.innerWidth - otherW - CENTER_MIN_W);
}

function apply() {
  const r = root();
  for (const id of ['explorer', 'context'] as const) {
    const w = Math.min(saved.sizes[id], maxSize(id));
    r.style.setProperty(`--${id}-w`, saved.collapsed[id] ? '0px' : `${w}px`);
    r.classList.toggle(`no-${id}`, saved.collapsed[id]);
  }
  const center = document.getElementById('center')!;
  center.style.setProperty('--bottom-h', `${Math.min(saved.sizes.bottom, maxSize('bottom'))}px`);
  center.classList.toggle('no-bottom', saved.collapsed.bottom);
  for (const b of document.querySelectorAll<HTMLElement>('[data-reopen]')) b.hidden = !saved.collapsed[b.dataset.reopen as PaneId];
}

/** The current size of a pane in pixels (as remembered; collapsed panes keep theirs). */
export function paneSize(id: PaneId): number {
  return saved.sizes[id];
}

/** Whether a pane is shown. */
export function paneShown(id: PaneId): boolean {
  return !saved.collapsed[id];
}

/** Resizes a pane (clamped to what the window allows) and remembers it. */
export function setPaneSize(id: PaneId, px: number) {
  saved.sizes[id] = Math.round(Math.max(MIN[id], Math.min(px, maxSize(id))));
  apply();
  persist();
}

/** Shows, hides (or toggles, without `show`) a pane, and remembers it. */
export function togglePane(id: PaneId, show?: boolean) {
  saved.collapsed[id] = show === undefined ? !saved.collapsed[id] : !show;
  apply();
  persist();
}

function splitter(s: HTMLElement) {
  const id = s.dataset.split as PaneId;
  const horizontal = id === 'bottom';
  // The explorer grows to the right; the context panel and the bottom panel grow away from it.
  const sign = id === 'explorer' ? 1 : -1;
  s.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    s.setPointerCapture(e.pointerId);
    const start = horizontal ? e.clientY : e.clientX;
    const from = saved.sizes[id];
    if (saved.collapsed[id]) togglePane(id, true);
    document.body.classList.add(horizontal ? 'resizing-v' : 'resizing-h');
    const move = (ev: PointerEvent) => setPaneSize(id, from + sign * ((horizontal ? ev.clientY : ev.clientX) - start));
    const up = () => {
      s.removeEventListener('pointermove', move);
      document.body.classList.remove('resizing-v', 'resizing-h');
    };
    s.addEventListener('pointermove', move);
    s.addEventListener('pointerup', up, { once: true });
    s.addEventListener('pointercancel', up, { once: true });
  });
  s.addEventListener('dblclick', () => togglePane(id));
  s.addEventListener('keydown', (e) => {
    const grow = horizontal ? (e.key === 'ArrowUp' ? 1 : e.key === 'ArrowDown' ? -1 : 0) : e.key === 'ArrowRight' ? sign : e.key === 'ArrowLeft' ? -sign : 0;
    if (grow) {
      e.preventDefault();
      setPaneSize(id, saved.sizes[id] + grow * 16);
    } else if (e.key === 'Enter') {
      togglePane(id);
    }
  });
}

// ---- Bottom panel: tabs that screens register into.

interface BottomTab {
  id: string;
  label: string;
  page: HTMLElement;
  button: HTMLButtonElement;
  onShow?: () => void;
  onHide?: () => void;
}

const bottomTabs = new Map<string, BottomTab>();
let bottomActive: string | null = null;

/**
 * Adds a tab to the bottom panel. Its page is the element `[data-page=id]` of index.html, or a
 * new one. `onShow`/`onHide` run when it becomes visible or stops being (start and stop polling
 * there). Answers the page.
 */
export function registerBottomTab(t: { id: string; label: string; onShow?: () => void; onHide?: () => void }): HTMLElement {
  const body = document.getElementById('bottom-body')!;
  let page = body.querySelector<HTMLElement>(`:scope > [data-page="${t.id}"]`);
  if (!page) {
    page = el('div', { class: 'bottom-page', 'data-page': t.id });
    page.hidden = true;
    body.append(page);
  }
  const button = el('button', { role: 'tab', 'data-bottom': t.id, 'data-testid': `bottom-tab-${t.id}`, 'aria-selected': 'false' }, t.label);
  button.addEventListener('click', () => showBottomTab(t.id));
  document.getElementById('bottom-tabs')!.append(button);
  bottomTabs.set(t.id, { ...t, page, button });
  if (saved.bottomTab === t.id || bottomActive === null) showBottomTab(t.id, false);
  return page;
}

/** Shows a tab of the bottom panel (and the panel itself unless `reveal` is false). */
export function showBottomTab(id: string, reveal = true) {
  const t = bottomTabs.get(id);
  if (!t) return;
  if (reveal && saved.collapsed.bottom) togglePane('bottom', true);
  if (bottomActive !== id) {
    const prev = bottomActive ? bottomTabs.get(bottomActive) : undefined;
    if (prev) {
      prev.page.hidden = true;
      prev.button.setAttribute('aria-selected', 'false');
      prev.onHide?.();
    }
    bottomActive = id;
    t.page.hidden = false;
    t.button.setAttribute('aria-selected', 'true');
    t.onShow?.();
  }
  saved.bottomTab = id;
  persist();
}

/** The bottom panel's visible tab. */
export function bottomTab(): string | null {
  return saved.collapsed.bottom ? null : bottomActive;
}

/** A count on a bottom tab's label (0: none). */
export function setBottomBadge(id: string, n: number, error = false) {
  const t = bottomTabs.get(id);
  if (!t) return;
  t.button.textContent = n ? `${t.label} ` : t.label;
  if (n) t.button.append(el('span', { class: `count${error ? ' error' : ''}` }, String(n)));
}

// ---- Context panel: the sections of the active tab.

/** Shows the context panel's sections whose `data-ctx` is in `kinds`, titled `title`. */
export function showContext(kinds: string[], title = 'Context') {
  let any = false;
  for (const s of document.querySelectorAll<HTMLElement>('#context-body > [data-ctx]')) {
    const on = kinds.includes(s.dataset.ctx!);
    s.hidden = !on;
    any ||= on;
  }
  document.getElementById('context-empty')!.hidden = any;
  document.getElementById('context-title')!.textContent = title;
}

// ---- Status bar.

/** Sets an item of the status bar (`project`, `conn`, `sync`, `server`). */
export function setStatusItem(id: 'project' | 'conn' | 'sync' | 'server', text: string, opts: { title?: string; state?: string } = {}) {
  const e = document.getElementById(`sb-${id}`)!;
  e.textContent = text;
  if (opts.title !== undefined) e.title = opts.title;
  if (opts.state !== undefined) e.dataset.state = opts.state;
}

/** The problems count of the status bar (click: the Problems tab). */
export function setProblemCount(errors: number, warnings = 0) {
  const b = document.getElementById('sb-errors')!;
  b.textContent = `${errors} error${errors === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}`;
  b.classList.toggle('error', errors > 0);
}

/** Wires the splitters, collapse buttons and pane shortcuts (once, at start). */
export function mountLayout() {
  for (const s of document.querySelectorAll<HTMLElement>('.splitter[data-split]')) splitter(s);
  for (const b of document.querySelectorAll<HTMLElement>('[data-collapse]')) b.addEventListener('click', () => togglePane(b.dataset.collapse as PaneId, false));
  // Reopen handles for collapsed panes, at the window's edges.
  const handles: [PaneId, string, string][] = [
    ['explorer', '›', 'Show the explorer (Ctrl-B)'],
    ['context', '‹', 'Show the context panel (Ctrl-Alt-B)'],
    ['bottom', '⌃', 'Show the bottom panel (Ctrl-J)'],
  ];
  for (const [id, glyph, title] of handles) {
    const b = el('button', { class: `reopen reopen-${id}`, 'data-reopen': id, 'data-testid': `reopen-${id}`, title, 'aria-label': title }, glyph);
    b.addEventListener('click', () => togglePane(id, true));
    (id === 'bottom' ? document.getElementById('center')! : root()).append(b);
  }
  document.getElementById('sb-errors')!.addEventListener('click', () => showBottomTab('problems'));
  window.addEventListener('resize', apply);
  apply();
}
