// The studio's entry, kept small: it asks for the project at once, through the one Backend of
// the UI (backend.ts), while the large studio chunk (Monaco, the screens: studio.ts) downloads
// and parses. The page's styles load with it, before anything is shown.

import './style.css';
import { HttpBackend } from './backend';
import { $, backend } from './state';

const first = backend instanceof HttpBackend && !backend.hasToken() ? null : backend.call('project_tree');
first?.catch(() => {}); // reported by the studio once it has loaded

import('./studio').then(
  (studio) => studio.start(first),
  (e) => {
    const s = $('status');
    s.textContent = `the studio did not load (${(e as Error).message}): reload the page`;
    s.classList.add('error');
  },
);
