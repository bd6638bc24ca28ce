// The operations screens (Listeners, Replication, Run, Mango, Tests, Deploy): buttons in the
// header's screen bar. A screen with a `bottom` tab lives in the bottom panel (polled while it is
// visible), so the editor stays usable next to it: Run and Mango keep their form and their results
// side by side there (`split`). The others open a modal screen over the studio that polls its
// backend commands while it is open.

import type { Backend } from './backend';
import { listenersScreen } from './listeners';
import { replicationScreen } from './replication';
import { deployScreen } from './deploy';
import { testsScreen } from './tests-panel';
import { runScreen } from './run-panel';
import { mangoScreen } from './mango-panel';
import { el, type OpsHost, type Screen } from './ops-kit';
import { paneSize, registerBottomTab, setPaneSize, showBottomTab, togglePane } from './layout';
import './ops.css';

export type { OpsHost } from './ops-kit';

const SCREENS: { id: string; label: string; title: string; every: number; screen: Screen; bottom?: { id: string; label: string; split?: boolean } }[] = [
  { id: 'listeners', label: 'Listeners', title: "The project's listeners, run on every change of the local databases", every: 1000, screen: listenersScreen, bottom: { id: 'activity', label: 'Activity' } },
  { id: 'replication', label: 'Replication', title: 'Push, pull or sync a database with a server; see what a user receives', every: 700, screen: replicationScreen },
  { id: 'run', label: 'Run', title: "Run a transaction of the project on the local database: fill in its variables, run as a user, read the response", every: 60_000, screen: runScreen, bottom: { id: 'run', label: 'Run', split: true } },
  { id: 'mango', label: 'Mango', title: 'Mango queries on a local database: selector, fields, sort, limit; documents and _explain', every: 60_000, screen: mangoScreen, bottom: { id: 'mango', label: 'Mango', split: true } },
  { id: 'tests', label: 'Tests', title: "Run the project's view tests; see what failed and jump to the view", every: 60_000, screen: testsScreen, bottom: { id: 'tests', label: 'Tests' } },
  { id: 'deploy', label: 'Deploy', title: "Servers, the deploy plan and deploying the project's design documents", every: 700, screen: deployScreen },
];

async function open(backend: Backend, host: OpsHost, s: (typeof SCREENS)[number]) {
  let dlg = document.getElementById(`ops-${s.id}`) as HTMLDialogElement | null;
  if (!dlg) {
    dlg = el('dialog', { id: `ops-${s.id}`, class: 'ops-screen', 'data-testid': `${s.id}-screen`, 'aria-label': s.label });
    document.body.append(dlg);
  }
  const d = dlg;
  const close = el('button', { 'data-testid': `${s.id}-close` }, 'Close');
  const head = el('div', { class: 'ops-head' }, el('h2', {}, s.label), el('span', { class: 'hint' }, s.title), close);
  const body = el('div', { class: 'ops-body' });
  d.replaceChildren(head, body);
  let timer: number | undefined;
  let stopped = false;
  const stop = () => {
    stopped = true;
    window.clearTimeout(timer);
    if (d.open) d.close();
  };
  close.addEventListener('click', stop);
  d.addEventListener('close', () => {
    stopped = true;
    window.clearTimeout(timer);
  }, { once: true });
  const refresh = s.screen(backend, body, { ...host, close: stop });
  const tick = async () => {
    if (stopped) return;
    await refresh().catch(() => undefined);
    if (!stopped) timer = window.setTimeout(tick, s.every);
  };
  if (!d.open) d.showModal();
  await tick();
}

/** A screen in a tab of the bottom panel: built when first shown, polled while visible. */
function inBottom(backend: Backend, host: OpsHost, s: (typeof SCREENS)[number]) {
  const b = s.bottom!;
  let refresh: (() => Promise<void>) | null = null;
  let timer: number | undefined;
  let visible = false;
  const tick = async () => {
    if (!visible || !refresh) return;
    await refresh().catch(() => undefined);
    if (visible) timer = window.setTimeout(tick, s.every);
  };
  const body = el('div', { class: 'ops-body ops-screen' });
  const page = registerBottomTab({
    id: b.id,
    label: b.label,
    onShow() {
      visible = true;
      refresh ??= s.screen(backend, body, { ...host, close: () => {} });
      window.clearTimeout(timer);
      void tick();
    },
    onHide() {
      visible = false;
      window.clearTimeout(timer);
    },
  });
  page.dataset.testid = `${s.id}-screen`;
  // A form next to its results: each column scrolls on its own, the page does not.
  if (b.split) page.classList.add('split');
  // Its Close hides the bottom panel (the button that opened it shows it again).
  const close = el('button', { class: 'bottom-close', 'data-testid': `${s.id}-close`, title: 'Hide the bottom panel (Ctrl-J)' }, 'Close');
  close.addEventListener('click', () => togglePane('bottom', false));
  page.append(close, body);
}

/** Opens a screen (in the bottom panel when it lives there); the command palette lists them. */
export function openScreen(backend: Backend, host: OpsHost, id: string) {
  const s = SCREENS.find((x) => x.id === id);
  if (!s) return;
  if (s.bottom) {
    showBottomTab(s.bottom.id);
    // A form and its results need more room than a log: the panel grows to about half the
    // editor area if it is smaller (the user's larger size is kept).
    const center = document.getElementById('center')?.getBoundingClientRect().height ?? 0;
    if (s.bottom.split && paneSize('bottom') < center * 0.45) setPaneSize('bottom', center * 0.45);
  } else void open(backend, host, s);
}

/** The screens (id, label, title), for the command palette. */
export const screens = () => SCREENS.map(({ id, label, title }) => ({ id, label, title }));

/** Adds the screens' buttons to the header (to its screen bar when there is one). */
export function mountOps(backend: Backend, host: OpsHost) {
  for (const s of SCREENS) if (s.bottom) inBottom(backend, host, s);
  let bar = document.getElementById('screens');
  if (!bar) {
    bar = el('nav', { id: 'screens', 'aria-label': 'Screens' });
    document.getElementById('top')?.append(bar);
  }
  for (const s of SCREENS) {
    const b = el('button', { id: `${s.id}-open`, 'data-testid': `${s.id}-open`, title: s.title }, s.label);
    b.addEventListener('click', () => openScreen(backend, host, s.id));
    bar.append(b);
  }
}
