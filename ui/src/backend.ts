// The one Backend interface of the UI, with the HTTP transport of the web mode. The Tauri
// transport (IPC) implements the same interface in the desktop app.

export interface ApiError {
  code: string;
  message: string;
}

export class BackendError extends Error {
  constructor(public readonly code: string, message: string) {
    super(message);
  }
}

export interface Backend {
  call<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>;
}

/** Web mode: `POST /_studio/api` with the token from the URL (`#token=...`). */
export class HttpBackend implements Backend {
  constructor(private readonly token: string, private readonly base = '/_studio/api') {}

  async call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
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
    if (body && 'ok' in body) return body.ok as T;
    const err: ApiError = body.error ?? body;
    throw new BackendError(err.code ?? 'internal', err.message ?? `HTTP ${res.status}`);
  }
}
