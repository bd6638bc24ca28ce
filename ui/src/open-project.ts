// The Open dialog: recent projects, a folder browser (every transport; the desktop app also has
// the native folder dialog), and importing a Convertigo project into a new folder.

import type { Backend } from './backend';
import type { DirListing, ProjectTree } from './api-types';
import { el } from './dom';


/**
 * Opens the dialog. `opened` receives the project the backend answers (`project_open` or
 * `project_import_c8o`); `canLeave` asks before closing an editor with unsaved edits.
 */
export async function openProjectDialog(backend: Backend, opened: (project: ProjectTree) => void, canLeave: () => boolean) {
  let d = document.getElementById('open-project') as HTMLDialogElement | null;
  if (!d) {
    d = el('dialog', { id: 'open-project', 'data-testid': 'open-project', 'aria-label': 'Open a project' }) as HTMLDialogElement;
    document.body.append(d);
  }
  const dlg = d;
  // Nothing from a previous opening stays clickable while this one loads.
  dlg.replaceChildren(el('p', { class: 'hint' }, 'Loading…'));
  if (!dlg.open) dlg.showModal();
  const msg = el('div', { class: 'open-msg', 'data-testid': 'open-msg' });
  const say = (t: string, error = false) => {
    msg.textContent = t;
    msg.classList.toggle('error', error);
  };
  const open = async (path: string) => {
    if (!canLeave()) return;
    say(`opening ${path}...`);
    try {
      opened(await backend.call('project_open', { path, remember: true }));
      dlg.close();
    } catch (e) {
      say((e as Error).message, true);
    }
  };

  const recentList = await recentProjects(backend, (path) => void open(path));
  const importInto = async (source: string, dest: string) => {
    if (!canLeave()) return;
    say(`importing ${source}...`);
    try {
      opened(await backend.call('project_import_c8o', { source, dest }));
      dlg.close();
    } catch (e) {
      say((e as Error).message, true);
    }
  };

  const pathInput = el('input', { 'data-testid': 'open-path', placeholder: '/path/to/folder', spellcheck: 'false' }) as HTMLInputElement;
  const listing = el('ul', { class: 'open-dirs', 'data-testid': 'open-dirs' });
  const actions = el('div', { class: 'row' });
  let browsing = 0;
  const browse = async (path?: string, auto = false) => {
    // The latest request wins: an earlier, slower listing must not replace it.
    const mine = ++browsing;
    let l: DirListing;
    try {
      l = await backend.call('dir_list', { path: path ?? null });
    } catch (e) {
      if (mine === browsing) say((e as Error).message, true);
      return;
    }
    if (mine !== browsing) return;
    // The first listing is only a suggestion: it never replaces a path the user typed meanwhile.
    if (auto && (pathInput.value !== '' || document.activeElement === pathInput)) return;
    say('');
    pathInput.value = l.path;
    listing.replaceChildren(...listingRows(l, (path) => void browse(path), (path) => void open(path)));
    actions.replaceChildren(...folderActions(l, (path) => void open(path), (source, dest) => void importInto(source, dest)));
  };
  pathInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') void browse(pathInput.value);
  });
  const go = el('button', { 'data-testid': 'open-go' }, 'Go');
  go.addEventListener('click', () => void browse(pathInput.value));
  const pathRow = el('div', { class: 'row' }, pathInput, go);
  if (backend.pickFolder) {
    const native = el('button', { 'data-testid': 'open-native' }, 'Browse…');
    native.addEventListener('click', async () => {
      try {
        const p = await backend.pickFolder!('Open a FullSync project');
        if (p) await browse(p);
      } catch (e) {
        say((e as Error).message, true);
      }
    });
    pathRow.append(native);
  }
  const close = el('button', { 'data-testid': 'open-close' }, 'Close');
  close.addEventListener('click', () => dlg.close());
  dlg.replaceChildren(
    el('div', { class: 'open-head' }, el('h2', {}, 'Open a project'), close),
    el('h3', {}, 'Recent'),
    recentList,
    el('h3', {}, 'Folder'),
    pathRow,
    listing,
    actions,
    msg,
  );
  if (!dlg.open) dlg.showModal();
  const start = ++browsing;
  const info = await backend.call('studio_info').catch(() => ({ project: null }));
  // Next to the open project, unless the user already went somewhere else.
  if (start === browsing) await browse(info.project ? info.project.replace(/\/[^/]+\/?$/, '') || '/' : undefined, true);
}

/** The recent projects, newest first; those that still exist open with `open`. */
async function recentProjects(backend: Backend, open: (path: string) => void): Promise<HTMLUListElement> {
  const list = el('ul', { class: 'open-recent', 'data-testid': 'open-recent' });
  try {
    const r = await backend.call('projects_recent');
    for (const p of r.projects) {
      const li = el('li', { class: p.exists ? 'link' : 'missing', title: p.path }, el('strong', {}, p.name ?? '(missing)'), ' ', el('span', { class: 'hint' }, p.path));
      if (p.exists) li.addEventListener('click', () => open(p.path));
      list.append(li);
    }
    if (!r.projects.length) list.append(el('li', { class: 'hint' }, 'No recent projects yet.'));
  } catch (e) {
    list.append(el('li', { class: 'error' }, (e as Error).message));
  }
  return list;
}

/** What the listed folder offers: open it (a FullSync project), import it into a new folder (a
 * Convertigo project), or a hint. */
function folderActions(l: DirListing, open: (path: string) => void, importInto: (source: string, dest: string) => void): (HTMLElement | string)[] {
  if (l.project) {
    const b = el('button', { class: 'primary', 'data-testid': 'open-this' }, 'Open this project');
    b.addEventListener('click', () => open(l.path));
    return [b];
  }
  if (l.c8o) {
    const dest = el('input', { 'data-testid': 'import-dest', spellcheck: 'false' }) as HTMLInputElement;
    dest.value = `${l.path.replace(/\/+$/, '')}-fullsync`;
    const b = el('button', { class: 'primary', 'data-testid': 'import-this' }, 'Import into');
    b.addEventListener('click', () => importInto(l.path, dest.value.trim()));
    return [el('span', { class: 'hint' }, 'A Convertigo project: '), b, dest];
  }
  return [el('span', { class: 'hint' }, 'Choose a folder with a fullsync.toml (or a Convertigo project to import).')];
}

/** The folder's sub-folders (projects marked; a click browses, a double click opens a
 * project), after `..` when it has a parent. */
function listingRows(l: DirListing, browse: (path: string) => void, open: (path: string) => void): HTMLElement[] {
  const rows: HTMLElement[] = [];
  if (l.parent) {
    const up = el('li', { class: 'link' }, '⬑ ..');
    up.addEventListener('click', () => browse(l.parent!));
    rows.push(up);
  }
  for (const e of l.entries) {
    const badge = e.project ? el('span', { class: 'badge project' }, 'FullSync project') : e.c8o ? el('span', { class: 'badge c8o' }, 'Convertigo project') : '';
    const li = el('li', { class: 'link dir', 'data-name': e.name }, `${e.name} `, badge);
    li.addEventListener('click', () => browse(e.path));
    li.addEventListener('dblclick', () => {
      if (e.project) open(e.path);
    });
    rows.push(li);
  }
  if (!l.entries.length) rows.push(el('li', { class: 'hint' }, 'No sub-folders.'));
  return rows;
}
