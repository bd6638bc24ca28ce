// The one Backend interface of the UI, with the HTTP transport of the web mode. The Tauri
// transport (IPC) implements the same interface in the desktop app.

export class BackendError extends Error {
  /** `line`: where JavaScript that does not compile fails (1-based), when known. */
  constructor(public readonly code: string, message: string, public readonly line?: number) {
    super(message);
  }
}

import { invoke, isTauri } from '@tauri-apps/api/core';
import type { AnswerOf, ApiError, ArgsRest, Command, RemoteAnswers, RemoteArgsOf, RemoteOpName } from './api-types';

export interface Backend {
  /**
   * Runs a command of the studio's command surface (`fullsync_api::Request`); its name,
   * arguments and answer are typed by ui/src/api-types.ts, generated from the Rust types
   * (`Answers` maps each command to its answer), so no call site states a type.
   */
  call<C extends Command>(cmd: C, ...args: ArgsRest<C>): Promise<AnswerOf<C>>;
  /** Base URL of the CouchDB-compatible API on loopback (for curl lines and clients). */
  httpBase(): Promise<string>;
  /** The native folder dialog (desktop app only); null when cancelled. */
  pickFolder?(title: string): Promise<string | null>;
  /** Saves bytes (base64) through the native Save dialog (desktop app only); the path, or null when cancelled. */
  saveFile?(name: string, dataBase64: string): Promise<string | null>;
}

/** Web mode: `POST /_studio/api` with the token from the URL (`#token=...`). */
export class HttpBackend implements Backend {
  constructor(private readonly token: string, private readonly base = '/_studio/api') {}

  async call<C extends Command>(cmd: C, ...[args]: ArgsRest<C>): Promise<AnswerOf<C>> {
    let res: Response;
    try {
      res = await fetch(this.base, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-studio-token': this.token },
        body: JSON.stringify(args === undefined ? { cmd } : { cmd, args }),
      });
    } catch (e) {
      throw new BackendError('unreachable', `the studio server does not answer (${String(e)}); is \`fullsync serve --studio\` still running?`);
    }
    const body = await res.json().catch(() => ({ code: 'internal', message: `HTTP ${res.status}` }));
    if (body && 'ok' in body) return body.ok as AnswerOf<C>;
    const err: ApiError = body.error ?? body;
    throw new BackendError(err.code ?? 'internal', err.message ?? `HTTP ${res.status}`, err.line);
  }

  /** Whether the page's URL carried a token. */
  hasToken(): boolean {
    return this.token !== '';
  }

  /** Base URL of the CouchDB API: the same server in web mode. */
  async httpBase(): Promise<string> {
    return location.origin;
  }
}

/**
 * The desktop app: Tauri IPC to the app's commands (`src-tauri/`: `studio`, `app_info`,
 * `pick_folder`, `save_file`, the only ones its capability allows). The window has no
 * `window.__TAURI__` global: `@tauri-apps/api` reaches the IPC.
 */
export class TauriBackend implements Backend {
  /** One IPC call; an `ApiError` from the Rust side (`{code, message, line?}`) becomes a `BackendError`. */
  private async invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
    try {
      return await invoke<T>(cmd, args);
    } catch (e) {
      const err = (typeof e === 'object' && e !== null ? e : {}) as Partial<ApiError>;
      throw new BackendError(err.code ?? 'internal', err.message ?? err.code ?? String(e), err.line);
    }
  }

  call<C extends Command>(cmd: C, ...[args]: ArgsRest<C>): Promise<AnswerOf<C>> {
    return this.invoke<AnswerOf<C>>('studio', { req: args === undefined ? { cmd } : { cmd, args } });
  }

  async httpBase(): Promise<string> {
    return (await this.invoke<{ http: string }>('app_info')).http;
  }

  saveFile(name: string, dataBase64: string): Promise<string | null> {
    return this.invoke<string | null>('save_file', { name, data: dataBase64 });
  }

  pickFolder(title: string): Promise<string | null> {
    return this.invoke<string | null>('pick_folder', { title });
  }
}

/** The transport of this window: Tauri IPC in the desktop app, HTTP with the URL's token in a browser. */
export function connect(): Backend {
  if (isTauri()) return new TauriBackend();
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
  return new HttpBackend(token);
}

/**
 * Runs op `args.op` of the `remote` command. Its answer is typed by op (`RemoteAnswers`,
 * generated from the ops table in crates/fullsync-api/src/remote.rs): `Answers['remote']` is
 * only the union of them all, so this is the one place that narrows it by the op sent.
 */
export function remote<O extends RemoteOpName>(b: Backend, args: RemoteArgsOf<O>): Promise<RemoteAnswers[O]> {
  return b.call('remote', args) as Promise<RemoteAnswers[O]>;
}
