// "Save as test" in the live preview: the rows on screen become a view test's expectation,
// with every document of the database (what the preview ran over) as its input and the
// preview's query. The name is typed in place.

import { showProject } from './explorer';
import { activeTab, tabDirty } from './tabs';
import { openFile } from './files';
import { shownPreview } from './preview';
import { $, backend, status } from './state';

$('preview-save-test').addEventListener('click', () => {
  const p = shownPreview;
  if (!p) return status('Open a map or reduce function first: its preview rows become the test', true);
  const open = activeTab();
  if (open && tabDirty(open)) return status('Save the function first (Ctrl-S): a test runs the saved code', true);
  const button = $('preview-save-test');
  const input = document.createElement('input');
  input.className = 'inline-name';
  input.dataset.testid = 'preview-test-name';
  input.placeholder = 'test name';
  button.after(input);
  button.hidden = true;
  input.focus();
  let done = false;
  const finish = async (name: string | null) => {
    if (done) return;
    done = true;
    input.remove();
    button.hidden = false;
    if (!name) return;
    try {
      const r = await backend.call('part_edit', {
        op: 'test', connector: p.view.db, ddoc: p.view.ddoc, view: p.view.view, name,
        all_docs: true, query: p.query, expect: { rows: p.rows },
      });
      showProject(r.project);
      status(`Saved the ${p.rows.length} row(s) shown as the test ${name}`);
      await openFile(r.path);
    } catch (e) {
      status((e as Error).message, true);
    }
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') void finish(input.value.trim() || null);
    if (e.key === 'Escape') void finish(null);
    e.stopPropagation();
  });
  input.addEventListener('blur', () => void finish(null));
});
