// The Listeners screen: the open project's listeners, and their activity as it happens (the
// studio runs them on every new change of the local databases), newest first. A document id
// opens the document.

import type { Activity, ActivityEntry, ListenerInfo } from './api-types';
import type { Backend } from './backend';
import { clock, el, type Screen } from './ops-kit';


const MAX_ROWS = 500;

function target(t: ListenerInfo['target']): string {
  const parts = [];
  if (t.http) parts.push(`POST ${t.http}`);
  if (t.handler) parts.push(`handler ${t.handler}`);
  if (t.log) parts.push('log');
  if (t.sequence) parts.push(`Convertigo ${t.sequence}`);
  return parts.join(' · ') || 'log';
}

export const listenersScreen: Screen = (backend: Backend, body, host) => {
  const state = el('div', { class: 'hint', 'data-testid': 'listeners-state' }, 'loading…');
  const defs = el('tbody');
  const table = el('table', { class: 'ops-table', 'data-testid': 'listeners-defs' },
    el('thead', {}, el('tr', {}, el('th', {}, 'listener'), el('th', {}, 'database'), el('th', {}, 'on'), el('th', {}, 'selects'), el('th', {}, 'target'))), defs);
  const rows = el('tbody');
  const empty = el('tr', { class: 'empty' }, el('td', { colspan: '6' }, 'No activity yet: write documents (studio, CouchDB API, replication) and the listeners that select them show up here.'));
  rows.append(empty);
  const log = el('table', { class: 'ops-table log', 'data-testid': 'listeners-log' },
    el('thead', {}, el('tr', {}, el('th', {}, 'time'), el('th', {}, 'listener'), el('th', {}, 'database'), el('th', {}, 'documents'), el('th', {}, 'ms'), el('th', {}, 'result'))), rows);
  body.replaceChildren(
    el('div', { class: 'ops-col' },
      el('h3', {}, 'Listeners'), state, table,
      el('h3', {}, 'Activity ', el('span', { class: 'live' }, 'live · newest first')),
      el('div', { class: 'ops-scroll' }, log)),
  );
  let after = 0;
  let shownDefs = '';

  function row(e: ActivityEntry) {
    const docs = el('td', { class: 'docs' });
    for (const id of e.docs) {
      const b = el('button', { class: 'doc-link', 'data-id': id, title: `Open ${id}` }, id);
      b.addEventListener('click', () => {
        host.close();
        void host.openDoc(e.db, id);
      });
      docs.append(b, ' ');
    }
    if (!e.docs.length) docs.append(el('span', { class: 'hint' }, '—'));
    return el('tr', { 'data-listener': e.listener, 'data-index': String(e.index), class: e.ok ? 'ok' : 'failed' },
      el('td', { class: 'mono' }, clock(e.time)),
      el('td', {}, el('strong', {}, e.listener)),
      el('td', {}, e.db),
      docs,
      el('td', { class: 'mono num' }, e.ms.toFixed(1)),
      el('td', { class: 'result' }, el('span', { class: `badge ${e.ok ? 'ok' : 'error'}` }, e.ok ? 'ok' : 'error'), e.ok ? '' : ` ${e.result.replace(/^error: /, '')}`));
  }

  return async () => {
    let a: Activity;
    try {
      a = await backend.call('listener_activity', { after });
    } catch (e) {
      state.textContent = (e as Error).message;
      state.className = 'error';
      return;
    }
    // A reopened project starts a new log: indexes go on, so nothing is shown twice.
    state.className = 'hint';
    const enabled = a.listeners.filter((l) => l.enabled && l.chunk > 0).length;
    state.textContent = a.running
      ? `Running ${enabled} of ${a.listeners.length} listener(s) on every new change of the local databases.`
      : 'Not running: open a project with listeners.';
    const key = JSON.stringify(a.listeners);
    if (key !== shownDefs) {
      shownDefs = key;
      defs.replaceChildren(...a.listeners.map((l) => el('tr', { class: l.enabled && l.chunk > 0 ? '' : 'disabled', 'data-name': l.name },
        el('td', {}, el('strong', {}, l.name), l.enabled && l.chunk > 0 ? '' : ' ', l.enabled && l.chunk > 0 ? '' : el('span', { class: 'badge' }, 'disabled')),
        el('td', {}, l.db),
        el('td', {}, l.kind),
        el('td', { class: 'mono' }, l.view ? `view ${l.view}` : `filter ${l.filter ?? '_doc_ids'}`),
        el('td', { class: 'mono' }, target(l.target)))));
      if (!a.listeners.length) defs.append(el('tr', {}, el('td', { colspan: '5', class: 'hint' }, 'This project has no listeners.')));
    }
    if (a.entries.length) {
      empty.remove();
      for (const e of a.entries) rows.prepend(row(e));
      while (rows.children.length > MAX_ROWS) rows.lastElementChild?.remove();
    }
    after = Math.max(after, a.last);
  };
};
