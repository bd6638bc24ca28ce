// The Deploy screen: server profiles (saved without secrets; a password goes to the OS
// keyring), the plan of deploying the open project to the checked servers (databases to create,
// design documents added/changed/removed, every view the server will reindex with the number of
// documents, conflicts to resolve, and the diff), deploys run in the background with progress
// (staged: the index build's progress too), and each server's deploy history with rollback to
// any earlier deploy.

import type { DeployStatus, PlanAnswer } from './api-types';
import type { Backend } from './backend';
import { el, jobCards, messageLine, type Screen } from './ops-kit';
import { codeDiff } from './code-diff';


const SIGN: Record<string, string> = { create: '+', update: '~', delete: '−', unchanged: '=' };

/** Session passwords by server: kept in this window's memory only, never saved or sent elsewhere. */
const sessionPasswords = new Map<string, string>();

export const deployScreen: Screen = (backend: Backend, body) => {
  const msg = messageLine('deploy-msg');
  const servers = el('ul', { class: 'servers', 'data-testid': 'deploy-servers' });
  const name = el('input', { name: 'name', placeholder: 'staging', 'data-testid': 'server-name', required: '' });
  const url = el('input', { name: 'url', placeholder: 'https://couch.example.com:6984', 'data-testid': 'server-url', required: '', spellcheck: 'false' });
  const kind = el('select', { name: 'kind', 'data-testid': 'server-kind' }, el('option', { value: 'couchdb' }, 'CouchDB-compatible'), el('option', { value: 'convertigo' }, 'Convertigo'));
  const user = el('input', { name: 'user', placeholder: 'optional', 'data-testid': 'server-user', autocomplete: 'off' });
  const password = el('input', { name: 'password', type: 'password', placeholder: 'stored in the OS keyring', 'data-testid': 'server-password', autocomplete: 'off' });
  const save = el('button', { type: 'submit', 'data-testid': 'server-save' }, 'Save server');
  const form = el('form', { class: 'ops-form compact', 'data-testid': 'server-form' },
    el('label', {}, 'Name', name), el('label', { class: 'wide' }, 'URL', url), el('label', {}, 'Kind', kind), el('label', {}, 'User', user), el('label', {}, 'Password', password), save);
  const sessionPw = el('input', { type: 'password', 'data-testid': 'deploy-session-password', placeholder: 'this session only, not stored', autocomplete: 'off' });
  const sessionLabel = el('label', { class: 'session-pw', title: 'Used for the checked servers until the studio closes; never written to a file or the keyring. Without it, the keyring or FULLSYNC_SERVER_<NAME>_PASSWORD is used.' }, 'Password ', sessionPw);
  const pw = (server: string) => {
    if (sessionPw.value) sessionPasswords.set(server, sessionPw.value);
    return sessionPasswords.get(server) ?? null;
  };
  const showPlan = el('button', { class: 'primary', 'data-testid': 'deploy-plan' }, 'Show plan');
  const deploy = el('button', { 'data-testid': 'deploy-apply' }, 'Deploy');
  const staged = el('input', { type: 'checkbox', 'data-testid': 'deploy-staged' });
  const stagedLabel = el('label', { class: 'inline', title: 'Build changed views in a staging design document and switch once the index is built: the live views never answer from a partial index' }, staged, 'staged');
  const showHistory = el('button', { 'data-testid': 'deploy-history-show' }, 'History');
  const history = el('div', { class: 'history', 'data-testid': 'deploy-history' }, el('p', { class: 'hint' }, 'Check a server, then History: its deploys, with rollback to any of them.'));
  const plans = el('div', { class: 'plans', 'data-testid': 'deploy-plans' }, el('p', { class: 'hint' }, 'Check one or more servers, then Show plan: nothing is changed until you Deploy.'));
  const jobs = el('div', { class: 'jobs', 'data-testid': 'deploy-jobs' });

  body.replaceChildren(
    el('div', { class: 'ops-col narrow' },
      el('h3', {}, 'Servers'), servers,
      sessionLabel,
      el('div', { class: 'row' }, showPlan, deploy, stagedLabel, showHistory), msg.box,
      el('h3', {}, 'Add or update a server'), form,
      el('p', { class: 'hint' }, 'Profiles are saved in your configuration folder without secrets; passwords come from the OS keyring or FULLSYNC_SERVER_<NAME>_PASSWORD.')),
    el('div', { class: 'ops-col' }, el('h3', {}, 'Plan'), plans, el('h3', {}, 'Deploys'), jobs, el('h3', {}, 'History'), history),
  );

  const checked = () => [...servers.querySelectorAll<HTMLInputElement>('input[type=checkbox]:checked')].map((b) => b.value);

  async function listServers(select?: string) {
    const keep = new Set(checked());
    if (select) keep.add(select);
    try {
      const r = await backend.call('servers_list');
      servers.replaceChildren(...r.servers.map((s) => {
        const box = el('input', { type: 'checkbox', value: s.name, 'aria-label': `deploy to ${s.name}` });
        box.checked = keep.has(s.name) || r.servers.length === 1;
        const pw = sessionPasswords.has(s.name) ? el('span', { class: 'badge', title: 'typed in this session; never stored' }, 'password: this session') : s.password === 'missing' ? el('span', { class: 'badge error', title: `store it here, or set ${s.password_var}` }, 'no password') : s.password === 'not needed' ? '' : el('span', { class: 'badge' }, `password: ${s.password}`);
        return el('li', { 'data-name': s.name }, el('label', {}, box, el('strong', {}, s.name)), el('span', { class: 'mono' }, s.url), s.user ? el('span', { class: 'hint' }, `as ${s.user}`) : '', s.kind === 'convertigo' ? el('span', { class: 'badge' }, 'convertigo') : '', pw);
      }));
      if (!r.servers.length) servers.append(el('li', { class: 'hint' }, `No server yet: add one below (saved in ${r.config_dir}).`));
    } catch (e) {
      msg.say((e as Error).message, true);
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await backend.call('server_save', {
        name: name.value.trim(), url: url.value.trim(), kind: kind.value, user: user.value.trim() || null, password: password.value || null,
      });
      password.value = '';
      if (r.warning) msg.say(r.warning, true);
      else msg.say(`Saved server ${r.saved}${r.password_stored ? ' (password in the OS keyring)' : ''}.`);
      await listServers(r.saved);
    } catch (e) {
      msg.say((e as Error).message, true);
    }
  });

  function renderPlan(p: PlanAnswer) {
    const summary = el('div', { class: 'plan-summary' },
      el('strong', {}, p.server), el('span', { class: 'mono hint' }, p.url),
      p.noop ? el('span', { class: 'badge done', 'data-testid': 'plan-noop' }, 'up to date') : '',
      p.create_dbs.length ? el('span', { class: 'badge create' }, `${p.create_dbs.length} database(s) to create`) : '',
      ...(['create', 'update', 'delete'] as const).filter((a) => p.counts[a]).map((a) => el('span', { class: `badge ${a}` }, `${p.counts[a]} to ${a}`)),
      p.counts.unchanged ? el('span', { class: 'badge' }, `${p.counts.unchanged} unchanged`) : '');
    const items = el('ul', { class: 'plan-items', 'data-testid': 'plan-items' },
      ...p.create_dbs.map((d) => el('li', { class: 'create', 'data-db': d.db }, el('span', { class: 'sign' }, '+'), `database ${d.db}`, el('span', { class: 'muted' }, `revs_limit ${d.revs_limit}`))),
      ...p.items.filter((i) => i.action !== 'unchanged').map((i) => el('li', { class: i.action, 'data-id': `${i.db}/${i.id}`, 'data-action': i.action },
        el('span', { class: 'sign' }, SIGN[i.action]), `${i.db}/${i.id}`,
        i.conflicts.length ? el('span', { class: 'badge error', 'data-testid': 'plan-conflicts', title: i.conflicts.join(', ') }, `${i.conflicts.length} conflict(s) to resolve`) : '',
        i.reindex.length ? el('span', { class: 'reindex', 'data-testid': 'plan-reindex', 'data-views': i.reindex.join(','), title: i.reindex.length > 1 ? 'These views share one index: changing any of them rebuilds them all' : '' },
          `reindex: ${i.reindex.join(', ')}`,
          i.doc_count !== null ? ` · ${i.doc_count.toLocaleString('en')} documents` : '',
          i.reindex.length > 1 ? ` · one index for ${i.reindex.length} views` : '') : '',
        i.functions?.length ? el('details', { class: 'functions', 'data-testid': 'plan-functions', ...(i.action === 'update' ? { open: '' } : {}) },
          el('summary', {}, `${i.functions.length} function(s) ${i.action === 'update' ? 'changed' : i.action === 'create' ? 'added' : 'removed'}`),
          ...i.functions.map((f) => codeDiff(f.path, f.before, f.after))) : '')));
    const diff = el('pre', { class: 'plan-diff', 'data-testid': 'plan-diff' },
      ...p.rendered.split('\n').filter(Boolean).map((line) => {
        const t = line.trimStart();
        const cls = t.startsWith('+') ? 'add' : t.startsWith('-') ? 'del' : t.startsWith('~') ? 'chg' : t.startsWith('=') ? 'same' : '';
        return el('span', cls ? { class: cls } : {}, line + '\n');
      }));
    const title = p.rollback_to === null ? '' : el('div', { class: 'hint' }, p.rollback_to === 0 ? 'Rollback to before the first deploy' : `Rollback to deploy ${p.rollback_to}`);
    return el('section', { class: 'plan', 'data-server': p.server }, title, summary, items, el('details', {}, el('summary', {}, 'as `fullsync deploy --dry-run` prints it'), diff));
  }

  showPlan.addEventListener('click', async () => {
    const picked = checked();
    if (!picked.length) return msg.say('Check at least one server to plan a deploy to.', true);
    plans.replaceChildren(el('p', { class: 'hint' }, `Computing the plan for ${picked.join(', ')}…`));
    const out: HTMLElement[] = [];
    for (const s of picked) {
      try {
        out.push(renderPlan(await backend.call('deploy_plan', { server: s, password: pw(s) })));
      } catch (e) {
        out.push(el('section', { class: 'plan', 'data-server': s }, el('strong', {}, s), el('div', { class: 'error' }, (e as Error).message)));
      }
    }
    plans.replaceChildren(...out);
    if (sessionPw.value) void listServers();
  });

  deploy.addEventListener('click', async () => {
    const picked = checked();
    if (!picked.length) return msg.say('Check at least one server to deploy to.', true);
    const how = staged.checked ? ' (staged: views are built before the switch)' : '';
    if (!confirm(`Deploy the project's design documents to ${picked.join(', ')}${how}?`)) return;
    for (const s of picked) {
      try {
        await backend.call('deploy_apply', { server: s, staged: staged.checked, password: pw(s) });
      } catch (e) {
        msg.say(`${s}: ${(e as Error).message}`, true);
      }
    }
    await refresh();
  });

  function card(j: DeployStatus) {
    const x = el('button', { 'data-testid': 'deploy-dismiss' }, 'Dismiss');
    x.disabled = j.state === 'running';
    x.addEventListener('click', () => void backend.call('deploy_dismiss', { id: j.id }).then(refresh, (e) => msg.say((e as Error).message, true)));
    const bar = el('progress', { max: String(Math.max(j.total, 1)), value: String(j.total ? j.current : j.state === 'done' ? 1 : 0), 'data-current': String(j.current), 'data-total': String(j.total) });
    const what = j.rollback_to !== null ? `rollback of ${j.server} to ${j.rollback_to || 'before the first deploy'}` : `${j.staged ? 'staged ' : ''}deploy to ${j.server}`;
    const index = j.index_total !== null && j.index_done !== null
      ? el('div', { class: 'leg', 'data-testid': 'deploy-index-progress', 'data-done': String(j.index_done), 'data-total': String(j.index_total) },
        el('span', { class: 'leg-dir' }, 'index'), el('progress', { max: String(Math.max(j.index_total, 1)), value: String(j.index_done) }),
        el('span', { class: 'mono leg-count' }, `${j.index_done}/${j.index_total}`), el('span', { class: 'hint' }, 'changes indexed'))
      : '';
    return el('div', { class: `job ${j.state}`, 'data-id': j.id, 'data-state': j.state },
      el('div', { class: 'job-head' }, el('div', { class: 'job-title' }, el('span', { class: `badge ${j.state}`, 'data-testid': 'job-state' }, j.state), el('strong', {}, what)), el('div', { class: 'job-actions' }, x)),
      el('div', { class: 'leg' }, el('span', { class: 'leg-dir' }, 'steps'), bar, el('span', { class: 'mono leg-count' }, `${j.current}/${j.total}`), el('span', { class: 'hint', 'data-testid': 'deploy-message' }, j.message)),
      index,
      j.applied.length ? el('details', {}, el('summary', {}, `${j.applied.length} change(s) applied`), el('ul', { class: 'mono' }, ...j.applied.map((a) => el('li', {}, a)))) : '',
      j.error ? el('div', { class: 'job-errors' }, j.error) : '');
  }

  async function loadHistory(server: string) {
    try {
      const r = await backend.call('deploy_history', { server });
      // The newest deploy that changed something is the one in effect; a deploy that failed
      // before changing anything is no state to go back to.
      const inEffect = r.deploys.find((d) => d.applied.length)?.id;
      const rows = r.deploys.map((d) => {
        const back = el('button', { 'data-testid': 'history-rollback', title: 'Put the design documents back as this deploy left them' }, 'Roll back to this');
        back.disabled = d.id === inEffect || !d.applied.length;
        back.addEventListener('click', async () => {
          if (!confirm(`Restore the design documents of ${server} as deploy ${d.id} (${d.time}) left them?`)) return;
          try {
            await backend.call('deploy_apply', { server, rollback_to: d.id, staged: staged.checked, password: pw(server) });
            await refresh();
          } catch (e) {
            msg.say(`${server}: ${(e as Error).message}`, true);
          }
        });
        return el('li', { 'data-id': String(d.id), 'data-kind': d.kind, class: d.complete ? '' : 'error' },
          el('span', { class: 'mono' }, d.time), el('span', { class: 'badge' }, d.kind),
          el('span', { class: 'history-what' }, d.summary.split(': ').slice(1).join(': ')), back);
      });
      history.replaceChildren(el('div', { 'data-server': server },
        el('strong', {}, server),
        rows.length ? el('ul', { class: 'history-items' }, ...rows) : el('p', { class: 'hint' }, 'No deploy recorded for this server yet.')));
    } catch (e) {
      history.replaceChildren(el('div', { class: 'error' }, (e as Error).message));
    }
  }

  showHistory.addEventListener('click', () => {
    const picked = checked();
    if (picked.length !== 1) return msg.say('Check one server to see its deploy history.', true);
    void loadHistory(picked[0]);
  });

  const showJobs = jobCards<DeployStatus>(jobs, card, 'No deploy yet.');
  const finished = new Set<string>();
  async function refresh() {
    const all = await backend.call('deploy_status');
    showJobs(all);
    // A deploy or rollback that just ended changes the history shown.
    const shown = history.querySelector<HTMLElement>('[data-server]')?.dataset.server;
    for (const j of all) {
      if (j.state === 'running' || finished.has(j.id)) continue;
      finished.add(j.id);
      if (shown === j.server) void loadHistory(shown);
    }
  }


  void listServers();
  return refresh;
};
