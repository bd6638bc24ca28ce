// About: which build this is (the version and the commit it was built from), how this window
// talks to the studio (the desktop app's IPC or the web mode's HTTP) and where the embedded
// engine's CouchDB API answers.

import { TauriBackend, type Backend } from './backend';
import type { StudioInfo } from './api-types';
import { el } from './dom';

/** Opens the About dialog. */
export async function openAbout(backend: Backend) {
  let d = document.getElementById('about') as HTMLDialogElement | null;
  if (!d) {
    d = el('dialog', { id: 'about', 'data-testid': 'about', 'aria-label': 'About FullSync Studio' }) as HTMLDialogElement;
    document.body.append(d);
  }
  const dlg = d;
  const info = await backend
    .call('studio_info')
    .catch((e) => ({ version: `unknown (${(e as Error).message})`, commit: 'unknown' }));
  const http = await backend.httpBase().catch(() => '(unknown)');
  const close = el('button', { 'data-testid': 'about-close' }, 'Close');
  close.addEventListener('click', () => dlg.close());
  const desktop = backend instanceof TauriBackend;
  dlg.replaceChildren(
    el('div', { class: 'open-head' }, el('h2', {}, 'FullSync Studio'), close),
    el('div', { class: 'sheet-field' }, el('span', {}, 'version'), el('code', { 'data-testid': 'about-version' }, info.version)),
    el('div', { class: 'sheet-field' }, el('span', {}, 'commit'), el('code', { 'data-testid': 'about-commit' }, info.commit)),
    el('div', { class: 'sheet-field' }, el('span', {}, 'window'), el('span', { 'data-testid': 'about-transport' }, desktop ? 'desktop app (Tauri IPC)' : 'web mode (HTTP on loopback)')),
    el('div', { class: 'sheet-field' }, el('span', {}, 'CouchDB API'), el('code', { class: 'path' }, http)),
    el('p', { class: 'hint' }, 'The same version and commit as `fullsync --version`. Apache-2.0.'),
  );
  if (!dlg.open) dlg.showModal();
}
