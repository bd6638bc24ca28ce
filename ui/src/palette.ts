// The command palette (Ctrl-Shift-P): every action of the studio, filtered as you type (the
// letters in order), with its shortcut; arrows to move, Enter to run, Escape to close. Screens
// register their actions with `registerCommand` (or a provider of actions that depend on what is
// open: `registerCommands`).

import { el } from './dom';
import { fuzzy } from './quick-open';

/** An action of the palette. */
export interface Command {
  id: string;
  label: string;
  /** Shortcut shown beside it. */
  keys?: string;
  run: () => void;
}

const fixed: Command[] = [];
const providers: (() => Command[])[] = [];

/** Adds an action to the palette. */
export function registerCommand(c: Command) {
  fixed.push(c);
}

/** Adds actions computed when the palette opens (those of the selected node, each database...). */
export function registerCommands(p: () => Command[]) {
  providers.push(p);
}

/** Every action available now. */
export function commands(): Command[] {
  return [...fixed, ...providers.flatMap((p) => p())];
}

/** Opens the palette. */
export function showPalette() {
  document.getElementById('palette')?.remove();
  const back = document.activeElement as HTMLElement | null;
  const all = commands();
  const input = el('input', { 'data-testid': 'palette-input', placeholder: 'Type an action (e.g. "toggle bottom", "open documents")', spellcheck: 'false', 'aria-label': 'Action' });
  const list = el('ul', { 'data-testid': 'palette-list', role: 'listbox' });
  const box = el('div', { id: 'palette', class: 'palette', 'data-testid': 'palette', role: 'dialog', 'aria-label': 'Command palette' }, input, list);
  let shown: Command[] = [];
  let sel = 0;
  const close = (refocus = true) => {
    box.remove();
    if (refocus) back?.focus();
  };
  const run = (c: Command | undefined) => {
    close();
    c?.run();
  };
  const render = () => {
    const q = input.value.trim();
    shown = all
      .map((c) => ({ c, s: q ? fuzzy(q, c.label) : 0 }))
      .filter((x): x is { c: Command; s: number } => x.s !== null)
      .sort((a, b) => a.s - b.s || a.c.label.localeCompare(b.c.label))
      .map((x) => x.c);
    sel = Math.min(sel, Math.max(0, shown.length - 1));
    list.replaceChildren(
      ...shown.map((c, i) => {
        const li = el('li', { class: i === sel ? 'sel' : '', role: 'option', 'aria-selected': String(i === sel), 'data-command': c.id }, el('span', {}, c.label), ...(c.keys ? [el('kbd', {}, c.keys)] : []));
        li.addEventListener('mousedown', (e) => {
          e.preventDefault();
          run(c);
        });
        return li;
      }),
    );
    if (!shown.length) list.append(el('li', { class: 'hint' }, 'No action matches.'));
    list.querySelector('li.sel')?.scrollIntoView({ block: 'nearest' });
  };
  input.addEventListener('input', () => {
    sel = 0;
    render();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') sel = Math.min(sel + 1, shown.length - 1);
    else if (e.key === 'ArrowUp') sel = Math.max(sel - 1, 0);
    else if (e.key === 'PageDown') sel = Math.min(sel + 10, shown.length - 1);
    else if (e.key === 'PageUp') sel = Math.max(sel - 10, 0);
    else if (e.key === 'Escape') return close();
    else if (e.key === 'Enter') {
      // Not also a click on what the action focuses (a dialog's first button would close it).
      e.preventDefault();
      return run(shown[sel]);
    }
    else return;
    e.preventDefault();
    render();
  });
  input.addEventListener('blur', () => setTimeout(() => box.isConnected && close(false), 150));
  document.body.append(box);
  render();
  input.focus();
}
