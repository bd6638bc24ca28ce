// The revision tree of a document, drawn as a graph (SVG): one column per generation, one lane
// per branch; the winner ringed, deleted leaves crossed, revisions whose body is gone (compacted
// or never replicated) dashed. Any revision whose body is stored opens on click or Enter.

import { $, backend } from './state';
import type { DocTree, RevNode } from './api-types';

type Tree = DocTree;

const NS = 'http://www.w3.org/2000/svg';
const DX = 70;
const DY = 36;
const PAD = 16;
/** Room on the left for the first label (centred under its node). */
const LEFT = 40;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...kids: (globalThis.Node | string)[]): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  e.append(...kids);
  return e;
}

const gen = (rev: string) => Number(rev.split('-')[0]) || 0;
let seq = 0;

/**
 * Draws the revision tree of `db`/`id` into the context panel; `shown` is the revision in the
 * editor; `open(rev, isWinner)` opens a revision.
 */
export async function showRevTree(db: string, id: string, shown: string, open: (rev: string, current: boolean) => void) {
  const box = $('revtree');
  const mine = ++seq;
  let tree: Tree;
  try {
    tree = await backend.call('doc_tree', { db, id });
  } catch (e) {
    if (mine !== seq) return;
    box.hidden = false;
    box.replaceChildren(Object.assign(document.createElement('p'), { className: 'error', textContent: (e as Error).message }));
    return;
  }
  if (mine !== seq) return;
  const byRev = new Map(tree.revs.map((n) => [n.rev, n]));
  const kids = new Map<string | null, RevNode[]>();
  for (const n of tree.revs) {
    const p = n.parent && byRev.has(n.parent) ? n.parent : null;
    kids.set(p, [...(kids.get(p) ?? []), n]);
  }
  // The winner's branch first, so it stays on the top lane.
  const onWinnerPath = new Set<string>();
  for (let r = tree.winner; r; r = byRev.get(r)?.parent ?? null) onWinnerPath.add(r);
  for (const list of kids.values()) list.sort((a, b) => Number(onWinnerPath.has(b.rev)) - Number(onWinnerPath.has(a.rev)) || a.rev.localeCompare(b.rev));
  const lane = new Map<string, number>();
  let lanes = 0;
  const place = (n: RevNode, l: number) => {
    lane.set(n.rev, l);
    (kids.get(n.rev) ?? []).forEach((c, i) => place(c, i === 0 ? l : lanes++));
  };
  for (const root of kids.get(null) ?? []) place(root, lanes++);
  const minGen = Math.min(...tree.revs.map((n) => gen(n.rev)));
  const maxGen = Math.max(...tree.revs.map((n) => gen(n.rev)));
  const x = (n: RevNode) => LEFT + (gen(n.rev) - minGen) * DX;
  const y = (n: RevNode) => PAD + lane.get(n.rev)! * DY;
  const w = LEFT * 2 + (maxGen - minGen) * DX;
  const h = PAD * 2 + (lanes - 1) * DY + 14;
  const g = svg('svg', { width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: 'group', 'aria-label': `Revision tree of ${id}` });
  for (const n of tree.revs) {
    const p = n.parent ? byRev.get(n.parent) : undefined;
    if (p) g.append(svg('path', { class: 'edge', d: `M${x(p)},${y(p)} C${x(p) + DX / 2},${y(p)} ${x(n) - DX / 2},${y(n)} ${x(n)},${y(n)}` }));
  }
  for (const n of tree.revs) {
    const cls = ['node', n.winner ? 'winner' : '', n.deleted ? 'deleted' : '', n.leaf ? 'leaf' : '', n.available ? 'available' : 'missing', n.rev === shown ? 'shown' : ''].filter(Boolean).join(' ');
    const what = `${n.rev}${n.winner ? ' · winner' : ''}${n.deleted ? ' · deleted' : ''}${n.leaf && !n.winner && !n.deleted ? ' · conflict' : ''}${n.available ? '' : ' · body not stored (compacted)'}`;
    const node = svg('g', { class: cls, 'data-rev': n.rev, tabindex: n.available ? 0 : -1, role: n.available ? 'button' : 'img', 'aria-label': what }, svg('title', {}, what), svg('circle', { cx: x(n), cy: y(n), r: n.winner ? 7 : 5.5 }));
    if (n.deleted) node.append(svg('path', { class: 'cross', d: `M${x(n) - 4},${y(n) - 4} L${x(n) + 4},${y(n) + 4} M${x(n) + 4},${y(n) - 4} L${x(n) - 4},${y(n) + 4}` }));
    node.append(svg('text', { x: x(n), y: y(n) + 17, 'text-anchor': 'middle' }, n.rev.length > 9 ? `${n.rev.slice(0, n.rev.indexOf('-') + 6)}…` : n.rev));
    if (n.available) {
      const go = () => open(n.rev, n.rev === tree.winner);
      node.addEventListener('click', go);
      node.addEventListener('keydown', (e) => {
        if ((e as KeyboardEvent).key === 'Enter' || (e as KeyboardEvent).key === ' ') {
          e.preventDefault();
          go();
        }
      });
    }
    g.append(node);
  }
  const legend = document.createElement('p');
  legend.className = 'hint';
  legend.textContent = `${tree.revs.length} revision(s), ${tree.revs.filter((n) => n.leaf).length} leaf(s): ringed = winner, crossed = deleted, dashed = body not stored. Click a revision to open it.`;
  const h2 = document.createElement('h2');
  h2.textContent = 'Revision tree';
  const scroll = document.createElement('div');
  scroll.className = 'revtree-graph';
  scroll.append(g);
  box.replaceChildren(h2, scroll, legend);
  box.hidden = false;
}
