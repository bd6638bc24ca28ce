// Conflicts: compare each live leaf with the winner, keep one or a merge; deletions confirmed by name.

import { openDoc } from './documents';
import { closeCompare, editor, showCompare } from './editor';
import { $, backend, status } from './state';

let conflictLeaves: { db: string; id: string; leaves: Record<string, unknown>[] } | null = null;
const pretty = (d: unknown) => JSON.stringify(d, null, 2);

/** Shows the conflicting revisions of the open document (`any`: it has some; else hides the panel). */
export async function showConflicts(db: string, id: string, any: boolean) {
  closeCompare();
  if (!any) {
    $('conflicts').hidden = true;
    conflictLeaves = null;
    return;
  }
  const leaves = await backend.call('doc_revisions', { db, id });
  conflictLeaves = { db, id, leaves };
  $('conflicts').hidden = false;
  $('conflict-list').replaceChildren(
    ...leaves.map((leaf, i) => {
      const li = document.createElement('li');
      li.dataset.rev = String(leaf._rev);
      const label = document.createElement('code');
      label.textContent = `${leaf._rev}${i === 0 ? ' (winner)' : ''}`;
      const cmp = document.createElement('button');
      cmp.textContent = 'Compare';
      cmp.disabled = i === 0;
      cmp.addEventListener('click', () => compareLeaf(leaves[0], leaf));
      const keep = document.createElement('button');
      keep.textContent = 'Keep this';
      keep.className = 'keep';
      keep.addEventListener('click', () => void resolve(String(leaf._rev)));
      li.append(label, cmp, keep);
      return li;
    }),
  );
}


function compareLeaf(winner: Record<string, unknown>, other: Record<string, unknown>) {
  showCompare(`left: ${winner._rev} (winner) · right: ${other._rev}`, pretty(winner), pretty(other), 'json');
}

async function resolve(keep: string, body?: Record<string, unknown>) {
  if (!conflictLeaves) return;
  const { db, id, leaves } = conflictLeaves;
  const others = leaves.map((l) => String(l._rev)).filter((r) => r !== keep);
  const what = body ? `Save the editor's text as a new revision on top of ${keep}` : `Keep ${keep}`;
  if (!confirm(`${what} and delete ${others.length} revision(s): ${others.join(', ')}?`)) return;
  try {
    const r = await backend.call('doc_resolve', { db, id, keep, delete: others, body });
    await openDoc(db, id, true);
    status(`${id} resolved: kept ${r.rev}, deleted ${others.join(', ')}`);
  } catch (e) {
    status((e as Error).message, true);
  }
}

$('conflict-merge').addEventListener('click', () => {
  if (!conflictLeaves) return;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(editor.getValue());
  } catch (e) {
    $('problems').textContent = `not merged: the editor's text is not valid JSON (${(e as Error).message})`;
    return;
  }
  const keep = String(body._rev ?? conflictLeaves.leaves[0]._rev);
  delete body._conflicts;
  void resolve(keep, body);
});
