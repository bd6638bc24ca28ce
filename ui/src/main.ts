// The studio's entry, kept small: it asks for the project at once, through the one Backend of
// the UI (backend.ts), shows the layout and the explorer (shell.ts, no Monaco) as soon as the
// tree arrives, while the large studio chunk (Monaco, the screens: studio.ts) downloads and
// parses. The page's styles load with it, before anything is shown.

import './style.css';
import { HttpBackend } from './backend';
import { $, backend } from './state';

const first = backend instanceof HttpBackend && !backend.hasToken() ? null : backend.call('project_tree');
first?.catch(() => {}); // reported by the studio once it has loaded

// The layout and the explorer first (a small chunk), then the studio (Monaco, the screens).
const shell = import('./shell').then((s) => {
  s.mountShell();
  first?.then((p) => s.showProject(p), () => {});
});
import('./studio').then(
  (studio) => shell.then(() => studio.start(first)),
  (e) => {
    const s = $('status');
    s.textContent = `the studio did not load (${(e as Error).message}): reload the page`;
    s.classList.add('error');
  },
);
