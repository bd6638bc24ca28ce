// The status bar's sync state: whether the engine, the listeners and the explorer run the
// project's files ("synced"), are applying a change ("syncing"), or could not ("error", with
// what to fix). Every change to the project, from the studio or from another program, moves
// the backend's sync generation; a new generation refreshes the explorer (new files appear)
// and the open file.

import type { SyncStatus } from './api-types';
import type { Backend } from './backend';

/** The answer of `sync_status` (generated). */
export type { SyncStatus } from './api-types';

/**
 * Polls `sync_status` every second while the page is visible, shows it in `box`, and calls
 * `changed` with the status whenever the generation moves. When `changed` answers `false`
 * (the user is busy: typing a name in place, a menu open), the change is offered again at the
 * next poll instead of being dropped.
 */
export function watchSync(backend: Backend, box: HTMLElement, changed: (s: SyncStatus) => boolean | void) {
  let seen = -1;
  const show = (s: SyncStatus) => {
    box.dataset.state = s.state;
    box.classList.toggle('error', s.state === 'error');
    const what = s.state === 'syncing' ? 'syncing…' : s.state === 'idle' ? '' : s.state === 'error' ? `not synced: ${s.message}` : 'synced';
    box.textContent = what;
    const from = s.source === 'disk' && s.paths.length ? `\nlast change on disk: ${s.paths.join(', ')}` : '';
    const wrote = s.updated.length ? `\ndesign documents written: ${s.updated.join(', ')}` : '';
    box.title = `${s.message}${from}${wrote}`;
  };
  const poll = async () => {
    if (document.visibilityState === 'visible') {
      try {
        const s = await backend.call('sync_status');
        show(s);
        const taken = seen >= 0 && s.generation !== seen ? changed(s) !== false : true;
        if (taken) seen = s.generation;
      } catch (e) {
        box.dataset.state = 'error';
        box.classList.add('error');
        box.textContent = `studio backend unreachable: ${(e as Error).message}`;
      }
    }
    window.setTimeout(() => void poll(), 1000);
  };
  void poll();
}
