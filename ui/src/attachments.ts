// Attachments of the open document, under it in the documents panel: name, content type, size
// and digest of each, Download (a Blob saved through `<a download>`, in the browser and the
// desktop webview alike), Delete (confirmed by name) and "Attach file" (read as base64,
// uploaded on top of the open revision). After an upload or a delete the document is reopened,
// so the editor's `_rev` and `_attachments` are current. An older revision is read-only:
// download only.

import type { Attachment } from './api-types';
import type { Backend } from './backend';
import { el, messageLine } from './ops-kit';
import './attachments.css';

/** The largest attachment the backend takes (`attachments::MAX_BYTES` in crates/fullsync-api). */
export const MAX_BYTES = 64 * 1024 * 1024;

/** An attachment stub of `_attachments`, as `doc_get` answers it. */
export interface AttachmentStub {
  content_type?: string;
  length?: number;
  digest?: string;
  revpos?: number;
}

/** The document shown in the editor. */
export interface ShownDoc {
  db: string;
  id: string;
  rev: string;
  attachments: Record<string, AttachmentStub>;
  /** An older revision: download only. */
  readOnly: boolean;
}

/** What the panel needs from the rest of the studio. */
export interface AttachmentsHost {
  /** Whether the editor may be reloaded (asks before discarding unsaved edits). */
  mayReload(): boolean;
  /** Reopens the document at its current revision. */
  reload(db: string, id: string): Promise<void>;
}

/** `3.2 KiB`, `12.0 MiB`, `17 bytes`. */
export function size(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} byte${n === 1 ? '' : 's'}`;
}

/** A file's bytes as base64 (the browser encodes them natively). */
function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => {
      const url = String(r.result);
      resolve(url.slice(url.indexOf(',') + 1));
    };
    r.onerror = () => reject(new Error(`cannot read ${file.name}: ${r.error?.message ?? 'unknown error'}`));
    r.readAsDataURL(file);
  });
}

function bytesOf(base64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(base64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Fetches attachment `name` of `doc` and saves it: the native Save dialog in the desktop app,
 * a download in the browser; answers what happened. */
async function saveAttachment(backend: Backend, doc: { db: string; id: string; rev: string }, name: string): Promise<string> {
  const a = await backend.call('attachment_get', { ...doc, name });
  return saveBytes(backend, name, a);
}

/** Saves an attachment's bytes (base64): the native Save dialog in the desktop app, a download
 * in the browser. Answers what happened, for the status line. */
export async function saveBytes(backend: Backend, name: string, a: Pick<Attachment, 'content_type' | 'length' | 'data'>): Promise<string> {
  if (backend.saveFile) {
    // The desktop app: the native Save dialog (a webview has no downloads folder).
    const where = await backend.saveFile(name, a.data);
    return where ? `saved ${name} (${size(a.length)}) to ${where}` : `not saved: ${name} (cancelled)`;
  }
  const url = URL.createObjectURL(new Blob([bytesOf(a.data)], { type: a.content_type }));
  const link = el('a', { href: url, download: name, hidden: '' });
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return `downloaded ${name} (${size(a.length)})`;
}

/** One attachment in the list: name, type, size, digest, Download, and Delete unless `remove`
 * is null (an older revision). */
function attachmentItem(name: string, a: AttachmentStub, busy: boolean, download: () => void, remove: (() => void) | null): HTMLLIElement {
  const get = el('button', { 'data-testid': 'attachment-download', title: `Save ${name}` }, 'Download');
  get.disabled = busy;
  get.addEventListener('click', download);
  const actions = el('span', { class: 'att-actions' }, get);
  if (remove) {
    const del = el('button', { 'data-testid': 'attachment-delete', class: 'danger', title: `Delete ${name} (a new revision)` }, 'Delete');
    del.disabled = busy;
    del.addEventListener('click', remove);
    actions.append(del);
  }
  return el(
    'li',
    { 'data-name': name },
    el('div', { class: 'att-head' }, el('span', { class: 'att-name', title: name }, name), actions),
    el('div', { class: 'att-meta' }, `${a.content_type ?? 'application/octet-stream'} · ${size(a.length ?? 0)}`),
    el('div', { class: 'att-digest', title: a.digest ?? '' }, a.digest ?? ''),
  );
}

/** Builds the panel into `box` (hidden until a document is shown). */
export function mountAttachments(backend: Backend, box: HTMLElement, host: AttachmentsHost) {
  const title = el('h2', {}, 'Attachments');
  const count = el('span', { class: 'hint', 'data-testid': 'attachments-count' });
  title.append(' ', count);
  const list = el('ul', { class: 'att-list', 'data-testid': 'attachments-list' });
  const file = el('input', { type: 'file', 'data-testid': 'attachments-file', hidden: '' });
  const attach = el('button', { 'data-testid': 'attachments-add', title: 'Upload a file as an attachment of this document (a new revision)' }, 'Attach file…');
  const note = el('span', { class: 'hint', 'data-testid': 'attachments-note' });
  const msg = messageLine('attachments-msg');
  box.replaceChildren(title, list, el('div', { class: 'row' }, attach, note, file), msg.box);
  let doc: ShownDoc | null = null;
  let busy = false;

  attach.addEventListener('click', () => file.click());
  file.addEventListener('change', () => {
    const f = file.files?.[0];
    file.value = '';
    if (f) void upload(f);
  });

  async function run(what: string, action: () => Promise<string>) {
    busy = true;
    render();
    try {
      msg.say(await action());
    } catch (e) {
      // Errors stay until dismissed; a conflict's message says to reload (click the document).
      msg.say(`${what}: ${(e as Error).message}`, true);
    } finally {
      busy = false;
      render();
    }
  }

  async function upload(f: File) {
    if (!doc || doc.readOnly) return;
    const { db, id, rev } = doc;
    if (f.size > MAX_BYTES) {
      msg.say(`not attached: ${f.name} is ${size(f.size)}; the studio attaches files up to ${size(MAX_BYTES)} (use the CouchDB API, PUT /${db}/${id}/${f.name}, for bigger files)`, true);
      return;
    }
    if (doc.attachments[f.name] && !confirm(`${id} already has an attachment ${f.name}: replace it with ${f.name} (${size(f.size)})?`)) return;
    if (!host.mayReload()) return;
    await run(`not attached: ${f.name}`, async () => {
      msg.say(`uploading ${f.name} (${size(f.size)})...`);
      const data = await readBase64(f);
      const r = await backend.call('attachment_put', { db, id, rev, name: f.name, content_type: f.type || null, data });
      await host.reload(db, id);
      return `attached ${f.name} (${size(f.size)}); ${id} is now at ${r.rev}`;
    });
  }

  async function remove(name: string, a: AttachmentStub) {
    if (!doc || doc.readOnly) return;
    const { db, id, rev } = doc;
    if (!confirm(`Delete the attachment ${name} (${size(a.length ?? 0)}) of ${id}? This saves a new revision without it.`)) return;
    if (!host.mayReload()) return;
    await run(`not deleted: ${name}`, async () => {
      const r = await backend.call('attachment_delete', { db, id, rev, name });
      await host.reload(db, id);
      return `deleted ${name}; ${id} is now at ${r.rev}`;
    });
  }

  async function download(name: string) {
    if (!doc) return;
    const { db, id, rev } = doc;
    await run(`not downloaded: ${name}`, () => saveAttachment(backend, { db, id, rev }, name));
  }

  function render() {
    box.hidden = !doc;
    if (!doc) return;
    const names = Object.keys(doc.attachments).sort();
    count.textContent = names.length ? `${names.length} · ${size(names.reduce((n, k) => n + (doc!.attachments[k].length ?? 0), 0))}` : '';
    list.replaceChildren(
      ...(names.length
        ? names.map((name) => {
            const a = doc!.attachments[name];
            return attachmentItem(name, a, busy, () => void download(name), doc!.readOnly ? null : () => void remove(name, a));
          })
        : [el('li', { class: 'att-empty' }, doc.readOnly ? 'No attachments in this revision.' : 'No attachments.')]),
    );
    attach.hidden = doc.readOnly;
    attach.disabled = busy;
    note.textContent = doc.readOnly ? 'Older revision: download only.' : '';
  }

  return {
    /** Shows the attachments of the document now in the editor (none: hides the panel). */
    show(next: ShownDoc | null) {
      if (!next || !doc || next.db !== doc.db || next.id !== doc.id) msg.say('');
      doc = next;
      render();
    },
  };
}
