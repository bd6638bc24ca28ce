var __rows = null, __fns = [], __reduces = {}, __logs = [], __out = [], __progress = 0, __ddoc = {};
function emit(k, v) {
  if (__rows === null) throw new Error("emit() called outside a map function");
  __rows.push([k === undefined ? null : k, v === undefined ? null : v]);
}
function log(m) { if (__logs.length < 1000) __logs.push(typeof m === "string" ? m : JSON.stringify(m)); }
function sum(a) { var s = 0; for (var i = 0; i < a.length; i++) s += a[i]; return s; }
function isArray(a) { return Array.isArray(a); }
function toJSON(o) { return JSON.stringify(o); }
var __modcache = {};
function __require(base) {
  return function require(name) {
    var parts = name.split("/"), cur = [];
    if (parts[0] === "." || parts[0] === "..") cur = base.slice(0, -1); 
    for (var i = 0; i < parts.length; i++) {
      if (parts[i] === ".") continue;
      if (parts[i] === "..") { cur.pop(); continue; }
      cur.push(parts[i]);
    }
    var id = cur.join("/");
    if (__modcache[id]) return __modcache[id].exports;
    var src = __ddoc;
    for (var j = 0; j < cur.length; j++) {
      if (src == null || typeof src !== "object") break;
      src = src[cur[j]];
    }
    if (typeof src !== "string") throw new Error("require(): module " + id + " not found in the design document");
    var module = { id: id, exports: {} };
    __modcache[id] = module;
    var f = (0, eval)("(function (module, exports, require) {" + src + "\n})");
    f(module, module.exports, __require(cur));
    return module.exports;
  };
}
var require = __require(["views"]);
function __compile(i, src, what) {
  var f = (0, eval)("(" + src + "\n)");
  if (typeof f !== "function") throw new Error(what + " is not a function");
  __fns[i] = f;
}
function __mapBatch(docsJson, nfns) {
  var docs = JSON.parse(docsJson);
  __out = [];
  for (var i = 0; i < docs.length; i++) {
    __progress = i;
    __tick();
    var per = new Array(nfns);
    var src = nfns > 1 ? JSON.stringify(docs[i]) : null;
    for (var f = 0; f < nfns; f++) {
      var doc = f === nfns - 1 ? docs[i] : JSON.parse(src);
      __rows = [];
      try { __fns[f](doc); per[f] = __rows; }
      catch (e) { per[f] = { error: (e && e.name ? e.name + ": " : "") + (e && e.message !== undefined ? e.message : String(e)) }; }
      __rows = null;
    }
    __out.push(per);
  }
  return JSON.stringify(__out);
}
function __partial() { return JSON.stringify(__out); }
function __call(i, argsJson) {
  __tick();
  var r = __fns[i].apply(null, JSON.parse(argsJson));
  return JSON.stringify(r === undefined ? null : r);
}
function __callValidate(i, argsJson) {
  __tick();
  try { __fns[i].apply(null, JSON.parse(argsJson)); return "null"; }
  catch (e) {
    if (e && typeof e === "object" && (e.forbidden !== undefined || e.unauthorized !== undefined)) return JSON.stringify(e);
    throw e;
  }
}
