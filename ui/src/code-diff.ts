// A readable line diff of two sources (unified style: ` ` same, `-` before, `+` after), for
// function changes in the deploy plan.

import { el } from './dom';

/** The lines of `before` -> `after` with their sign (longest common subsequence). */
export function lineDiff(before: string, after: string): { sign: ' ' | '-' | '+'; text: string }[] {
  const a = before ? before.replace(/\n$/, '').split('\n') : [];
  const b = after ? after.replace(/\n$/, '').split('\n') : [];
  const n = a.length;
  const m = b.length;
  const t: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) t[i][j] = a[i] === b[j] ? t[i + 1][j + 1] + 1 : Math.max(t[i + 1][j], t[i][j + 1]);
  const out: { sign: ' ' | '-' | '+'; text: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ sign: ' ', text: a[i++] });
      j++;
    } else if (j < m && (i === n || t[i][j + 1] > t[i + 1][j])) out.push({ sign: '+', text: b[j++] }); // removed lines first
    else out.push({ sign: '-', text: a[i++] });
  }
  return out;
}

/** A `<pre>` showing the diff of one function (`before`/`after` null: added/removed). */
export function codeDiff(path: string, before: string | null, after: string | null): HTMLElement {
  const what = before === null ? 'added' : after === null ? 'removed' : 'changed';
  const pre = el('pre', { class: 'code-diff mono', 'data-testid': 'code-diff', 'data-path': path },
    ...lineDiff(before ?? '', after ?? '').map((l) => el('span', l.sign === '+' ? { class: 'add' } : l.sign === '-' ? { class: 'del' } : {}, `${l.sign} ${l.text}\n`)));
  return el('div', { class: 'code-change' }, el('div', { class: 'hint' }, el('strong', { class: 'mono' }, path), ` ${what}`), pre);
}
