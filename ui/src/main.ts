// The studio's entry, kept small: it asks for the project at once (boot.ts), through the one
// Backend of the UI (backend.ts), lays out the panes and shows the explorer (shell.ts, no Monaco,
// in this chunk) as soon as the tree arrives, and only then loads the large studio chunk (Monaco,
// the screens: studio.ts), whose evaluation would otherwise compete with the explorer's first
// paint. The page's styles load with it, before anything is shown.

import { first } from './boot'; // first: the project is asked for before the rest evaluates
import './style.css';
import { mountShell, showProject } from './shell';
import { $ } from './state';

mountShell();
const shown = first ? first.then((p) => showProject(p), () => {}) : Promise.resolve();
// After the explorer's first frame (or 100 ms, in a window that does not paint yet): the studio.
const painted = () => new Promise<void>((r) => {
  requestAnimationFrame(() => setTimeout(r, 0));
  setTimeout(r, 100);
});
shown.then(painted).then(() => import('./studio')).then(
  (studio) => {
    performance.mark('studio-loaded'); // for bench/node/studio-start.mjs
    return studio.start(first);
  },
  (e) => {
    const s = $('status');
    s.textContent = `the studio did not load (${(e as Error).message}): reload the page`;
    s.classList.add('error');
  },
);
