import * as monaco from 'monaco-editor/editor/editor.api';
// The editor features the studio uses (register.all would add ~40 more: code lens, inlay
// hints, sticky scroll...; each costs parse time and memory in the webview).
import 'monaco-editor/features/bracketMatching/register';
import 'monaco-editor/features/clipboard/register';
import 'monaco-editor/features/codeEditor/register';
import 'monaco-editor/features/codicon/register';
import 'monaco-editor/features/comment/register';
import 'monaco-editor/features/contextmenu/register';
import 'monaco-editor/features/cursorUndo/register';
import 'monaco-editor/features/find/register';
import 'monaco-editor/features/folding/register';
import 'monaco-editor/features/format/register';
import 'monaco-editor/features/gotoError/register';
import 'monaco-editor/features/gotoLine/register';
import 'monaco-editor/features/hover/register';
import 'monaco-editor/features/indentation/register';
import 'monaco-editor/features/linesOperations/register';
import 'monaco-editor/features/multicursor/register';
import 'monaco-editor/features/parameterHints/register';
import 'monaco-editor/features/quickCommand/register';
import 'monaco-editor/features/readOnlyMessage/register';
import 'monaco-editor/features/smartSelect/register';
import 'monaco-editor/features/snippet/register';
import 'monaco-editor/features/suggest/register';
import 'monaco-editor/features/inlineCompletions/register'; // brings the suggest widget's controller
import 'monaco-editor/features/tokenization/register';
import 'monaco-editor/features/wordHighlighter/register';
import 'monaco-editor/features/wordOperations/register';
import 'monaco-editor/languages/definitions/javascript/register';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import { effectiveTheme } from './settings';
import { $, state } from './state';

export { monaco };

(self as unknown as { MonacoEnvironment: monaco.Environment }).MonacoEnvironment = {
  getWorker: () => new EditorWorker(),
};

/** The studio's one code editor (files and documents). */
export const editor = monaco.editor.create($('editor'), {
  value: '',
  language: 'javascript',
  theme: effectiveTheme() === 'dark' ? 'vs-dark' : 'vs',
  automaticLayout: true,
  minimap: { enabled: false },
  fontSize: 13,
});
(window as unknown as { studioEditor: monaco.editor.IStandaloneCodeEditor }).studioEditor = editor;

// CouchDB's design-document globals: completions with signatures and docs, and hovers. There is
// no TypeScript checker on these files (QuickJS compiles them instead), so a bare
// `function (doc) {}` never shows a false error.
const COUCH_GLOBALS: Record<string, [string, string]> = {
  emit: ['emit(key, value)', 'Adds a row to the view: `key` is collated the CouchDB way, `value` is any JSON.'],
  log: ['log(message)', 'Writes to the view server log (shown in the studio and `fullsync view`).'],
  sum: ['sum(values)', 'Sum of an array of numbers (reduce helper).'],
  isArray: ['isArray(value)', 'True when `value` is an array.'],
  toJSON: ['toJSON(value)', 'JSON text of `value`.'],
  require: ["require('views/lib/name')", 'Loads a CommonJS module from the design document (`views.lib` in map functions).'],
  getRow: ['getRow()', 'Next row in a list function.'],
  send: ['send(chunk)', 'Sends a chunk of the response in a list function.'],
  start: ['start(response)', 'Starts a list function response (headers, code).'],
  provides: ['provides(type, fn)', 'Registers a handler for a content type in list/show functions.'],
};
monaco.languages.registerCompletionItemProvider('javascript', {
  provideCompletionItems(model, position) {
    const word = model.getWordUntilPosition(position);
    // After a dot: a member (doc.type), not a global (completions.ts offers the fields).
    if (model.getLineContent(position.lineNumber)[word.startColumn - 2] === '.') return { suggestions: [] };
    const range = { startLineNumber: position.lineNumber, endLineNumber: position.lineNumber, startColumn: word.startColumn, endColumn: word.endColumn };
    return {
      suggestions: Object.entries(COUCH_GLOBALS).map(([name, [signature, doc]]) => ({
        label: name,
        kind: monaco.languages.CompletionItemKind.Function,
        detail: signature,
        documentation: { value: doc },
        insertText: `${name}($0)`,
        insertTextRules: monaco.languages.CompletionItemInsertTextRule.InsertAsSnippet,
        range,
      })),
    };
  },
});
monaco.languages.registerHoverProvider('javascript', {
  provideHover(model, position) {
    const w = model.getWordAtPosition(position);
    const g = w && COUCH_GLOBALS[w.word];
    if (!w || !g) return null;
    return {
      range: new monaco.Range(position.lineNumber, w.startColumn, position.lineNumber, w.endColumn),
      contents: [{ value: '`' + g[0] + '`' }, { value: g[1] }],
    };
  },
});


/** Switches Monaco's theme (the settings' theme applier). */
export const editorTheme = (dark: boolean) => monaco.editor.setTheme(dark ? 'vs-dark' : 'vs');

/** A QuickJS compile error as a marker on its line in the editor (none: clears it). */
export function markProblem(p: { line: number; message: string } | null) {
  const model = editor.getModel();
  if (!model) return;
  monaco.editor.setModelMarkers(
    model,
    'quickjs',
    p && p.line <= model.getLineCount()
      ? [{ severity: monaco.MarkerSeverity.Error, message: p.message, startLineNumber: p.line, startColumn: model.getLineFirstNonWhitespaceColumn(p.line) || 1, endLineNumber: p.line, endColumn: model.getLineMaxColumn(p.line) }]
      : [],
  );
}

// ---- The read-only side-by-side compare under the editor (conflicts, external changes): the
// diff editor is loaded the first time one is shown (compare.ts).
let compareSeq = 0;

/** Hides the compare. */
export function closeCompare() {
  compareSeq++;
  $('conflict-diff').hidden = true;
  $('diffbar').hidden = true;
}
$('diff-close').addEventListener('click', closeCompare);

/** Shows the compare (its previous texts are disposed); resolves once it is on screen. */
export async function showCompare(title: string, original: string, modified: string, language: string) {
  const seq = ++compareSeq;
  const box = $('conflict-diff');
  $('diff-title').textContent = title;
  const { showDiff } = await import('./compare');
  // Closed (or another compare asked for) while the diff editor was loading.
  if (seq !== compareSeq) return;
  box.hidden = false;
  $('diffbar').hidden = false;
  showDiff(box, original, modified, language);
}
