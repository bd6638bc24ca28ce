// Shared pieces of the operations screens (Listeners, Replication, Deploy).

import type { Backend } from './backend';
import { el } from './dom';

export { el };

/** What the screens may ask of the rest of the studio. */
export interface OpsHost {
  /** Opens a document in the editor (and its database in the documents panel). */
  openDoc(db: string, id: string): Promise<void>;
  /** Opens a project file in the editor. */
  openFile?(path: string): Promise<void>;
}

/** A screen: builds its content into `body` and answers a function that refreshes it (polled while open). */
export type Screen = (backend: Backend, body: HTMLElement, host: OpsHost & { close(): void }) => () => Promise<void>;


/** `12:03:44.120` for a time in milliseconds since the epoch. */
export function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** A message line that keeps errors on screen until dismissed. */
export function messageLine(testid: string) {
  const box = el('div', { class: 'ops-msg', 'data-testid': testid });
  return {
    box,
    say(text: string, error = false) {
      box.replaceChildren(el('span', {}, text));
      box.classList.toggle('error', error);
      if (error) {
        const x = el('button', { class: 'link', 'data-testid': `${testid}-dismiss`, title: 'Dismiss this error' }, 'Dismiss');
        x.addEventListener('click', () => {
          box.replaceChildren();
          box.classList.remove('error');
        });
        box.append(x);
      }
    },
  };
}

/**
 * Renders jobs (newest first) into `box` as cards; a card is rebuilt only when its job changed,
 * so buttons stay put under the pointer while the screen polls.
 */
export function jobCards<T extends { id: string }>(box: HTMLElement, card: (j: T) => HTMLElement, empty: string) {
  const shown = new Map<string, { key: string; node: HTMLElement }>();
  return (all: T[]) => {
    if (!all.length) {
      shown.clear();
      box.replaceChildren(el('p', { class: 'hint' }, empty));
      return;
    }
    const nodes = all.slice().reverse().map((j) => {
      const key = JSON.stringify(j);
      const prev = shown.get(j.id);
      if (prev && prev.key === key) return prev.node;
      const node = card(j);
      shown.set(j.id, { key, node });
      return node;
    });
    for (const id of [...shown.keys()]) if (!all.some((j) => j.id === id)) shown.delete(id);
    if (nodes.length !== box.children.length || nodes.some((n, i) => box.children[i] !== n)) box.replaceChildren(...nodes);
  };
}
