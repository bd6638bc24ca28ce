// Property sheets: a form for the connector, listener or transaction whose file is open. The
// form edits the item as the backend describes it (`sheet_get`) and saves it back to its file
// (`sheet_save`), which answers the file's diagnostics; the TOML stays open in the editor and
// follows the save.

import type { Backend } from './backend';
import type { Diagnostic, KeptProperty, ProjectTree, PropertySpec, SheetKind } from './api-types';
import { el } from './dom';

interface Variable { name: string; description?: string; default?: unknown; required?: boolean; multi_valued?: boolean; schema_type?: string }
interface Hooks {
  /** After a save: the new project tree, and the file to reload in the editor. */
  saved(project: ProjectTree, file: string): void;
  status(msg: string, error?: boolean): void;
}

const XSD = ['xsd:string', 'xsd:boolean', 'xsd:integer', 'xsd:int', 'xsd:long', 'xsd:double', 'xsd:decimal', 'xsd:date', 'xsd:dateTime'];

function select(options: string[], value: string, attrs: Record<string, string> = {}, blank?: string) {
  const s = el('select', attrs) as HTMLSelectElement;
  if (blank !== undefined) s.append(el('option', { value: '' }, blank));
  for (const o of options) s.append(el('option', { value: o }, o));
  if (value && !options.includes(value)) s.append(el('option', { value }, `${value} (missing)`));
  s.value = value;
  return s;
}

function field(label: string, input: HTMLElement, hint?: string) {
  return el('label', { class: 'sheet-field' }, el('span', {}, label), input, ...(hint ? [el('small', { class: 'hint' }, hint)] : []));
}

/** Which sheet a project file has, if any. */
export function sheetOf(path: string): { connector: string; kind: SheetKind; name: string } | null {
  let m = /^connectors\/([^/]+)\/connector\.toml$/.exec(path);
  if (m) return { connector: m[1], kind: 'connector', name: '' };
  m = /^connectors\/([^/]+)\/(listeners|transactions)\/([^/]+)\.toml$/.exec(path);
  if (m) return { connector: m[1], kind: m[2] === 'listeners' ? 'listener' : 'transaction', name: m[3] };
  return null;
}

/** A JSON-looking text as JSON, anything else as the string itself; empty as null. */
function loose(text: string): unknown {
  const t = text.trim();
  if (!t) return null;
  try {
    return JSON.parse(t);
  } catch {
    return text;
  }
}

const shown = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

/** Shows the sheet of `path` in `box` (hides it for other files). */
export async function openSheet(backend: Backend, box: HTMLElement, path: string, hooks: Hooks) {
  const which = sheetOf(path);
  if (!which) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  let sheet: Record<string, unknown>;
  try {
    sheet = await backend.call('sheet_get', which);
  } catch (e) {
    box.hidden = false;
    box.replaceChildren(el('div', { class: 'sheet-msg error' }, (e as Error).message));
    return;
  }
  const item = structuredClone(sheet.item) as Record<string, unknown>;
  const diags = el('ul', { class: 'sheet-diags', 'data-testid': 'sheet-diags' });
  const msg = el('div', { class: 'sheet-msg', 'data-testid': 'sheet-msg' });
  const title = which.kind === 'connector' ? `Connector ${which.connector}` : `${which.kind === 'listener' ? 'Listener' : 'Transaction'} ${which.name}`;
  const saveBtn = el('button', { class: 'primary', type: 'submit', 'data-testid': 'sheet-save' }, 'Save') as HTMLButtonElement;
  const form = el('form', { class: 'sheet', 'data-testid': 'sheet', 'data-kind': which.kind, 'data-name': which.name }) as HTMLFormElement;
  const body = el('div', { class: 'sheet-body' });
  const invalid = new Set<string>();

  const fields =
    which.kind === 'connector' ? connectorFields(item) : which.kind === 'listener' ? listenerFields(sheet, item) : transactionFields(sheet, item, invalid, msg);
  body.append(...fields);
  body.append(...convertigoPart(sheet));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (invalid.size) {
      msg.textContent = `Not saved: fix the JSON of ${[...invalid].join(', ')}.`;
      msg.classList.add('error');
      return;
    }
    saveBtn.disabled = true;
    try {
      const r = await backend.call('sheet_save', { ...which, item });
      msg.classList.remove('error');
      msg.textContent = `Saved ${r.file}.`;
      diags.replaceChildren(...r.diagnostics.map((d) => el('li', { class: d.severity }, `${d.message}${d.hint ? ` (${d.hint})` : ''}`)));
      hooks.saved(r.project, r.file);
      hooks.status(`saved ${r.file}${r.diagnostics.length ? ` with ${r.diagnostics.length} problem(s)` : ''}`, r.diagnostics.length > 0);
    } catch (e) {
      msg.classList.add('error');
      msg.textContent = `Not saved: ${(e as Error).message}`;
    } finally {
      saveBtn.disabled = false;
    }
  });
  form.append(el('h2', {}, title), body, el('div', { class: 'row' }, saveBtn), msg, diags);
  box.replaceChildren(form);
  box.hidden = false;
}

/** The connector sheet's fields. */
function connectorFields(item: Record<string, unknown>): HTMLElement[] {
  const anon = el('input', { type: 'checkbox', 'data-testid': 'sheet-anonymous' }) as HTMLInputElement;
  anon.checked = Boolean(item.anonymous_replication);
  anon.addEventListener('change', () => (item.anonymous_replication = anon.checked));
  const revs = el('input', { type: 'number', min: '1', 'data-testid': 'sheet-revs-limit' }) as HTMLInputElement;
  revs.value = String(item.revs_limit ?? 1000);
  revs.addEventListener('input', () => (item.revs_limit = Number(revs.value)));
  return [field('anonymous replication', anon, 'devices without a user may replicate this database'), field('revs_limit', revs, 'revisions kept per document')];
}

/** The listener sheet's fields: when it fires and its target. */
function listenerFields(sheet: Record<string, unknown>, item: Record<string, unknown>): HTMLElement[] {
  const views = sheet.views as string[];
  const filters = sheet.filters as string[];
  const kind = select(['update', 'delete'], String(item.kind ?? 'update'), { 'data-testid': 'sheet-listener-kind' });
  kind.addEventListener('change', () => (item.kind = kind.value));
  const view = select(views, String(item.view ?? ''), { 'data-testid': 'sheet-view' }, '(none)');
  view.addEventListener('change', () => (item.view = view.value || null));
  const filter = select(filters, String(item.filter ?? ''), { 'data-testid': 'sheet-filter' }, '(none)');
  filter.addEventListener('change', () => (item.filter = filter.value || null));
  const chunk = el('input', { type: 'number', 'data-testid': 'sheet-chunk' }) as HTMLInputElement;
  chunk.value = String(item.chunk ?? 10);
  chunk.addEventListener('input', () => (item.chunk = Number(chunk.value)));
  const enabled = el('input', { type: 'checkbox', 'data-testid': 'sheet-enabled' }) as HTMLInputElement;
  enabled.checked = item.enabled !== false;
  enabled.addEventListener('change', () => (item.enabled = enabled.checked));
  const target = (item.target ??= {}) as Record<string, unknown>;
  const handler = select(sheet.handlers as string[], String(target.handler ?? ''), { 'data-testid': 'sheet-handler' }, '(none)');
  handler.addEventListener('change', () => (target.handler = handler.value || undefined));
  const http = el('input', { placeholder: 'http://127.0.0.1:3000/hook', 'data-testid': 'sheet-http' }) as HTMLInputElement;
  http.value = String(target.http ?? '');
  http.addEventListener('input', () => (target.http = http.value.trim() || undefined));
  const seq = el('input', { placeholder: 'Project.Sequence', 'data-testid': 'sheet-sequence' }) as HTMLInputElement;
  seq.value = String(target.sequence ?? '');
  seq.addEventListener('input', () => (target.sequence = seq.value.trim() || undefined));
  const log = el('input', { type: 'checkbox', 'data-testid': 'sheet-log' }) as HTMLInputElement;
  log.checked = Boolean(target.log);
  log.addEventListener('change', () => (target.log = log.checked));
  return [
    field('kind', kind, 'update: created or changed documents; delete: deleted ones'),
    field('view', view, 'documents this view emits (by _id) fire the listener'),
    field('filter', filter, 'or a filter function selecting the documents'),
    field('chunk', chunk, 'documents per call (0 or less disables it)'),
    field('enabled', enabled),
    el('h3', {}, 'Target'),
    field('JavaScript handler', handler, 'run locally with api.get/api.post/api.log'),
    field('HTTP endpoint', http, 'POSTed the documents as JSON'),
    field('Convertigo sequence', seq, 'called when deployed to Convertigo'),
    field('log only', log),
  ];
}

/** The transaction sheet's fields: its type, the type's properties, its variables
 * (`invalid`: properties whose JSON does not parse; `msg`: the sheet's message line). */
function transactionFields(sheet: Record<string, unknown>, item: Record<string, unknown>, invalid: Set<string>, msg: HTMLElement): HTMLElement[] {
  const catalog = sheet.catalog as Record<string, PropertySpec[]>;
  const props = (item.properties ??= {}) as Record<string, unknown>;
  const vars = (item.variables ??= []) as Variable[];
  const type = select(Object.keys(catalog), String(item.type ?? 'GetView'), { 'data-testid': 'sheet-type' });
  const propBox = el('div', { class: 'sheet-props', 'data-testid': 'sheet-props' });
  const varBox = el('table', { class: 'sheet-vars', 'data-testid': 'sheet-vars' });
  const renderProps = () => propBox.replaceChildren(...propertyRows(catalog[type.value] ?? [], type.value, props, sheet.views as string[], invalid));
  const renderVars = (): void => varBox.replaceChildren(...variableRows(vars, renderVars));
  type.addEventListener('change', () => {
    item.type = type.value;
    renderProps();
  });
  const add = el('button', { type: 'button', 'data-testid': 'var-add' }, 'Add variable');
  add.addEventListener('click', () => {
    let n = 1;
    while (vars.some((v) => v.name === `var${n}`)) n++;
    vars.push({ name: `var${n}`, schema_type: 'xsd:string' });
    renderVars();
    (varBox.querySelector('tr:last-child input') as HTMLInputElement | null)?.focus();
  });
  const dyn = el('button', { type: 'button', 'data-testid': 'var-dynamic', title: "One variable per property this type reads, so callers can override it" }, 'Add variables for dynamic properties');
  dyn.addEventListener('click', () => {
    const added: string[] = [];
    for (const s of catalog[type.value] ?? []) {
      if (vars.some((v) => v.name === s.variable)) continue;
      vars.push({ name: s.variable, schema_type: s.schema_type, description: `overrides ${s.name}` });
      added.push(s.variable);
    }
    renderVars();
    msg.classList.remove('error');
    msg.textContent = added.length ? `Added ${added.length} variable(s): ${added.join(', ')}. Save to keep them.` : 'Every dynamic property already has its variable.';
  });
  renderProps();
  renderVars();
  return [field('type', type), el('h3', {}, 'Properties'), propBox, el('h3', {}, 'Variables'), varBox, el('div', { class: 'row' }, add, dyn)];
}

/** One row per property of a transaction of type `typeName` (`specs`), then the properties it
 * does not read (kept as they are); `invalid` collects properties whose JSON does not parse. */
function propertyRows(specs: PropertySpec[], typeName: string, props: Record<string, unknown>, views: string[], invalid: Set<string>): HTMLElement[] {
  const known = new Set(specs.map((s) => s.name));
  const rows: HTMLElement[] = [];
  for (const s of specs) {
    let input: HTMLInputElement | HTMLSelectElement;
    const cur = props[s.name];
    if (s.kind === 'view') input = select(views, shown(cur), {}, '(none)');
    else if (s.kind === 'choice') input = select(s.choices, shown(cur), {}, '(default)');
    else if (s.kind === 'bool') input = select(['true', 'false'], cur === undefined || cur === null ? '' : String(cur), {}, '(default)');
    else {
      input = el('input', s.kind === 'number' ? { type: 'number' } : { placeholder: s.kind === 'json' ? 'JSON, e.g. "paid" or ["a", 1]' : '' }) as HTMLInputElement;
      input.value = shown(cur);
    }
    input.dataset.prop = s.name;
    const update = () => {
      const v = input.value;
      input.classList.remove('invalid');
      invalid.delete(s.name);
      if (v === '') delete props[s.name];
      else if (s.kind === 'bool') props[s.name] = v === 'true';
      else if (s.kind === 'number') props[s.name] = Number(v);
      else if (s.kind === 'json') {
        try {
          JSON.parse(v);
        } catch {
          input.classList.add('invalid');
          invalid.add(s.name);
        }
        props[s.name] = v;
      } else props[s.name] = v;
    };
    input.addEventListener('input', update);
    input.addEventListener('change', update);
    rows.push(field(s.name, input, `variable ${s.variable} overrides it`));
  }
  for (const [k, v] of Object.entries(props)) {
    if (known.has(k)) continue;
    const input = el('input', {}) as HTMLInputElement;
    input.value = shown(v);
    input.dataset.prop = k;
    input.addEventListener('input', () => (props[k] = input.value === '' ? null : loose(input.value)));
    rows.push(field(k, input, `not read by ${typeName}: kept as is`));
  }
  if (!rows.length) rows.push(el('p', { class: 'hint' }, `${typeName} has no properties: its variables are its input.`));
  return rows;

}

/** The variables table's rows (header first); `rerender` redraws it after a move or removal. */
function variableRows(vars: Variable[], rerender: () => void): HTMLElement[] {
  const head = el('tr', {}, ...['name', 'type', 'default', 'req.', 'multi', 'description', ''].map((h) => el('th', {}, h)));
  const rows = vars.map((v, i) => {
    const name = el('input', { 'aria-label': 'variable name', 'data-testid': 'var-name' }) as HTMLInputElement;
    name.value = v.name;
    name.addEventListener('input', () => (v.name = name.value.trim()));
    const st = select(XSD, v.schema_type ?? 'xsd:string', { 'aria-label': 'schema type' });
    for (const o of st.options) o.textContent = o.textContent!.replace(/^xsd:/, '');
    st.addEventListener('change', () => (v.schema_type = st.value));
    const def = el('input', { 'aria-label': 'default value', placeholder: '(none)' }) as HTMLInputElement;
    def.value = shown(v.default);
    def.addEventListener('input', () => (v.default = loose(def.value)));
    const req = el('input', { type: 'checkbox', 'aria-label': 'required' }) as HTMLInputElement;
    req.checked = Boolean(v.required);
    req.addEventListener('change', () => (v.required = req.checked));
    const multi = el('input', { type: 'checkbox', 'aria-label': 'multi-valued' }) as HTMLInputElement;
    multi.checked = Boolean(v.multi_valued);
    multi.addEventListener('change', () => (v.multi_valued = multi.checked));
    const desc = el('input', { 'aria-label': 'description' }) as HTMLInputElement;
    desc.value = v.description ?? '';
    desc.addEventListener('input', () => (v.description = desc.value));
    const move = (d: number) => () => {
      const j = i + d;
      if (j < 0 || j >= vars.length) return;
      [vars[i], vars[j]] = [vars[j], vars[i]];
      rerender();
    };
    const up = el('button', { type: 'button', title: 'Move up', 'data-testid': 'var-up' }, '↑');
    up.addEventListener('click', move(-1));
    const down = el('button', { type: 'button', title: 'Move down', 'data-testid': 'var-down' }, '↓');
    down.addEventListener('click', move(1));
    const del = el('button', { type: 'button', title: `Remove ${v.name}`, 'data-testid': 'var-remove' }, '✕');
    del.addEventListener('click', () => {
      vars.splice(i, 1);
      rerender();
    });
    return el('tr', { 'data-var': v.name }, ...[name, st, def, req, multi, desc].map((c) => el('td', {}, c)), el('td', { class: 'actions' }, up, down, del));
  });
  return [head, ...rows];
}

/** For an item imported from Convertigo: the sequence steps calling it, and the Convertigo
 * properties export keeps as they are (shown read-only). */
function convertigoPart(sheet: Record<string, unknown>): HTMLElement[] {
  const out: HTMLElement[] = [];
  const usedBy = (sheet.used_by as string[] | undefined) ?? [];
  const kept = (sheet.kept as KeptProperty[] | undefined) ?? [];
  if (usedBy.length) {
    out.push(
      el('h3', {}, 'Used by'),
      el('ul', { class: 'used-by', 'data-testid': 'sheet-used-by' }, ...usedBy.map((u) => el('li', {}, u))),
      el('small', { class: 'hint' }, 'Convertigo sequence steps: a rename rewrites them, a delete breaks them.'),
    );
  }
  if (kept.length) {
    const head = el('tr', {}, ...['of', 'property', 'value'].map((h) => el('th', {}, h)));
    const rows = kept.map((k) => el('tr', { 'data-kept': k.key }, el('td', {}, k.owner), el('td', {}, k.key), el('td', {}, el('input', { value: k.value, readonly: '', 'aria-label': k.key }))));
    out.push(
      el('h3', {}, 'Convertigo properties (read-only)'),
      el('table', { class: 'sheet-vars sheet-kept', 'data-testid': 'sheet-kept' }, head, ...rows),
      el('small', { class: 'hint' }, 'KeptProperty as they are on export; edit them in Convertigo Studio.'),
    );
  }
  return out;
}
