// The studio's shared state and the few helpers every screen uses: the backend of this window,
// element lookup, the status line, and the one store of what is open. State only one screen
// needs (timers, the shown view, pending conflicts) stays private to that screen's module.

import { connect, type Backend } from './backend';
import { recordError } from './problems';

/** The transport of this window (Tauri IPC or HTTP with the URL's token). */
export const backend: Backend = connect();

/** An element of index.html by id. */
export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** Shows a message in the header's status line (red when `error`). */
export function status(msg: string, error = false) {
  const s = $('status');
  s.textContent = msg;
  s.title = msg; // the header may cut it short
  s.classList.toggle('error', error);
  s.title = msg;
  if (error) recordError(msg);
}

/** What the editor shows: a project file, or a document of a database (`doc` set). */
export interface OpenItem {
  path: string;
  saved: string;
  doc?: { db: string; id: string };
  readOnly?: boolean;
}

/** The store shared by the screens. */
export const state: {
  /** The file or document in the editor (null: nothing open). */
  current: OpenItem | null;
  /** Every file of the open project, for quick open: its path and where it sits in the explorer. */
  projectFiles: { label: string; path: string }[];
  /** The database of the last documents table or document opened (null: none yet). */
  docsDb: string | null;
  /** The databases of the open project's connectors. */
  projectDbs: string[];
} = { current: null, projectFiles: [], docsDb: null, projectDbs: [] };
