// The Run screen (a tab of the bottom panel, next to the editor): a transaction's form built from its variables (types, defaults, required,
// multi-valued), "run as user", the response as JSON, the documents it wrote (each opens in the
// editor), and the history of runs (one click shows a past run again).

import type { Run, TransactionInfo, Variable } from './api-types';
import type { Backend } from './backend';
import { clock, el, messageLine, type Screen } from './ops-kit';

type Tx = TransactionInfo;

/** Selects a transaction in the screen (set when the screen is built, on its first showing). */
let select: ((key: string) => void) | null = null;
/** Opens the Run screen (the bottom panel's Run tab) on `connector/name`. */
export function runTransaction(connector: string, name: string) {
  document.getElementById('run-open')?.click();
  select?.(`${connector}/${name}`);
}

const NUMERIC = /^xsd:(int|integer|long|short|double|float|decimal|byte)$/;

/** The value a field holds, or undefined when left empty (the default applies). */
function valueOf(v: Variable, input: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement): unknown {
  const raw = input.value;
  if (v.multi_valued) {
    const lines = raw.split('\n').map((l) => l.trim()).filter(Boolean);
    if (!lines.length) return undefined;
    return NUMERIC.test(v.schema_type) ? lines.map(Number) : lines;
  }
  if (raw === '') return undefined;
  if (v.schema_type === 'xsd:boolean') return raw === 'true';
  if (NUMERIC.test(v.schema_type)) return Number(raw);
  return raw;
}

export const runScreen: Screen = (backend: Backend, body, host) => {
  const msg = messageLine('run-msg');
  const pick = el('select', { 'data-testid': 'run-transaction', title: 'Transaction to run' });
  const kind = el('span', { class: 'hint', 'data-testid': 'run-kind' });
  const user = el('input', { 'data-testid': 'run-user', placeholder: 'anonymous', autocomplete: 'off', spellcheck: 'false' });
  const fields = el('div', { class: 'ops-form', 'data-testid': 'run-form' });
  const go = el('button', { class: 'primary', 'data-testid': 'run-go' }, 'Run');
  const result = el('div', { 'data-testid': 'run-result' }, el('p', { class: 'hint' }, 'Fill in the variables and Run: the transaction runs on the local database, as Convertigo would run it.'));
  const history = el('ul', { class: 'run-history', 'data-testid': 'run-history' });
  body.replaceChildren(
    el('div', { class: 'ops-col narrow' },
      el('h3', {}, 'Transaction'), el('div', { class: 'row' }, pick), kind,
      el('h3', {}, 'Variables'), fields,
      el('label', { class: 'run-user' }, 'Run as user ', user),
      el('div', { class: 'row' }, go), msg.box,
      el('h3', {}, 'History'), history),
    el('div', { class: 'ops-col' }, el('h3', {}, 'Result'), result),
  );

  let txs: Tx[] = [];
  /** The transaction to select once listed (`connector/name`). */
  let preset: string | null = null;
  let inputs: [Variable, HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement][] = [];

  function form(t: Tx, values: Record<string, unknown> = {}) {
    kind.textContent = `${t.kind}${t.supported ? '' : ' (cannot run locally)'}`;
    go.disabled = !t.supported;
    inputs = [];
    fields.replaceChildren(...t.variables.map((v) => {
      const given = values[v.name];
      let input: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;
      if (v.multi_valued) {
        input = el('textarea', { rows: '3', placeholder: 'one value per line' });
        if (Array.isArray(given)) input.value = given.join('\n');
      } else if (v.schema_type === 'xsd:boolean') {
        input = el('select', {}, el('option', { value: '' }, '(default)'), el('option', { value: 'true' }, 'true'), el('option', { value: 'false' }, 'false'));
        if (given !== undefined) input.value = String(given);
      } else {
        input = el('input', NUMERIC.test(v.schema_type) ? { type: 'number', step: 'any' } : { type: 'text' });
        if (given !== undefined) input.value = String(given);
      }
      input.name = v.name;
      input.dataset.var = v.name;
      if (v.required) input.setAttribute('aria-required', 'true');
      if (v.default !== undefined && v.default !== null && 'placeholder' in input) input.placeholder = `default: ${typeof v.default === 'string' ? v.default : JSON.stringify(v.default)}`;
      const type = v.schema_type.replace(/^xsd:/, '') + (v.multi_valued ? '[]' : '');
      return el('label', { class: 'wide', title: v.description ?? '' }, `${v.name}${v.required ? ' *' : ''} `, el('span', { class: 'hint' }, `${type}${v.description ? ` · ${v.description}` : ''}`), input);
    }));
    if (!t.variables.length) fields.append(el('p', { class: 'hint' }, 'No variables.'));
    inputs = t.variables.map((v) => [v, fields.querySelector<HTMLInputElement>(`[data-var="${CSS.escape(v.name)}"]`)!]);
  }

  const selected = () => txs.find((t) => `${t.connector}/${t.name}` === pick.value);

  function showRun(r: Run) {
    const docs = el('ul', { class: 'run-written', 'data-testid': 'run-written' }, ...r.written.map((w) => {
      const b = el('button', { class: 'doc-link', 'data-id': w.id, title: `Open ${w.id}` }, w.id);
      // The document opens in the editor; the run stays on screen in the bottom panel.
      b.addEventListener('click', () => {
        void host.openDoc(r.connector, w.id);
      });
      return el('li', {}, b, el('span', { class: 'hint mono' }, ` ${w.rev}${w.deleted ? ' (deleted)' : ''}`), w.doc ? el('pre', { class: 'mono' }, JSON.stringify(w.doc, null, 2)) : '');
    }));
    result.replaceChildren(
      el('div', { class: 'run-head', 'data-testid': 'run-state', 'data-ok': String(r.ok) },
        el('span', { class: `badge ${r.ok ? 'ok' : 'error'}` }, r.ok ? 'ok' : 'error'), ' ',
        el('strong', {}, `${r.connector}/${r.transaction}`), el('span', { class: 'hint' }, ` run ${r.index} · ${r.user ? `as ${r.user}` : 'anonymous'} · ${r.ms.toFixed(1)} ms`)),
      r.error ? el('div', { class: 'error', 'data-testid': 'run-error' }, r.error) : '',
      el('h3', {}, 'Response'), el('pre', { class: 'mono run-json', 'data-testid': 'run-response' }, JSON.stringify(r.response, null, 2)),
      el('h3', {}, `Documents written (${r.written.length})`), r.written.length ? docs : el('p', { class: 'hint' }, 'None.'));
  }

  async function loadHistory() {
    const h = await backend.call('transaction_history');
    history.replaceChildren(...h.runs.map((r) => {
      const li = el('li', { 'data-index': String(r.index), class: r.ok ? 'ok' : 'failed', title: 'Show this run again' },
        el('span', { class: 'mono' }, clock(r.time)), ' ', el('span', { class: `badge ${r.ok ? 'ok' : 'error'}` }, r.ok ? 'ok' : 'error'), ` ${r.connector}/${r.transaction}${r.user ? ` as ${r.user}` : ''}`);
      li.addEventListener('click', () => {
        pick.value = `${r.connector}/${r.transaction}`;
        const t = selected();
        if (t) form(t, r.vars);
        user.value = r.user ?? '';
        showRun(r);
      });
      return li;
    }));
    if (!h.runs.length) history.append(el('li', { class: 'hint' }, 'No run yet.'));
  }

  /** (Re)reads the project's transactions; the form is rebuilt only when its transaction changed. */
  let listed = '';
  async function loadTxs() {
    const l = await backend.call('transactions_list');
    const key = JSON.stringify(l.transactions);
    if (key === listed) return;
    listed = key;
    const before = selected();
    const keep = pick.value;
    txs = l.transactions;
    pick.replaceChildren(...txs.map((t) => el('option', { value: `${t.connector}/${t.name}` }, `${t.connector} / ${t.name}`)));
    if (!txs.length) msg.say('The project has no transaction: create one from a connector\'s menu in the explorer.');
    if (preset && txs.some((t) => `${t.connector}/${t.name}` === preset)) pick.value = preset;
    else if (txs.some((t) => `${t.connector}/${t.name}` === keep)) pick.value = keep;
    preset = null;
    const t = selected();
    if (t && JSON.stringify(t) !== JSON.stringify(before)) form(t);
  }
  void loadTxs().catch((e) => msg.say((e as Error).message, true));
  void loadHistory().catch(() => {});
  pick.addEventListener('change', () => {
    const t = selected();
    if (t) form(t);
  });
  select = (key) => {
    preset = key;
    void loadTxs().then(() => {
      if (!txs.some((t) => `${t.connector}/${t.name}` === key)) return;
      if (pick.value !== key) {
        pick.value = key;
        const t = selected();
        if (t) form(t);
      }
      pick.focus();
    }).catch((e) => msg.say((e as Error).message, true));
  };

  go.addEventListener('click', async () => {
    const t = selected();
    if (!t) return;
    const vars: Record<string, unknown> = {};
    for (const [v, input] of inputs) {
      const val = valueOf(v, input);
      if (val !== undefined) vars[v.name] = val;
    }
    const missing = t.variables.filter((v) => v.required && vars[v.name] === undefined && (v.default === undefined || v.default === null)).map((v) => v.name);
    if (missing.length) return msg.say(`Fill in ${missing.join(', ')} (required).`, true);
    go.disabled = true;
    try {
      const r = await backend.call('transaction_run', { connector: t.connector, name: t.name, vars: vars as Record<string, never>, user: user.value.trim() || null });
      msg.say('');
      showRun(r);
      await loadHistory();
    } catch (e) {
      msg.say((e as Error).message, true);
    } finally {
      go.disabled = false;
    }
  });
  // Runs happen when asked; showing the tab again re-reads the transactions (one may be new).
  return () => loadTxs().catch((e) => msg.say((e as Error).message, true));
};
