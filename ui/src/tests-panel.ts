// The Tests screen: runs the project's view tests (all, one connector's, or one test) and shows
// each result: pass/fail, the readable diff of a failure (- expected, + actual), and a link
// that opens the failing view's map function.

import type { Backend } from './backend';
import { el, messageLine, type Screen } from './ops-kit';


export const testsScreen: Screen = (backend: Backend, body, host) => {
  const scope = el('select', { 'data-testid': 'tests-scope', title: 'Which tests to run' });
  const runBtn = el('button', { class: 'primary', 'data-testid': 'tests-run' }, 'Run');
  const summary = el('div', { class: 'hint', 'data-testid': 'tests-summary' }, 'Run the view tests of tests/ (each on a fresh in-memory database with the project\'s design documents).');
  const msg = messageLine('tests-msg');
  const list = el('div', { class: 'ops-scroll', 'data-testid': 'tests-results' });
  body.replaceChildren(el('div', { class: 'ops-col' }, el('div', { class: 'row' }, scope, runBtn), summary, msg.box, list));

  void backend.call('project_tree').then((p) => {
    scope.replaceChildren(el('option', { value: '' }, 'All tests'));
    for (const c of p.tree.filter((n) => n.kind === 'connector')) scope.append(el('option', { value: `connector:${c.name}` }, `Tests of ${c.name}`));
    for (const t of p.tests ?? []) scope.append(el('option', { value: `test:${t}` }, `Test ${t}`));
  }).catch((e) => msg.say((e as Error).message, true));

  const run = async () => {
    const v = scope.value;
    const args = v.startsWith('connector:') ? { connector: v.slice(10) } : v.startsWith('test:') ? { name: v.slice(5) } : {};
    runBtn.disabled = true;
    summary.textContent = 'running…';
    try {
      const r = await backend.call('tests_run', args);
      summary.textContent = r.results.length ? `${r.passed} passed, ${r.failed} failed (${r.ms.toFixed(0)} ms)` : 'No view tests here: create one from a view\'s menu (New test).';
      summary.className = r.failed ? 'error' : 'hint';
      msg.say('');
      list.replaceChildren(...r.results.map((t) => {
        const card = el('div', { class: `test-result ${t.ok ? 'ok' : 'failed'}`, 'data-test': t.name, 'data-ok': String(t.ok) },
          el('span', { class: `badge ${t.ok ? 'ok' : 'error'}` }, t.ok ? 'pass' : 'fail'), ' ',
          el('strong', {}, t.name), ' ', el('span', { class: 'hint' }, `${t.connector} · ${t.view} · ${t.file}`));
        if (t.view_path) {
          const jump = el('button', { class: 'link', 'data-testid': 'tests-jump', title: `Open ${t.view_path}` }, 'open the view');
          jump.addEventListener('click', () => {
            host.close();
            void host.openFile?.(t.view_path!);
          });
          card.append(' ', jump);
        }
        if (!t.ok) card.append(el('pre', { class: 'test-diff mono', 'data-testid': 'tests-diff' }, ...t.diff.split('\n').map((l) => el('span', { class: l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : '' }, `${l}\n`))));
        return card;
      }));
    } catch (e) {
      msg.say((e as Error).message, true);
      summary.textContent = '';
    } finally {
      runBtn.disabled = false;
    }
  };
  runBtn.addEventListener('click', () => void run());
  // Nothing to poll: tests run when asked.
  return async () => {};
};
