// Editors that know the data: in a connector's JavaScript (map, reduce, filter, validate), typing
// `doc.` (or `newDoc.`, `oldDoc.`) offers the fields found in a sample of that connector's
// documents, with their JSON types, how often they occur and an example value; nested objects
// go on (`doc.customer.`). `userCtx.` (validate, filters' `req.userCtx.`) and `req.` (filters)
// offer what CouchDB passes. In a reduce function: `keys`, `values` and `rereduce`, and the
// fields of the values the view's map emits (`values[i].`, or the parameter of a
// `values.forEach(v => ...)`, `for (const v of values)`): the map runs over the same sample
// through the `preview` command, and the emitted values are read like documents.

import { monaco } from './editor';
import type { DocFields } from './api-types';
import { viewOf } from './preview';
import { backend, state } from './state';

type Fields = DocFields;
type Field = Fields['fields'][number];

const SAMPLE = 200;
const cache = new Map<string, { at: number; data: Promise<Fields | null> }>();
let current: string | null = null;

/** Uses the documents of `db` for the completions of the editor (a sample, refreshed every 30 s). */
export function setupDataCompletions(db: string) {
  current = db;
  fields(db);
}

function fields(db: string): Promise<Fields | null> {
  const c = cache.get(db);
  if (c && Date.now() - c.at < 30_000) return c.data;
  const data = backend.call('doc_fields', { db, sample: SAMPLE }).catch(() => null);
  cache.set(db, { at: Date.now(), data });
  return data;
}

/** Adds the fields of a JSON value to `out` (path -> types, count, example), as `doc_fields` does. */
function walk(v: unknown, path: string, out: Map<string, Field>, depth = 0) {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || depth > 4) return;
  for (const [k, x] of Object.entries(v)) {
    const p = path ? `${path}.${k}` : k;
    const type = x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x;
    const f: Field = out.get(p) ?? { path: p, types: [] as string[], count: 0, example: x !== null && typeof x !== 'object' ? x : undefined };
    if (!f.types.includes(type)) f.types.push(type);
    f.count++;
    out.set(p, f);
    walk(x, p, out, depth + 1);
  }
}

const emitted = new Map<string, { at: number; data: Promise<(Fields & { valueTypes: string[] }) | null> }>();

/**
 * The fields of the values the map of the view at `path` (its reduce.js) emits, from the map run
 * over the sample of the connector's documents by `preview` (no reduce).
 */
function emittedFields(path: string): Promise<(Fields & { valueTypes: string[] }) | null> {
  const v = viewOf(path);
  if (!v) return Promise.resolve(null);
  const c = emitted.get(path);
  if (c && Date.now() - c.at < 30_000) return c.data;
  const data = (async () => {
    const map = (await backend.call('file_read', { path: path.replace(/reduce\.js$/, 'map.js') })).text;
    const r = await backend.call('preview', { db: v.db, map, query: { limit: SAMPLE }, ddoc: v.ddoc });
    const out = new Map<string, Field>();
    const valueTypes = new Set<string>();
    for (const row of r.result.rows as { value?: unknown }[]) {
      const x = row.value;
      valueTypes.add(x === null || x === undefined ? 'null' : Array.isArray(x) ? 'array' : typeof x);
      walk(x, '', out);
    }
    return { db: v.db, sampled: r.result.rows.length, fields: [...out.values()], valueTypes: [...valueTypes] };
  })().catch(() => null);
  emitted.set(path, { at: Date.now(), data });
  return data;
}

const DOC_VARS = /\b(doc|newDoc|oldDoc)\.((?:[A-Za-z_$][\w$]*\.)*)([A-Za-z_$][\w$]*)?$/;
/** `values[i].a.` (an element of a reduce's values) and what is typed after. */
const VALUES_ELEMENT = /\bvalues\s*\[[^\]]*\]\.((?:[A-Za-z_$][\w$]*\.)*)([A-Za-z_$][\w$]*)?$/;
/** `name.a.` and what is typed after, for a name bound to an element of `values`. */
const MEMBER = /\b([A-Za-z_$][\w$]*)\.((?:[A-Za-z_$][\w$]*\.)*)([A-Za-z_$][\w$]*)?$/;

/** The names a reduce function binds to an element of `values` (callbacks and for-of loops). */
function valueNames(code: string): Set<string> {
  const names = new Set<string>();
  const cb = /\bvalues\s*\.\s*(?:forEach|map|filter|some|every|find|reduce)\s*\(\s*(?:function\s*\w*\s*)?\(?\s*([A-Za-z_$][\w$]*)\s*(,\s*([A-Za-z_$][\w$]*))?/g;
  for (const m of code.matchAll(cb)) {
    // In values.reduce((acc, v) => ...) the element is the second parameter.
    if (/\.\s*reduce\s*\(/.test(m[0])) {
      if (m[3]) names.add(m[3]);
    } else names.add(m[1]);
  }
  for (const m of code.matchAll(/\bfor\s*\(\s*(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s+of\s+values\b/g)) names.add(m[1]);
  return names;
}

/** What CouchDB passes as `userCtx` and `req` (filters), for their completions. */
const FIXED: Record<string, [string, string, string][]> = {
  userCtx: [['name', 'string | null', 'The user\'s name (null: anonymous).'], ['roles', 'array', 'The user\'s roles (`_admin` for a server admin).'], ['db', 'string', 'The database written to.']],
  req: [['query', 'object', 'The query parameters of the `_changes` request.'], ['userCtx', 'object', 'The user asking: `name`, `roles`, `db`.'], ['headers', 'object', 'The request headers.'], ['method', 'string', 'The request method.'], ['body', 'string', 'The request body.'], ['info', 'object', 'The database info.'], ['id', 'string | null', 'The document id of the request, if any.'], ['peer', 'string', 'The client address.'], ['secObj', 'object', 'The database security object.']],
};

/** The keyword completions of a reduce function's parameters. */
const REDUCE_PARAMS: [string, string][] = [
  ['keys', 'The `[key, docid]` pairs of the rows being reduced; `null` when `rereduce` is true.'],
  ['values', 'The values the map emitted for those rows, or the outputs of earlier reduce calls when `rereduce` is true.'],
  ['rereduce', '`true` when `values` are outputs of this reduce function (a second pass), `false` on map rows.'],
];

monaco.languages.registerCompletionItemProvider('javascript', {
  triggerCharacters: ['.'],
  async provideCompletionItems(model, position) {
    const before = model.getValueInRange({ startLineNumber: position.lineNumber, startColumn: 1, endLineNumber: position.lineNumber, endColumn: position.column });
    const path = state.current && !state.current.doc ? state.current.path : '';
    const inReduce = viewOf(path)?.part === 'reduce';
    // userCtx. / req. (also req.userCtx.): what CouchDB passes, fixed.
    const fixed = /\b(userCtx|req)\.([A-Za-z_$][\w$]*)?$/.exec(before);
    if (fixed) {
      const typed = fixed[2] ?? '';
      const range = { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, startColumn: position.column - typed.length, endColumn: position.column };
      return {
        suggestions: FIXED[fixed[1]].map(([name, type, doc]) => ({
          label: { label: name, detail: ` ${type}` },
          kind: monaco.languages.CompletionItemKind.Field,
          detail: `${fixed[1]}.${name}: ${type}`,
          documentation: { value: doc },
          insertText: name,
          range,
        })),
      };
    }
    if (inReduce) {
      const word = model.getWordUntilPosition(position);
      // A bare word: the reduce's parameters.
      if (model.getLineContent(position.lineNumber)[word.startColumn - 2] !== '.') {
        const range = { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, startColumn: word.startColumn, endColumn: word.endColumn };
        return {
          suggestions: REDUCE_PARAMS.map(([name, doc]) => ({ label: name, kind: monaco.languages.CompletionItemKind.Variable, detail: 'reduce(keys, values, rereduce)', documentation: { value: doc }, insertText: name, range })),
        };
      }
      // An element of values: the fields of what the map emits.
      let parent: string | null = null;
      let typed = '';
      const e = VALUES_ELEMENT.exec(before);
      if (e) [parent, typed] = [e[1], e[2] ?? ''];
      else {
        const m = MEMBER.exec(before);
        if (m && valueNames(model.getValue()).has(m[1])) [parent, typed] = [m[2], m[3] ?? ''];
      }
      if (parent === null) return { suggestions: [] };
      const data = await emittedFields(path);
      if (!data) return { suggestions: [] };
      return { suggestions: fieldSuggestions(data, parent, typed, position, 'value', `value(s) the map emits over a sample of ${data.db}`), incomplete: false };
    }
    if (!current) return { suggestions: [] };
    const m = DOC_VARS.exec(before);
    if (!m) return { suggestions: [] };
    const data = await fields(current);
    if (!data) return { suggestions: [] };
    return { suggestions: fieldSuggestions(data, m[2], m[3] ?? '', position, m[1], `document(s) of ${data.db}`), incomplete: false };
  },
});

/** Completions for the fields under `parentPath` (`a.b.` or empty) of `data`. */
function fieldSuggestions(data: Fields, parentPath: string, typed: string, position: monaco.Position, root: string, what: string): monaco.languages.CompletionItem[] {
  const parent = parentPath.replace(/\.$/, '');
  const range = { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, startColumn: position.column - typed.length, endColumn: position.column };
  const depth = parent ? parent.split('.').length + 1 : 1;
  const unit = root === 'value' ? 'rows' : 'docs';
  return data.fields
    .filter((f) => f.path.split('.').length === depth && (!parent || f.path.startsWith(`${parent}.`)))
    .map((f) => {
      const name = f.path.split('.').pop()!;
      const object = f.types.includes('object');
      return {
        label: { label: name, detail: ` ${f.types.join(' | ')}`, description: `${f.count}/${data.sampled} ${unit}` },
        kind: object ? monaco.languages.CompletionItemKind.Module : monaco.languages.CompletionItemKind.Field,
        detail: `${f.types.join(' | ')} · in ${f.count} of ${data.sampled} ${what}`,
        documentation: { value: `\`${root}.${f.path}\`${f.example !== undefined && f.example !== null ? `, e.g. \`${JSON.stringify(f.example)}\`` : ''}\n\nFrom a sample of ${data.sampled} ${what}.` },
        insertText: /^[A-Za-z_$][\w$]*$/.test(name) ? name : `['${name.replace(/'/g, "\\'")}']`,
        // Fields found in more documents first.
        sortText: String(100000 - f.count).padStart(6, '0') + name,
        range,
      };
    });
}
