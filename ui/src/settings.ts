// Settings: the theme (dark, light, or the system's), where the studio keeps its data (the
// engine's data folder, the config folder with server profiles and recent projects), and the
// server profiles (no secrets: passwords live in the OS keyring or in
// FULLSYNC_SERVER_<NAME>_PASSWORD; servers are added in the Deploy screen).

import type { Backend } from './backend';
import type { StudioInfo } from './api-types';
import { el } from './dom';

export type Theme = 'dark' | 'light' | 'system';
const KEY = 'fullsync.theme';

/** The saved theme choice. */
export function savedTheme(): Theme {
  const t = localStorage.getItem(KEY);
  return t === 'light' || t === 'dark' ? t : 'system';
}

/** The theme to draw with: the choice, or the system's for `system`. */
export function effectiveTheme(t: Theme = savedTheme()): 'dark' | 'light' {
  if (t !== 'system') return t;
  return window.matchMedia?.('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

/** Applies `t` to the page; `editorTheme` switches Monaco. */
export function applyTheme(t: Theme, editorTheme: (dark: boolean) => void) {
  const eff = effectiveTheme(t);
  document.documentElement.dataset.theme = eff;
  editorTheme(eff === 'dark');
}

/** Opens the Settings dialog. */
export async function openSettings(backend: Backend, editorTheme: (dark: boolean) => void) {
  let d = document.getElementById('settings') as HTMLDialogElement | null;
  if (!d) {
    d = el('dialog', { id: 'settings', 'data-testid': 'settings', 'aria-label': 'Settings' }) as HTMLDialogElement;
    document.body.append(d);
  }
  const dlg = d;
  const theme = el('select', { 'data-testid': 'settings-theme' }, el('option', { value: 'system' }, 'as the system'), el('option', { value: 'dark' }, 'dark'), el('option', { value: 'light' }, 'light')) as HTMLSelectElement;
  theme.value = savedTheme();
  theme.addEventListener('change', () => {
    localStorage.setItem(KEY, theme.value);
    applyTheme(theme.value as Theme, editorTheme);
  });
  const info = await backend.call('studio_info').catch((e) => ({ error: (e as Error).message }) as never);
  const list = await backend
    .call('servers_list')
    .then((r) => r.servers, () => []);
  const serverRows = list.length
    ? list.map((s) => el('li', {}, el('strong', {}, s.name), ` ${s.url}`, s.user ? el('span', { class: 'hint' }, ` as ${s.user}`) : ''))
    : [el('li', { class: 'hint' }, 'No server profiles yet: add one in the Deploy screen.')];
  const close = el('button', { 'data-testid': 'settings-close' }, 'Close');
  close.addEventListener('click', () => dlg.close());
  const copyable = (v: string | null | undefined) => el('code', { class: 'path' }, v ?? '(in memory)');
  dlg.replaceChildren(
    el('div', { class: 'open-head' }, el('h2', {}, 'Settings'), close),
    el('h3', {}, 'Appearance'),
    el('label', { class: 'sheet-field' }, el('span', {}, 'theme'), theme),
    el('h3', {}, 'Where things are'),
    el('div', { class: 'sheet-field' }, el('span', {}, 'data folder'), copyable(info.data_dir)),
    el('p', { class: 'hint' }, 'The embedded engine\'s databases. Choose another one by starting the studio with --data DIR.'),
    el('div', { class: 'sheet-field' }, el('span', {}, 'open project'), copyable(info.project)),
    el('div', { class: 'sheet-field' }, el('span', {}, 'config folder'), copyable(info.config_dir)),
    el('p', { class: 'hint' }, 'Server profiles and recent projects. No secret is stored there nor in projects.'),
    el('h3', {}, 'Servers'),
    el('ul', { class: 'settings-servers', 'data-testid': 'settings-servers' }, ...serverRows),
    el('p', { class: 'hint' }, 'Passwords are kept in the OS keyring (or read from FULLSYNC_SERVER_<NAME>_PASSWORD); add, change or remove servers in the Deploy screen.'),
    el('p', { class: 'hint' }, `FullSync Studio ${info.version ?? ''}`),
  );
  if (!dlg.open) dlg.showModal();
}
