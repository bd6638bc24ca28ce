// The Problems tab of the bottom panel: every diagnostic of the project (`project check`: what
// loading the project found), with its file and line; a click (or Enter) opens the file at that
// line. The errors the studio reported recently are listed under them in full, never cut off.

import { el } from './dom';
import { setBottomBadge, setProblemCount } from './layout';

import type { Diagnostic } from './api-types';

export type { Diagnostic };

let open: (path: string, line?: number) => void = () => {};
let root = '';
let diagnostics: Diagnostic[] = [];
const messages: { at: Date; text: string }[] = [];

/** Sets how a problem's file opens, and the project root its paths are relative to. */
export function onOpenProblem(f: (path: string, line?: number) => void) {
  open = f;
}

/** The project's root (absolute paths under it are shown and opened relative to it). */
export function setProblemRoot(r: string) {
  root = r.replace(/\/+$/, '');
}

const rel = (f: string) => (root && f.startsWith(`${root}/`) ? f.slice(root.length + 1) : f);

let check: (() => Promise<{ diagnostics: Diagnostic[] }>) | null = null;
let timer: number | undefined;
let seq = 0;

/** Sets how the full check runs (`project_check`: loading plus the compile check of every function). */
export function setProblemCheck(f: () => Promise<{ diagnostics: Diagnostic[] }>) {
  check = f;
}

/**
 * Shows the project's diagnostics (after every load, save and edit): those of loading it at
 * once, then, a moment later, every diagnostic of `project check`.
 */
export function showProblems(d: Diagnostic[]) {
  diagnostics = d;
  render();
  window.clearTimeout(timer);
  const mine = ++seq;
  timer = window.setTimeout(() => {
    check?.().then(
      (r) => {
        if (mine !== seq) return;
        diagnostics = r.diagnostics;
        render();
      },
      () => {},
    );
  }, 150);
}

/** Keeps an error the studio reported (the last 20), so it can be read in full. */
export function recordError(text: string) {
  if (messages[0]?.text === text) return;
  messages.unshift({ at: new Date(), text });
  messages.length = Math.min(messages.length, 20);
  render();
}

function render() {
  const list = document.getElementById('problems-list');
  if (!list) return;
  const errors = diagnostics.filter((d) => (d.severity ?? 'error') === 'error').length;
  const warnings = diagnostics.length - errors;
  setProblemCount(errors, warnings);
  setBottomBadge('problems', diagnostics.length, errors > 0);
  const items: HTMLElement[] = diagnostics.map((d, i) => {
    const file = rel(d.file);
    const where = d.line ? `${file}:${d.line}` : file;
    const li = el('li', { class: `problem ${d.severity ?? 'error'}`, tabindex: i === 0 ? '0' : '-1', 'data-file': file, 'data-line': String(d.line ?? ''), role: 'button', title: `Open ${where}` },
      el('span', { class: `badge ${d.severity === 'warning' ? 'warning' : 'error'}` }, d.severity ?? 'error'), ' ',
      el('span', { class: 'where' }, where), ' ',
      el('span', { class: 'msg' }, d.message),
      ...(d.hint ? [el('div', { class: 'hint' }, d.hint)] : []));
    const go = () => open(file, d.line ?? undefined);
    li.addEventListener('click', go);
    li.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') go();
      else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        ((e.key === 'ArrowDown' ? li.nextElementSibling : li.previousElementSibling) as HTMLElement | null)?.focus();
      }
    });
    return li;
  });
  if (!diagnostics.length) items.push(el('li', { class: 'hint' }, 'No problems in the project.'));
  if (messages.length) {
    items.push(el('li', { class: 'section' }, 'Errors reported by the studio (newest first)'));
    for (const m of messages) items.push(el('li', { class: 'message', 'data-testid': 'studio-error' }, el('span', { class: 'hint' }, m.at.toLocaleTimeString()), ' ', m.text));
  }
  list.replaceChildren(...items);
}
