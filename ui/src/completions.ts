// Editors that know the data: in a connector's JavaScript (map, reduce, filter, validate), typing
// `doc.` (or `newDoc.`, `oldDoc.`) offers the fields found in a sample of that connector's
// documents, with their JSON types, how often they occur and an example value; nested objects
// go on (`doc.customer.`).

import { monaco } from './editor';
import type { DocFields } from './api-types';
import { backend } from './state';

type Fields = DocFields;

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

const DOC_VARS = /\b(doc|newDoc|oldDoc)\.((?:[A-Za-z_$][\w$]*\.)*)([A-Za-z_$][\w$]*)?$/;

monaco.languages.registerCompletionItemProvider('javascript', {
  triggerCharacters: ['.'],
  async provideCompletionItems(model, position) {
    if (!current) return { suggestions: [] };
    const before = model.getValueInRange({ startLineNumber: position.lineNumber, startColumn: 1, endLineNumber: position.lineNumber, endColumn: position.column });
    const m = DOC_VARS.exec(before);
    if (!m) return { suggestions: [] };
    const data = await fields(current);
    if (!data) return { suggestions: [] };
    const parent = m[2].replace(/\.$/, '');
    const typed = m[3] ?? '';
    const range = { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, startColumn: position.column - typed.length, endColumn: position.column };
    const depth = parent ? parent.split('.').length + 1 : 1;
    const suggestions = data.fields
      .filter((f) => f.path.split('.').length === depth && (!parent || f.path.startsWith(`${parent}.`)))
      .map((f) => {
        const name = f.path.split('.').pop()!;
        const object = f.types.includes('object');
        return {
          label: { label: name, detail: ` ${f.types.join(' | ')}`, description: `${f.count}/${data.sampled} docs` },
          kind: object ? monaco.languages.CompletionItemKind.Module : monaco.languages.CompletionItemKind.Field,
          detail: `${f.types.join(' | ')} · in ${f.count} of ${data.sampled} document(s) of ${data.db}`,
          documentation: { value: `\`${m[1]}.${f.path}\`${f.example !== undefined && f.example !== null ? `, e.g. \`${JSON.stringify(f.example)}\`` : ''}\n\nFrom a sample of ${data.sampled} document(s) of **${data.db}**.` },
          insertText: /^[A-Za-z_$][\w$]*$/.test(name) ? name : `['${name.replace(/'/g, "\\'")}']`,
          // Fields found in more documents first.
          sortText: String(100000 - f.count).padStart(6, '0') + name,
          range,
        };
      });
    return { suggestions, incomplete: false };
  },
});
