// The Git screen: changed files with their diffs, commit (all or the checked files), discard a
// file's changes (confirmed), and the latest commits. It runs in a modal dialog over the studio.

import type { GitAnswer, GitCommit, GitDiff, GitStatus } from './api-types';
import type { Backend } from './backend';
import { el } from './dom';

/**
 * The `git` command answers a shape per operation (`GitAnswer`): the one `op` gives, checked.
 * `key` is a member only that shape has.
 */
function shape<T extends GitAnswer>(r: GitAnswer, key: keyof T & string): T {
  if (key in r) return r as T;
  throw new Error(`unexpected answer from git (no ${key}): ${JSON.stringify(r).slice(0, 200)}`);
}

/** Opens the Git screen; `onFilesChanged` runs after a discard (files on disk changed). */
export async function openGit(backend: Backend, onFilesChanged: () => void) {
  let dlg = document.getElementById('git') as HTMLDialogElement | null;
  if (!dlg) {
    dlg = el('dialog', { id: 'git', 'data-testid': 'git', 'aria-label': 'Git' }) as HTMLDialogElement;
    document.body.append(dlg);
  }
  const d = dlg;
  const msg = el('div', { class: 'git-msg', 'data-testid': 'git-msg' });
  const say = (text: string, error = false) => {
    msg.textContent = text;
    msg.classList.toggle('error', error);
  };

  async function render(selected?: string) {
    let st: GitStatus;
    try {
      st = shape<GitStatus>(await backend.call('git', { op: 'status' }), 'repo');
    } catch (e) {
      say((e as Error).message, true);
      return;
    }
    const close = el('button', { 'data-testid': 'git-close' }, 'Close');
    close.addEventListener('click', () => d.close());
    const head = el('div', { class: 'git-head' }, el('h2', {}, 'Git'), el('span', { class: 'hint' }, st.branch ? `on ${st.branch}` : ''), close);
    if (!st.repo) {
      const init = el('button', { class: 'primary', 'data-testid': 'git-init' }, 'Initialize a repository');
      init.addEventListener('click', async () => {
        try {
          await backend.call('git', { op: 'init' });
          await render();
        } catch (e) {
          say((e as Error).message, true);
        }
      });
      d.replaceChildren(head, el('p', {}, 'This project is not a git repository yet. Initializing adds a .gitignore that keeps local data and secrets out of git.'), init, msg);
      return;
    }
    const diff = el('pre', { class: 'git-diff', 'data-testid': 'git-diff' }, 'Select a file to see its changes.');
    const showDiff = async (path: string) => {
      d.querySelectorAll('.git-files li').forEach((li) => li.classList.toggle('active', (li as HTMLElement).dataset.path === path));
      try {
        const r = shape<GitDiff>(await backend.call('git', { op: 'diff', path }), 'diff');
        diff.replaceChildren(...diffLines(r.diff));
        if (!r.diff) diff.textContent = '(no textual change)';
      } catch (e) {
        diff.textContent = (e as Error).message;
      }
    };
    const files = el('ul', { class: 'git-files', 'data-testid': 'git-files' });
    for (const f of st.files) {
      const box = el('input', { type: 'checkbox', 'aria-label': `commit ${f.path}` }) as HTMLInputElement;
      box.checked = true;
      box.dataset.path = f.path;
      const discard = el('button', { title: `Discard the changes to ${f.path}`, 'data-testid': 'git-discard' }, 'Discard');
      discard.addEventListener('click', async (ev) => {
        ev.stopPropagation();
        if (!confirm(`Discard your uncommitted changes to ${f.path}? This cannot be undone.`)) return;
        try {
          await backend.call('git', { op: 'discard', path: f.path });
          onFilesChanged();
          await render();
          say(`Discarded the changes to ${f.path}.`);
        } catch (e) {
          say((e as Error).message, true);
        }
      });
      const li = el('li', { 'data-path': f.path }, box, el('span', { class: `badge ${f.status}` }, f.status), el('span', { class: 'path' }, f.path), discard);
      li.addEventListener('click', (ev) => {
        if (ev.target !== box) void showDiff(f.path);
      });
      files.append(li);
    }
    if (!st.files.length) files.append(el('li', { class: 'hint' }, 'No changes since the last commit.'));
    const message = el('textarea', { 'data-testid': 'git-message', placeholder: 'Commit message', rows: '3' }) as HTMLTextAreaElement;
    const author = el('input', { 'data-testid': 'git-author', placeholder: "author (default: git's user.name)" }) as HTMLInputElement;
    const email = el('input', { 'data-testid': 'git-email', placeholder: "e-mail (default: git's user.email)" }) as HTMLInputElement;
    author.value = localStorage.getItem('fullsync.git.author') ?? '';
    email.value = localStorage.getItem('fullsync.git.email') ?? '';
    const commit = el('button', { class: 'primary', 'data-testid': 'git-commit' }, 'Commit checked files') as HTMLButtonElement;
    commit.disabled = !st.files.length;
    commit.addEventListener('click', async () => {
      const paths = [...files.querySelectorAll<HTMLInputElement>('input[type=checkbox]:checked')].map((b) => b.dataset.path!);
      if (!paths.length) return say('Check at least one file to commit.', true);
      localStorage.setItem('fullsync.git.author', author.value);
      localStorage.setItem('fullsync.git.email', email.value);
      try {
        const r = shape<GitCommit>(await backend.call('git', { op: 'commit', message: message.value, paths, author: author.value || null, email: email.value || null }), 'id');
        await render();
        say(`Committed ${r.files} file(s) as ${r.id.slice(0, 8)}.`);
      } catch (e) {
        say((e as Error).message, true);
      }
    });
    const log = el('ul', { class: 'git-log', 'data-testid': 'git-log' }, ...logItems(st.log));
    const left = el('div', { class: 'git-left' }, el('h3', {}, `Changes (${st.files.length})`), files, message, el('div', { class: 'row' }, author, email), commit, msg, el('h3', {}, 'History'), log);
    d.replaceChildren(head, el('div', { class: 'git-body' }, left, diff));
    const first = selected ?? st.files[0]?.path;
    if (first) void showDiff(first);
  }

  if (!d.open) d.showModal();
  await render();
}

/** A unified diff, one coloured span per line (added, deleted, hunk header). */
function diffLines(diff: string): HTMLElement[] {
  return diff.split('\n').map((line) => {
    const cls = line.startsWith('+') && !line.startsWith('+++') ? 'add' : line.startsWith('-') && !line.startsWith('---') ? 'del' : line.startsWith('@@') ? 'hunk' : '';
    return el('span', cls ? { class: cls } : {}, line + '\n');
  });
}

/** The history's entries, newest first (a hint when there is none). */
function logItems(log: GitStatus['log']): HTMLElement[] {
  if (!log.length) return [el('li', { class: 'hint' }, 'No commits yet.')];
  return log.map((c) => el('li', {}, el('code', {}, c.id.slice(0, 8)), ` ${c.summary} `, el('span', { class: 'hint' }, `${c.author}, ${new Date(c.time * 1000).toLocaleString()}`)));
}
