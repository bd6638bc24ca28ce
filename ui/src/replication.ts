// The Replication screen: start a push, pull or sync of a local database with a remote one
// (optionally live, optionally as a FullSync user), follow each job's progress, cancel it; a
// failed job keeps its error on screen until dismissed. "See as user" lists the documents a
// user's device would receive from a local database.

import type { JobStatus, Mode } from './api-types';
import type { Backend } from './backend';
import { el, jobCards, messageLine, type Screen } from './ops-kit';


const ARROW: Record<string, string> = { push: '→', pull: '←', sync: '⇄' };

export const replicationScreen: Screen = (backend: Backend, body) => {
  const msg = messageLine('replication-msg');
  const dbSelect = el('select', { name: 'db', 'data-testid': 'replication-db' });
  const remote = el('input', { name: 'remote', 'data-testid': 'replication-remote', placeholder: 'http://host:5984/dbname', required: '', spellcheck: 'false' });
  const direction = el('select', { name: 'direction', 'data-testid': 'replication-direction' },
    el('option', { value: 'push' }, 'push (local → remote)'), el('option', { value: 'pull' }, 'pull (remote → local)'), el('option', { value: 'sync' }, 'sync (both ways)'));
  const live = el('input', { type: 'checkbox', name: 'live', 'data-testid': 'replication-live' });
  const user = el('input', { name: 'user', 'data-testid': 'replication-user', placeholder: 'optional', autocomplete: 'off' });
  const password = el('input', { type: 'password', name: 'password', 'data-testid': 'replication-password', placeholder: 'not stored', autocomplete: 'off' });
  const start = el('button', { type: 'submit', class: 'primary', 'data-testid': 'replication-start' }, 'Start');
  const form = el('form', { class: 'ops-form', 'data-testid': 'replication-form' },
    el('label', {}, 'Local database', dbSelect),
    el('label', { class: 'wide' }, 'Remote database URL', remote),
    el('label', {}, 'Direction', direction),
    el('label', {}, 'As FullSync user', user),
    el('label', {}, 'Password', password),
    el('label', { class: 'check' }, live, 'live (keep following, retry while offline)'),
    start);
  const jobs = el('div', { class: 'jobs', 'data-testid': 'replication-jobs' });

  const seeDb = el('select', { 'data-testid': 'seeas-db' });
  const seeUser = el('input', { placeholder: 'user (empty: anonymous)', 'data-testid': 'seeas-user' });
  const seeGroups = el('input', { placeholder: 'groups, comma separated', 'data-testid': 'seeas-groups' });
  const seeGo = el('button', { type: 'submit', 'data-testid': 'seeas-go' }, 'See');
  const seeOut = el('div', { class: 'seeas-out', 'data-testid': 'seeas-out' });
  const seeForm = el('form', { class: 'ops-form compact' }, el('label', {}, 'Database', seeDb), el('label', {}, 'User', seeUser), el('label', {}, 'Groups', seeGroups), seeGo);

  body.replaceChildren(
    el('div', { class: 'ops-col narrow' },
      el('h3', {}, 'New replication'), form, msg.box,
      el('h3', {}, 'See as user'), el('p', { class: 'hint' }, "The documents of a local database a user's device would receive (FullSync access rules: ~c8oAcl, c8oGrp)."), seeForm, seeOut),
    el('div', { class: 'ops-col' }, el('h3', {}, 'Jobs'), jobs),
  );

  void backend.call('databases').then((dbs) => {
    const opts = () => dbs.map((d) => el('option', { value: d.name }, `${d.name} (${d.doc_count})`));
    dbSelect.replaceChildren(...opts());
    seeDb.replaceChildren(...opts());
  }, (e) => msg.say((e as Error).message, true));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    start.disabled = true;
    try {
      const j = await backend.call('replication_start', {
        db: dbSelect.value, remote: remote.value.trim(), direction: direction.value as Mode, live: live.checked,
        user: user.value.trim() || null, password: password.value || null,
      });
      password.value = '';
      // The job has the credentials now: keep none on screen.
      remote.value = remote.value.trim().replace(/^(https?:\/\/[^/@:]*):[^/@]*@/, '$1@');
      msg.say(`Started ${j.id}: ${j.direction} ${j.db} ${ARROW[j.direction]} ${j.remote}`);
      await refresh();
    } catch (e) {
      msg.say((e as Error).message, true);
    } finally {
      start.disabled = false;
    }
  });

  seeForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const groups = seeGroups.value.split(',').map((g) => g.trim()).filter(Boolean);
      const r = await backend.call('see_as', { db: seeDb.value, user: seeUser.value.trim() || null, groups });
      const who = r.user ?? 'an anonymous device';
      seeOut.replaceChildren(el('div', {}, el('strong', {}, `${r.count} of ${r.doc_count}`), ` documents for ${who}`), el('ul', {}, ...r.ids.slice(0, 200).map((id) => el('li', { class: 'mono' }, id))));
      if (r.ids.length > 200) seeOut.append(el('div', { class: 'hint' }, `… and ${r.ids.length - 200} more`));
    } catch (e) {
      seeOut.replaceChildren(el('div', { class: 'error' }, (e as Error).message));
    }
  });

  function card(j: JobStatus) {
    const title = el('div', { class: 'job-title' },
      el('span', { class: `badge ${j.state}`, 'data-testid': 'job-state' }, j.cancelling ? 'cancelling' : j.state),
      el('strong', {}, `${j.direction} ${j.db} ${ARROW[j.direction] ?? ''} `), el('span', { class: 'mono' }, j.remote),
      j.live ? el('span', { class: 'badge' }, 'live') : '', j.user ? el('span', { class: 'badge' }, `as ${j.user}`) : '');
    const actions = el('div', { class: 'job-actions' });
    if (j.state === 'running') {
      const c = el('button', { 'data-testid': 'job-cancel' }, 'Cancel');
      c.disabled = j.cancelling;
      c.addEventListener('click', () => void backend.call('replication_cancel', { id: j.id }).then(refresh, (e) => msg.say((e as Error).message, true)));
      actions.append(c);
    } else {
      const x = el('button', { 'data-testid': 'job-dismiss' }, 'Dismiss');
      x.addEventListener('click', () => void backend.call('replication_dismiss', { id: j.id }).then(refresh, (e) => msg.say((e as Error).message, true)));
      actions.append(x);
    }
    const legs = j.legs.map((l) => {
      const bar = el('progress', { max: String(Math.max(l.total, 1)), value: String(l.total ? l.current : l.state === 'done' ? 1 : 0), 'data-direction': l.direction, 'data-current': String(l.current), 'data-total': String(l.total) });
      return el('div', { class: 'leg' },
        el('span', { class: 'leg-dir' }, l.direction), bar,
        el('span', { class: 'mono leg-count', 'data-testid': 'leg-count' }, `${l.current}/${l.total}`),
        el('span', { class: 'hint' }, `${l.docs_read} read · ${l.docs_written} written${l.doc_write_failures ? ` · ${l.doc_write_failures} refused` : ''} · ${l.message}${l.waiting && l.retry_at ? ` · next retry at ${new Date(l.retry_at).toLocaleTimeString()}` : ''}`));
    });
    const errors = j.errors.length ? el('ul', { class: 'job-errors', 'data-testid': 'job-errors' }, ...j.errors.map((e) => el('li', {}, e))) : '';
    return el('div', { class: `job ${j.state}`, 'data-id': j.id, 'data-state': j.state }, el('div', { class: 'job-head' }, title, actions), ...legs, errors);
  }

  const showJobs = jobCards<JobStatus>(jobs, card, 'No replication yet. Jobs stay here (with their errors) until you dismiss them.');
  async function refresh() {
    showJobs(await backend.call('replication_status'));
  }

  return refresh;
};
