// Starts loading the project while the (large, Monaco) bundle downloads and parses: main.ts
// picks the answer up from window.__studioBoot. A file of its own rather than an inline script:
// the Content Security Policy runs only the studio's own files (script-src 'self').
(function () {
  var req = { cmd: 'project_tree' };
  // The desktop window: Tauri's IPC (its internals; the UI's bundle uses @tauri-apps/api).
  var ipc = window.__TAURI_INTERNALS__;
  var m = /(?:^|[#&])token=([^&]*)/.exec(location.hash);
  var boot = null;
  if (ipc) boot = ipc.invoke('studio', { req: req });
  else if (m)
    boot = fetch('api', { method: 'POST', headers: { 'content-type': 'application/json', 'x-studio-token': decodeURIComponent(m[1]) }, body: JSON.stringify(req) })
      .then(function (r) { return r.json(); })
      .then(function (b) { if (b && 'ok' in b) return b.ok; throw (b && b.error) || b; });
  if (boot) boot.catch(function () {});
  window.__studioBoot = boot;
})();
