// Quick open (Ctrl/Cmd-P): every file of the project explorer, filtered as you type (the letters
// in order, anywhere in the path), arrows to move, Enter to open, Escape to close.

import { el } from './dom';

interface Item { label: string; path: string }

/** Whether `q`'s letters appear in `text` in order (case-insensitive); a smaller score is better. */
export function fuzzy(q: string, text: string): number | null {
  const t = text.toLowerCase();
  let pos = -1;
  let gaps = 0;
  for (const c of q.toLowerCase()) {
    if (c === ' ') continue;
    const next = t.indexOf(c, pos + 1);
    if (next < 0) return null;
    gaps += next - pos - 1;
    pos = next;
  }
  return gaps;
}

/** Opens the palette over `items`; `open` receives the chosen path. */
export function quickOpen(items: Item[], open: (path: string) => void) {
  document.getElementById('quick-open')?.remove();
  const input = el('input', { 'data-testid': 'quick-open-input', placeholder: 'Go to a file: type part of its path', spellcheck: 'false' });
  const list = el('ul', { 'data-testid': 'quick-open-list' });
  const box = el('div', { id: 'quick-open', 'data-testid': 'quick-open', role: 'dialog', 'aria-label': 'Go to a file' }, input, list);
  let shown: Item[] = [];
  let sel = 0;
  const close = () => box.remove();
  const render = () => {
    const q = input.value.trim();
    shown = items
      .map((it) => ({ it, s: q ? fuzzy(q, it.path) : 0 }))
      .filter((x): x is { it: Item; s: number } => x.s !== null)
      .sort((a, b) => a.s - b.s || a.it.path.length - b.it.path.length)
      .slice(0, 50)
      .map((x) => x.it);
    sel = Math.min(sel, Math.max(0, shown.length - 1));
    list.replaceChildren(
      ...shown.map((it, i) => {
        const li = el('li', { class: i === sel ? 'sel' : '', 'data-path': it.path }, el('strong', {}, it.label), ' ', el('span', { class: 'hint' }, it.path));
        li.addEventListener('mousedown', (e) => {
          e.preventDefault();
          close();
          open(it.path);
        });
        return li;
      }),
    );
    if (!shown.length) list.append(el('li', { class: 'hint' }, 'No file matches.'));
  };
  input.addEventListener('input', () => {
    sel = 0;
    render();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') sel = Math.min(sel + 1, shown.length - 1);
    else if (e.key === 'ArrowUp') sel = Math.max(sel - 1, 0);
    else if (e.key === 'Escape') return close();
    else if (e.key === 'Enter') {
      const it = shown[sel];
      close();
      if (it) open(it.path);
      return;
    } else return;
    e.preventDefault();
    render();
  });
  input.addEventListener('blur', () => setTimeout(close, 100));
  document.body.append(box);
  render();
  input.focus();
}
