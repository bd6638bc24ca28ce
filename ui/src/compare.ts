// The read-only side-by-side compare (conflicts, external changes), loaded the first time a
// compare is shown: the diff editor's contributions (its commands, the accessible diff viewer,
// the unchanged-regions folding) are not part of the studio's first chunk.

import 'monaco-editor/features/diffEditor/register';
import { monaco } from './editor';

let diffEditor: monaco.editor.IStandaloneDiffEditor | null = null;

/** Shows `original` | `modified` in `box` (the previous texts are disposed). */
export function showDiff(box: HTMLElement, original: string, modified: string, language: string) {
  diffEditor ??= monaco.editor.createDiffEditor(box, { automaticLayout: true, readOnly: true, renderSideBySide: true, useInlineViewWhenSpaceIsLimited: false, renderIndicators: false, renderMarginRevertIcon: false, minimap: { enabled: false } });
  const old = diffEditor.getModel();
  diffEditor.setModel({ original: monaco.editor.createModel(original, language), modified: monaco.editor.createModel(modified, language) });
  old?.original.dispose();
  old?.modified.dispose();
}
