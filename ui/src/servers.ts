// Connections: the embedded engine and every server profile, listed under the explorer. Opening
// a server shows its workspace (a screen over the studio): its databases, and on a database its
// info, documents (search, open, edit with _rev checks, create, delete, attachments, conflicts
// and their resolution), the live changes feed, the view runner on its design documents, Mango,
// a preview of an unsaved map/reduce on a sample of its documents, a compare with the embedded
// engine, and "pull a sample" into the engine. Everything goes through the `remote` command.
//
// The password of a profile comes from the keyring or the environment, or is typed here once
// for the session (never stored). The first write to a server in a session asks for a
// confirmation naming the server. A server that is down, slow, answers garbage or refuses the
// password shows what happened in the screen's message line; the studio stays usable.

import type { Backend } from './backend';
import { BackendError, remote } from './backend';
import type { Connection, DesignDocViews, JobStatus, RemoteAnswers, RemoteArgsOf, RemoteOpName, ViewRows, ViewSource } from './api-types';
import { el } from './dom';
import { saveBytes } from './attachments';
import './ops.css';
import './servers.css';

/** A view row, as every view answer has them. */
type Row = ViewRows['rows'][number];

const j = (v: unknown) => (v === undefined ? '' : JSON.stringify(v));
const pretty = (v: unknown) => JSON.stringify(v, null, 2);

let box: HTMLElement | null = null;
let backendRef: Backend | null = null;
/** The connections as last listed (for the command palette). */
let listed: Connection[] = [];

/** The entries one can move to with the arrows. */
const entries = () => (box ? [...box.querySelectorAll<HTMLElement>('span.conn[data-conn]')] : []);

/** Moves the focus (and the single Tab stop of the list) to an entry. */
function focusEntry(e: HTMLElement | undefined) {
  if (!e) return;
  for (const o of entries()) o.tabIndex = -1;
  e.tabIndex = 0;
  e.focus();
  e.scrollIntoView({ block: 'nearest' });
}

/** Puts the focus on the first connection (from the explorer tree's last item, or the palette). */
export function focusConnections(which: 'first' | 'last' = 'first') {
  const all = entries();
  focusEntry(which === 'first' ? all[0] : all[all.length - 1]);
}

/** Opens a connection: a server's workspace; the embedded engine is the explorer above. */
function activate(b: Backend, c: Connection) {
  if (c.kind !== 'engine') void openServer(b, c);
  else document.querySelector<HTMLElement>('#explorer span.node[data-docs]')?.focus();
}

/**
 * The keys of the list, like the explorer tree's: Up/Down/Home/End move (Up from the first goes
 * back to the tree), Enter or Space opens the connection.
 */
function connKeys(e: KeyboardEvent) {
  const at = (e.target as HTMLElement).closest<HTMLElement>('span.conn[data-conn]');
  if (!at || !backendRef) return;
  const all = entries();
  const i = all.indexOf(at);
  switch (e.key) {
    case 'ArrowDown': focusEntry(all[i + 1]); break;
    case 'ArrowUp':
      if (i > 0) focusEntry(all[i - 1]);
      else [...document.querySelectorAll<HTMLElement>('#explorer span.node')].filter((l) => l.offsetParent !== null).pop()?.focus();
      break;
    case 'Home': focusEntry(all[0]); break;
    case 'End': focusEntry(all[all.length - 1]); break;
    case 'Enter':
    case ' ': {
      const c = listed.find((x) => x.name === at.dataset.conn);
      if (c) activate(backendRef, c);
      break;
    }
    default: return;
  }
  e.preventDefault();
  e.stopPropagation();
}

/** The palette's actions: open each server's workspace, go to the connections. */
export function connectionCommands(): { id: string; label: string; run: () => void }[] {
  const b = backendRef;
  if (!b) return [];
  return [
    { id: 'conn:focus', label: 'Connections: focus the list (arrows, Enter)', run: () => focusConnections() },
    ...listed.filter((c) => c.kind !== 'engine').map((c) => ({ id: `conn:${c.name}`, label: `Connections: open the server ${c.name}${c.url ? ` (${c.url})` : ''}`, run: () => activate(b, c) })),
  ];
}

/** The Connections section of the explorer (one element, kept across project reloads). */
export function connectionsBox(): HTMLElement {
  if (!box) {
    box = el('div', { id: 'connections', 'data-testid': 'connections' });
    box.addEventListener('keydown', connKeys);
    void refreshConnections();
  }
  return box;
}

/** Lists the connections again (after a profile was added, a login, a logout). */
export async function refreshConnections() {
  if (!box || !backendRef) return;
  const b = backendRef;
  const head = el('div', { class: 'conn-head' }, el('span', {}, 'Connections'));
  const again = el('button', { class: 'link', title: 'Reload the server profiles', 'data-testid': 'connections-reload' }, '↻');
  again.addEventListener('click', () => void refreshConnections());
  head.append(again);
  try {
    const conns = await remote(b, { op: 'connections' });
    // The list keeps the entry that had the focus across a reload.
    const had = (document.activeElement as HTMLElement | null)?.closest?.<HTMLElement>('#connections span.conn')?.dataset.conn;
    listed = conns;
    const ul = el('ul', { role: 'listbox', 'aria-label': 'Connections' });
    for (const c of conns) {
      const label = el('span', { class: c.kind === 'engine' ? 'conn local' : 'conn', 'data-conn': c.name, title: c.url ?? 'the engine inside the studio', role: 'option', tabindex: '-1' },
        c.kind === 'engine' ? 'Embedded engine' : c.name,
        el('span', { class: 'kind' }, c.kind === 'engine' ? 'local' : `${c.kind}${c.user ? ` · ${c.user}` : ''}${c.password === 'missing' ? ' · no password' : ''}`));
      if (c.kind !== 'engine') label.addEventListener('click', () => void openServer(b, c));
      ul.append(el('li', {}, label));
    }
    if (conns.length === 1) ul.append(el('li', { class: 'hint' }, 'Add a server in Deploy to browse it here.'));
    box.replaceChildren(head, ul);
    // One Tab stop for the list (the entry that had the focus, or the first server).
    const stop = entries().find((x) => x.dataset.conn === had) ?? entries().find((x) => !x.classList.contains('local')) ?? entries()[0];
    if (stop) stop.tabIndex = 0;
    if (had && stop) stop.focus();
  } catch (e) {
    box.replaceChildren(head, el('p', { class: 'error' }, (e as Error).message));
  }
}

/** Adds the Connections section to the explorer and keeps it there. */
export function mountConnections(backend: Backend, explorer: HTMLElement) {
  backendRef = backend;
  explorer.append(connectionsBox());
}

/** The workspace of one server. */
async function openServer(backend: Backend, conn: Connection) {
  let d = document.getElementById('server-screen') as HTMLDialogElement | null;
  if (!d) {
    d = el('dialog', { id: 'server-screen', class: 'ops-screen', 'data-testid': 'srv-screen', 'aria-label': 'Server' });
    document.body.append(d);
  }
  const dlg = d;
  const msg = el('div', { class: 'ops-msg', 'data-testid': 'srv-msg' });
  const say = (text: string, error = false) => {
    msg.textContent = text;
    msg.classList.toggle('error', error);
  };
  const close = el('button', { 'data-testid': 'srv-close' }, 'Close');
  let stopped = false;
  close.addEventListener('click', () => dlg.close());
  dlg.addEventListener('close', () => {
    stopped = true;
    // Back to the server's entry: the list may have been redrawn while the workspace was open,
    // and the browser would then give the focus back to an element that is gone.
    const entry = [...document.querySelectorAll<HTMLElement>('#connections span.conn')].find((x) => x.dataset.conn === conn.name);
    if (entry && !entry.contains(document.activeElement)) entry.focus();
  }, { once: true });
  const head = el('div', { class: 'ops-head' }, el('h2', { 'data-testid': 'srv-name' }, conn.name), el('span', { class: 'hint' }, `${conn.url ?? ''}${conn.user ? ` as ${conn.user}` : ''}`), close);
  const dbList = el('ul', { class: 'srv-dbs', 'data-testid': 'srv-dbs' });
  const dbName = el('input', { placeholder: 'database name', 'data-testid': 'srv-db-name', spellcheck: 'false' });
  const dbOpen = el('button', { 'data-testid': 'srv-db-open' }, 'Open');
  const side = el('div', { class: 'ops-col narrow srv-side' }, el('h3', {}, 'Databases'), dbList, el('div', { class: 'row' }, dbName, dbOpen));
  const main = el('div', { class: 'ops-col srv-main', 'data-testid': 'srv-main' }, el('p', { class: 'hint' }, 'Pick a database.'));
  dlg.replaceChildren(head, msg, el('div', { class: 'ops-body' }, side, main));
  if (!dlg.open) dlg.showModal();

  /** Calls `remote`; a needed password or a first write asks the user, then retries. */
  async function call<O extends RemoteOpName>(args: RemoteArgsOf<O>): Promise<RemoteAnswers[O]> {
    try {
      return await remote(backend, args);
    } catch (e) {
      if (e instanceof BackendError && e.code === 'unauthorized') {
        const pw = await askPassword(e.message);
        if (pw === null) throw e;
        await backend.call('remote', { op: 'login', conn: conn.name, password: pw });
        void refreshConnections();
        return call(args);
      }
      if (e instanceof BackendError && e.code === 'confirm_required' && !('confirm' in args)) {
        if (!(await confirmWrite(e.message))) throw new Error('not written: the write to the server was not confirmed');
        return call<O>({ ...args, confirm: true } as RemoteArgsOf<O>);
      }
      throw e;
    }
  }

  function askPassword(why: string): Promise<string | null> {
    return new Promise((resolve) => {
      const pw = el('input', { type: 'password', 'data-testid': 'srv-password', autocomplete: 'off', placeholder: 'password (kept for this session only)' });
      const ok = el('button', { type: 'submit', class: 'primary', 'data-testid': 'srv-login' }, 'Connect');
      const cancel = el('button', { type: 'button', 'data-testid': 'srv-login-cancel' }, 'Cancel');
      const f = el('form', { class: 'srv-login', 'data-testid': 'srv-login-form' }, el('p', {}, why), pw, ok, cancel);
      main.replaceChildren(f);
      pw.focus();
      f.addEventListener('submit', (ev) => {
        ev.preventDefault();
        resolve(pw.value);
      });
      cancel.addEventListener('click', () => resolve(null));
    });
  }

  function confirmWrite(why: string): Promise<boolean> {
    return new Promise((resolve) => {
      const c = el('dialog', { class: 'ops-screen srv-confirm', 'data-testid': 'confirm-write' });
      const yes = el('button', { class: 'primary', 'data-testid': 'confirm-write-yes' }, `Write to ${conn.name}`);
      const no = el('button', { 'data-testid': 'confirm-write-no' }, 'Cancel');
      c.append(el('h2', {}, `Write to server ${conn.name}?`), el('p', {}, why), el('p', { class: 'hint' }, `${conn.url ?? ''}: asked once per session.`), el('div', { class: 'row' }, yes, no));
      document.body.append(c);
      const done = (v: boolean) => {
        c.close();
        c.remove();
        resolve(v);
      };
      yes.addEventListener('click', () => done(true));
      no.addEventListener('click', () => done(false));
      c.showModal();
    });
  }

  const fail = (e: unknown) => say((e as Error).message, true);

  async function loadDbs() {
    say(`connecting to ${conn.name}…`);
    try {
      const r = await call({ op: 'databases', conn: conn.name });
      dbList.replaceChildren(...r.databases.filter((n) => !n.startsWith('_')).map((n) => {
        const li = el('li', { class: 'file', 'data-db': n }, n);
        li.addEventListener('click', () => void openDb(n));
        return li;
      }));
      say(r.note ?? `${conn.name}: ${r.server.vendor?.name ?? 'CouchDB'} ${r.server.version ?? ''}, ${r.databases.length} databases`);
      if (main.querySelector('.srv-login')) main.replaceChildren(el('p', { class: 'hint' }, 'Pick a database.'));
    } catch (e) {
      const retry = el('button', { 'data-testid': 'srv-retry' }, 'Retry');
      retry.addEventListener('click', () => void loadDbs());
      fail(e);
      main.replaceChildren(el('p', { class: 'hint' }, 'The server could not be listed. Check it and retry, or close this screen: the rest of the studio works as before.'), retry);
    }
  }
  dbOpen.addEventListener('click', () => dbName.value.trim() && void openDb(dbName.value.trim()));

  async function openDb(db: string) {
    for (const li of Array.from(dbList.children)) li.classList.toggle('active', (li as HTMLElement).dataset.db === db);
    const tabs = ['info', 'documents', 'changes', 'views', 'mango', 'preview', 'compare', 'pull'] as const;
    const bar = el('div', { class: 'srv-tabs', role: 'tablist' });
    const pane = el('div', { class: 'srv-pane', 'data-testid': 'srv-pane' });
    main.replaceChildren(el('h3', { 'data-testid': 'srv-db' }, db), bar, pane);
    const show = (t: (typeof tabs)[number]) => {
      for (const b of Array.from(bar.children)) b.classList.toggle('active', (b as HTMLElement).dataset.tab === t);
      stopFollow();
      say('');
      void ({ info, documents, changes, views, mango, preview, compare, pull } as Record<string, () => Promise<void>>)[t]().catch(fail);
    };
    for (const t of tabs) {
      const b = el('button', { 'data-tab': t, 'data-testid': `srv-tab-${t}`, role: 'tab' }, t[0].toUpperCase() + t.slice(1));
      b.addEventListener('click', () => show(t));
      bar.append(b);
    }
    let follow = 0;
    const stopFollow = () => (follow += 1);

    async function info() {
      const i = await call({ op: 'db_info', conn: conn.name, db });
      pane.replaceChildren(el('pre', { class: 'mono', 'data-testid': 'srv-info' }, pretty(i)));
      say(`${db}: ${i.doc_count} documents`);
    }

    async function documents() {
      const search = el('input', { placeholder: 'id starts with…', 'data-testid': 'rdocs-search', spellcheck: 'false' });
      const create = el('button', { 'data-testid': 'rdocs-new' }, 'New');
      const prev = el('button', { 'data-testid': 'rdocs-prev' }, '‹');
      const next = el('button', { 'data-testid': 'rdocs-next' }, '›');
      const count = el('span', { class: 'hint', 'data-testid': 'rdocs-count' });
      const list = el('ul', { class: 'srv-list', 'data-testid': 'rdocs-list' });
      const editor = el('div', { class: 'srv-doc', 'data-testid': 'rdoc' });
      pane.replaceChildren(el('div', { class: 'srv-split' }, el('div', {}, el('div', { class: 'row' }, search, create), el('div', { class: 'row' }, prev, next, count), list), editor));
      const PAGE = 25;
      let skip = 0;
      const load = async () => {
        const r = await call({ op: 'docs_list', conn: conn.name, db, prefix: search.value, limit: PAGE, skip });
        count.textContent = `${skip + 1}–${skip + r.rows.length} of ${r.total}`;
        list.replaceChildren(...r.rows.map((row) => {
          const li = el('li', { class: 'file', 'data-id': row.id }, row.id);
          li.addEventListener('click', () => void openDoc(row.id).catch(fail));
          return li;
        }));
      };
      let t: number | undefined;
      search.addEventListener('input', () => {
        window.clearTimeout(t);
        skip = 0;
        t = window.setTimeout(() => void load().catch(fail), 250);
      });
      prev.addEventListener('click', () => ((skip = Math.max(0, skip - PAGE)), void load().catch(fail)));
      next.addEventListener('click', () => ((skip += PAGE), void load().catch(fail)));
      create.addEventListener('click', () => edit({ _id: '' }, true));
      await load();

      function edit(doc: Record<string, unknown>, isNew = false) {
        const text = el('textarea', { class: 'mono', 'data-testid': 'rdoc-text', spellcheck: 'false', rows: '16' });
        text.value = pretty(doc);
        const save = el('button', { class: 'primary', 'data-testid': 'rdoc-save' }, isNew ? 'Create' : 'Save');
        const del = el('button', { 'data-testid': 'rdoc-delete' }, 'Delete');
        const kids: Node[] = [el('div', { class: 'row' }, save, ...(isNew ? [] : [del])), text];
        save.addEventListener('click', async () => {
          let body: Record<string, unknown>;
          try {
            body = JSON.parse(text.value);
          } catch (e) {
            say(`not valid JSON: ${(e as Error).message}`, true);
            return;
          }
          if (isNew && !body._id) delete body._id;
          try {
            const r = await call({ op: 'doc_put', conn: conn.name, db, doc: body });
            say(`saved ${r.id} as ${r.rev} on ${conn.name}`);
            await load();
            await openDoc(r.id);
          } catch (e) {
            fail(e);
          }
        });
        del.addEventListener('click', async () => {
          try {
            await call({ op: 'doc_delete', conn: conn.name, db, id: String(doc._id), rev: String(doc._rev) });
            say(`deleted ${doc._id} on ${conn.name}`);
            editor.replaceChildren();
            await load();
          } catch (e) {
            fail(e);
          }
        });
        editor.replaceChildren(...kids);
        editor.dataset.id = String(doc._id ?? '');
        editor.dataset.rev = String(doc._rev ?? '');
        return editor;
      }

      async function openDoc(id: string) {
        const doc = await call({ op: 'doc_get', conn: conn.name, db, id });
        edit(withoutMeta(doc));
        const conflicts = (doc._conflicts as string[] | undefined) ?? [];
        const atts = Object.entries((doc._attachments as Record<string, { content_type: string; length: number }> | undefined) ?? {});
        const attList = el('ul', { 'data-testid': 'rdoc-attachments' }, ...atts.map(([name, a]) => {
          const rm = el('button', { class: 'link', 'data-testid': `rdoc-att-delete-${name}` }, 'remove');
          rm.addEventListener('click', async () => {
            try {
              await call({ op: 'attachment_delete', conn: conn.name, db, id, rev: String(doc._rev), name });
              await openDoc(id);
            } catch (e) {
              fail(e);
            }
          });
          const get = el('button', { class: 'link', 'data-testid': `rdoc-att-download-${name}` }, 'download');
          get.addEventListener('click', async () => {
            try {
              const got = await call({ op: 'attachment_get', conn: conn.name, db, id, name });
              say(await saveBytes(backend, name, got));
            } catch (e) {
              fail(e);
            }
          });
          return el('li', {}, `${name} (${a.content_type}, ${a.length} bytes) `, get, rm);
        }));
        const file = el('input', { type: 'file', 'data-testid': 'rdoc-att-file' });
        file.addEventListener('change', async () => {
          const f = file.files?.[0];
          if (!f) return;
          const data = await new Promise<string>((res) => {
            const r = new FileReader();
            r.onload = () => res(String(r.result).split(',')[1] ?? '');
            r.readAsDataURL(f);
          });
          try {
            await call({ op: 'attachment_put', conn: conn.name, db, id, rev: String(doc._rev), name: f.name, content_type: f.type, data });
            await openDoc(id);
          } catch (e) {
            fail(e);
          }
        });
        editor.append(el('h4', {}, 'Attachments'), attList, file);
        if (conflicts.length) {
          const leaves = await call({ op: 'doc_revisions', conn: conn.name, db, id });
          const cl = el('ul', { class: 'srv-conflicts', 'data-testid': 'rdoc-conflicts' });
          for (const leaf of leaves) {
            const rev = String(leaf._rev);
            const keep = el('button', { 'data-testid': `rdoc-keep-${rev}` }, 'Keep this one');
            keep.addEventListener('click', async () => {
              const others = leaves.map((l) => String(l._rev)).filter((r) => r !== rev);
              try {
                await call({ op: 'doc_resolve', conn: conn.name, db, id, keep: rev, delete: others });
                say(`resolved ${id}: kept ${rev}, deleted ${others.join(', ')}`);
                await openDoc(id);
              } catch (e) {
                fail(e);
              }
            });
            cl.append(el('li', {}, el('span', { class: 'mono' }, `${rev}${rev === doc._rev ? ' (winner)' : ''}`), keep, el('pre', { class: 'mono' }, pretty(withoutMeta(leaf)))));
          }
          editor.append(el('h4', {}, `Conflicts (${conflicts.length})`), cl);
        }
      }
    }

    async function changes() {
      const list = el('ul', { class: 'srv-list mono', 'data-testid': 'rchanges-list' });
      const live = el('input', { type: 'checkbox', 'data-testid': 'rchanges-follow', checked: '' });
      pane.replaceChildren(el('label', { class: 'check' }, live, 'follow (longpoll)'), list);
      const r = await call({ op: 'changes', conn: conn.name, db, latest: true, limit: 50 });
      const line = (c: { id: string; seq: unknown; deleted?: boolean; changes: { rev: string }[] }) => el('li', { 'data-id': c.id }, `${c.id} ${c.changes?.[0]?.rev ?? ''}${c.deleted ? ' (deleted)' : ''}`);
      list.replaceChildren(...r.results.map(line));
      const me = ++follow;
      let since = r.last_seq;
      while (!stopped && me === follow) {
        if (!live.checked) {
          await new Promise((res) => setTimeout(res, 500));
          continue;
        }
        try {
          const c = await call({ op: 'changes', conn: conn.name, db, since, wait_ms: 10_000, limit: 100 });
          if (me !== follow || stopped) break;
          since = c.last_seq;
          for (const row of c.results) list.prepend(line(row));
        } catch (e) {
          fail(e);
          await new Promise((res) => setTimeout(res, 3000));
        }
      }
    }

    /** A view picker over the database's design documents (of `connName`). */
    async function viewPicker(connName: string, onPick?: (dd: DesignDocViews, v: ViewSource) => void) {
      const ddocs = await call({ op: 'design_docs', conn: connName, db });
      const sel = el('select', { 'data-testid': 'rview-select' }, ...ddocs.flatMap((dd) => dd.views.map((v) => el('option', { value: `${dd.name}/${v.name}` }, `${dd.name}/${v.name}${v.reduce ? ' (reduce)' : ''}`))));
      sel.addEventListener('change', () => {
        const [dn, vn] = sel.value.split('/');
        const dd = ddocs.find((x) => x.name === dn);
        const v = dd?.views.find((x) => x.name === vn);
        if (dd && v) onPick?.(dd, v);
      });
      return { sel, ddocs };
    }

    function rowsTable(rows: Row[], testid: string) {
      const tb = el('tbody', {}, ...rows.map((r) => el('tr', {}, el('td', { class: 'mono' }, j(r.key)), el('td', { class: 'mono' }, j(r.value)), el('td', { class: 'mono' }, r.id ?? ''))));
      return el('table', { class: 'ops-table', 'data-testid': testid }, el('thead', {}, el('tr', {}, el('th', {}, 'key'), el('th', {}, 'value'), el('th', {}, 'id'))), tb);
    }

    function jsonArea(testid: string, value: unknown, rows = '4') {
      const t = el('textarea', { class: 'mono', 'data-testid': testid, spellcheck: 'false', rows });
      t.value = pretty(value);
      return t;
    }

    function parse(t: HTMLTextAreaElement, what: string): unknown {
      try {
        return t.value.trim() ? JSON.parse(t.value) : {};
      } catch (e) {
        throw new Error(`${what} is not valid JSON: ${(e as Error).message}`);
      }
    }

    async function views() {
      const { sel } = await viewPicker(conn.name);
      const q = jsonArea('rview-query', { limit: 20 });
      const run = el('button', { class: 'primary', 'data-testid': 'rview-run' }, 'Run');
      const meta = el('div', { class: 'hint', 'data-testid': 'rview-meta' });
      const out = el('div', { class: 'srv-out' });
      pane.replaceChildren(el('div', { class: 'row' }, sel, run), el('label', { class: 'hint' }, 'Query options (any CouchDB option: key, keys, startkey, endkey, limit, skip, descending, group, group_level, reduce, include_docs, inclusive_end, stale, update...)'), q, meta, out);
      run.addEventListener('click', async () => {
        try {
          const [ddoc, view] = sel.value.split('/');
          const r = await call({ op: 'view_query', conn: conn.name, db, ddoc, view, query: parse(q, 'the query') });
          meta.textContent = `${r.result.rows.length} rows${r.result.total_rows !== undefined ? ` of ${r.result.total_rows}` : ''} from ${conn.name} in ${r.ms.toFixed(0)} ms`;
          out.replaceChildren(rowsTable(r.result.rows, 'rview-rows'));
        } catch (e) {
          fail(e);
        }
      });
      if (!sel.options.length) meta.textContent = 'This database has no design document with views.';
    }

    async function mango() {
      const q = jsonArea('rmango-query', { selector: {}, limit: 25 }, '6');
      const run = el('button', { class: 'primary', 'data-testid': 'rmango-run' }, 'Find');
      const explain = el('button', { 'data-testid': 'rmango-explain' }, 'Explain');
      const meta = el('div', { class: 'hint', 'data-testid': 'rmango-meta' });
      const out = el('ul', { class: 'srv-list mono', 'data-testid': 'rmango-docs' });
      pane.replaceChildren(q, el('div', { class: 'row' }, run, explain), meta, out);
      run.addEventListener('click', async () => {
        try {
          const r = await call({ op: 'find', conn: conn.name, db, query: parse(q, 'the query') });
          meta.textContent = `${r.result.docs.length} documents in ${r.ms.toFixed(0)} ms${r.result.warning ? ` (${r.result.warning})` : ''}`;
          out.replaceChildren(...r.result.docs.map((d) => el('li', {}, JSON.stringify(d))));
        } catch (e) {
          fail(e);
        }
      });
      explain.addEventListener('click', async () => {
        try {
          const r = await call({ op: 'explain', conn: conn.name, db, query: parse(q, 'the query') });
          out.replaceChildren(el('li', {}, el('pre', {}, pretty(r))));
        } catch (e) {
          fail(e);
        }
      });
    }

    async function preview() {
      const map = el('textarea', { class: 'mono', 'data-testid': 'rpreview-map', rows: '6', spellcheck: 'false' });
      map.value = 'function (doc) {\n  emit(doc._id, null);\n}';
      const reduce = el('input', { class: 'mono', 'data-testid': 'rpreview-reduce', placeholder: 'reduce (_count, _sum, or a function)' });
      const { sel } = await viewPicker(conn.name, (_dd, v) => {
        map.value = v.map;
        reduce.value = v.reduce ?? '';
      });
      sel.prepend(el('option', { value: '' }, 'start from a saved view…'));
      sel.value = '';
      const size = el('input', { type: 'number', min: '1', max: '10000', value: '100', 'data-testid': 'rpreview-size' });
      const random = el('input', { type: 'checkbox', 'data-testid': 'rpreview-random' });
      const q = jsonArea('rpreview-query', {}, '2');
      const run = el('button', { class: 'primary', 'data-testid': 'rpreview-run' }, 'Preview on sample');
      const meta = el('div', { class: 'hint', 'data-testid': 'rpreview-meta' });
      const errs = el('ul', { class: 'error', 'data-testid': 'rpreview-errors' });
      const out = el('div', { class: 'srv-out' });
      pane.replaceChildren(sel, map, reduce, el('div', { class: 'row' }, el('label', {}, 'sample ', size), el('label', { class: 'check' }, random, 'random'), run), el('label', { class: 'hint' }, 'Query options'), q, meta, errs, out);
      run.addEventListener('click', async () => {
        try {
          const r = await call({
            op: 'preview_sample', conn: conn.name, db, map: map.value, reduce: reduce.value || null, query: parse(q, 'the query'), size: Number(size.value), random: random.checked,
          });
          meta.textContent = `${r.result.rows.length} rows from a ${random.checked ? 'random ' : ''}sample of ${r.docs} documents (read-only) in ${r.ms.toFixed(0)} ms`;
          errs.replaceChildren(...r.errors.map((e) => el('li', {}, `${e.id}: ${e.error}`)));
          out.replaceChildren(rowsTable(r.result.rows, 'rpreview-rows'));
        } catch (e) {
          fail(e);
        }
      });
    }

    async function compare() {
      const local = el('select', { 'data-testid': 'rcompare-local' });
      const dbs = await backend.call('databases');
      local.append(...dbs.map((x) => el('option', { value: x.name }, `${x.name} (${x.doc_count})`)));
      if (dbs.some((x) => x.name === db)) local.value = db;
      const mode = el('select', { 'data-testid': 'rcompare-mode' }, el('option', { value: 'view' }, 'a view'), el('option', { value: 'mango' }, 'a Mango query'));
      const { sel } = await viewPicker(conn.name);
      const q = jsonArea('rcompare-query', {}, '4');
      const run = el('button', { class: 'primary', 'data-testid': 'rcompare-run' }, 'Compare');
      const summary = el('div', { class: 'srv-summary', 'data-testid': 'rcompare-summary' });
      const out = el('div', { class: 'srv-out' });
      mode.addEventListener('change', () => {
        sel.hidden = mode.value !== 'view';
        q.value = pretty(mode.value === 'view' ? {} : { selector: {}, limit: 100 });
      });
      pane.replaceChildren(
        el('div', { class: 'row' }, el('label', {}, 'Engine database ', local), el('span', {}, `vs ${conn.name}/${db}`)),
        el('div', { class: 'row' }, el('label', {}, 'Compare ', mode), sel, run),
        el('label', { class: 'hint' }, 'Query options (view) or the Mango query'), q, summary, out);
      run.addEventListener('click', async () => {
        try {
          const query = parse(q, 'the query');
          const [ddoc, view] = sel.value.split('/');
          const args: RemoteArgsOf<'compare'> = mode.value === 'view'
            ? { op: 'compare', left: { conn: 'engine', db: local.value }, right: { conn: conn.name, db }, ddoc, view, query }
            : { op: 'compare', left: { conn: 'engine', db: local.value }, right: { conn: conn.name, db }, mango: query };
          summary.textContent = 'running on both…';
          const r = await call(args);
          const c = r.comparison;
          summary.className = `srv-summary ${c.equal ? 'equal' : 'differ'}`;
          summary.textContent = c.equal
            ? `Equal: ${c.left_rows} rows on ${r.left} and ${r.right}`
            : `${c.total_differences} difference(s): ${r.left} has ${c.left_rows} rows, ${r.right} has ${c.right_rows}`;
          const what: Record<string, string> = { only_left: `only in ${r.left}`, only_right: `only in ${r.right}`, value: 'value differs', order: 'order differs' };
          // Row number and value; an order difference has only positions; a missing row, a dash.
          const side = (i: number | null, v: unknown, kind: string) => (i === null ? '—' : kind === 'order' ? `row ${i + 1}` : `#${i + 1} ${j(v)}`);
          out.replaceChildren(el('table', { class: 'ops-table srv-diff', 'data-testid': 'rcompare-diffs' },
            el('thead', {}, el('tr', {}, el('th', {}, 'difference'), el('th', {}, 'key'), el('th', {}, 'id'), el('th', {}, `${r.left}`), el('th', {}, `${r.right}`))),
            el('tbody', {}, ...c.differences.map((x) => el('tr', { class: `d-${x.kind}` },
              el('td', {}, what[x.kind] ?? x.kind), el('td', { class: 'mono' }, j(x.key)), el('td', { class: 'mono' }, x.id ?? ''),
              el('td', { class: 'mono' }, side(x.left_index, x.left, x.kind)), el('td', { class: 'mono' }, side(x.right_index, x.right, x.kind)))))));
        } catch (e) {
          summary.textContent = '';
          fail(e);
        }
      });
    }

    async function pull() {
      const target = el('input', { value: `${db}_sample`, 'data-testid': 'rpull-target', spellcheck: 'false' });
      const kind = el('select', { 'data-testid': 'rpull-kind' }, el('option', { value: 'all' }, 'the whole database'), el('option', { value: 'first' }, 'the first N documents'), el('option', { value: 'ids' }, 'these document ids'), el('option', { value: 'selector' }, 'documents matching a selector'));
      const arg = el('input', { 'data-testid': 'rpull-arg', placeholder: 'N, ids (comma separated), or a selector (JSON)', spellcheck: 'false' });
      const go = el('button', { class: 'primary', 'data-testid': 'rpull-start' }, 'Pull into the engine');
      const progress = el('div', { class: 'srv-summary', 'data-testid': 'rpull-progress' });
      pane.replaceChildren(el('p', { class: 'hint' }, `Copies ${conn.name}/${db}, or part of it, into a database of the embedded engine with the replicator (nothing is written to the server).`),
        el('div', { class: 'ops-form' }, el('label', {}, 'Local database', target), el('label', {}, 'What', kind), el('label', { class: 'wide' }, 'Filter', arg)), go, progress);
      go.addEventListener('click', async () => {
        progress.textContent = 'starting…';
        progress.className = 'srv-summary';
        try {
          const a = arg.value.trim();
          const base = { op: 'pull_sample' as const, conn: conn.name, db, target: target.value.trim() };
          const args: RemoteArgsOf<'pull_sample'> = kind.value === 'first' ? { ...base, first_n: Number(a) }
            : kind.value === 'ids' ? { ...base, doc_ids: a.split(',').map((s) => s.trim()).filter(Boolean) }
            : kind.value === 'selector' ? { ...base, selector: JSON.parse(a || '{}') }
            : base;
          const job = await call(args);
          for (;;) {
            const all = await backend.call('replication_status');
            const s = all.find((x) => x.id === job.id);
            if (!s) break;
            progress.textContent = `${s.state}: ${s.docs_written} revisions written (${s.docs_read} read)${s.errors.length ? ` — ${s.errors.join('; ')}` : ''}`;
            progress.className = `srv-summary ${s.state === 'done' ? 'equal' : s.state === 'error' ? 'differ' : ''}`;
            if (s.state !== 'running' || stopped) break;
            await new Promise((res) => setTimeout(res, 400));
          }
        } catch (e) {
          fail(e);
        }
      });
    }

    show('info');
  }

  await loadDbs();
}

function withoutMeta(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) if (!['_conflicts', '_revs_info', '_attachments'].includes(k)) out[k] = v;
  return out;
}
