// Generated from crates/fullsync-api by ts-rs: do not edit.
// Regenerate with `UPDATE_TS_TYPES=1 cargo test -p fullsync-api --test ts_types`.

/** Any JSON value (documents, keys, query options). */
export type JsonValue = unknown;

export type Request = { "cmd": "project_open", "args": { 
/**
 * Folder.
 */
path: string, 
/**
 * Put it in the recent-projects list (the studio's Open dialog and start-up do; tests
 * and scripts need not).
 */
remember?: boolean, } } | { "cmd": "project_tree" } | { "cmd": "file_read", "args": { 
/**
 * Relative path.
 */
path: string, } } | { "cmd": "file_write", "args": { 
/**
 * Relative path.
 */
path: string, 
/**
 * Content.
 */
text: string, 
/**
 * The text the editor loaded. When the file on disk no longer has it (another
 * program changed it), nothing is written and the answer is a conflict, so an
 * external change is never silently overwritten.
 */
base?: string | null, } } | { "cmd": "preview", "args": { 
/**
 * Database.
 */
db: string, 
/**
 * Map source.
 */
map: string, 
/**
 * Reduce source.
 */
reduce?: string | null, 
/**
 * Query options.
 */
query?: JsonValue, 
/**
 * The design document the function belongs to (its `views.lib` is available to
 * `require`).
 */
ddoc?: string | null, } } | { "cmd": "sample_data" } | { "cmd": "sample_data_load", "args": { 
/**
 * Database (connector).
 */
db: string, } } | { "cmd": "transactions_list" } | { "cmd": "transaction_run", "args": { 
/**
 * Connector.
 */
connector: string, 
/**
 * Transaction.
 */
name: string, 
/**
 * Variable values (missing ones take their defaults).
 */
vars?: { [key in string]?: JsonValue }, 
/**
 * The FullSync user it runs as.
 */
user?: string | null, } } | { "cmd": "transaction_history" } | { "cmd": "mango_query", "args": { 
/**
 * Database.
 */
db: string, 
/**
 * The `_find` body (`selector`, `fields`, `sort`, `limit`, ...).
 */
query: JsonValue, } } | { "cmd": "sync_status" } | { "cmd": "view_query", "args": { 
/**
 * Database.
 */
db: string, 
/**
 * Design document (without `_design/`).
 */
ddoc: string, 
/**
 * View.
 */
view: string, 
/**
 * Query options.
 */
query?: JsonValue, } } | { "cmd": "databases" } | { "cmd": "docs_list", "args": { 
/**
 * Database.
 */
db: string, 
/**
 * Id prefix.
 */
prefix?: string, 
/**
 * Maximum.
 */
limit?: number, } } | { "cmd": "doc_get", "args": { 
/**
 * Database.
 */
db: string, 
/**
 * Id.
 */
id: string, 
/**
 * An older revision to read.
 */
rev?: string | null, } } | { "cmd": "doc_delete", "args": { 
/**
 * Database.
 */
db: string, 
/**
 * Id.
 */
id: string, 
/**
 * Revision to delete.
 */
rev: string, } } | { "cmd": "doc_revisions", "args": { 
/**
 * Database.
 */
db: string, 
/**
 * Id.
 */
id: string, } } | { "cmd": "doc_resolve", "args": { 
/**
 * Database.
 */
db: string, 
/**
 * Id.
 */
id: string, 
/**
 * The revision that stays.
 */
keep: string, 
/**
 * The revisions the user confirmed will be deleted.
 */
delete: Array<string>, 
/**
 * A merged body written as a new revision on top of `keep`.
 */
body?: JsonValue | null, } } | { "cmd": "changes", "args": { 
/**
 * Database.
 */
db: string, 
/**
 * Only changes after this sequence.
 */
since?: number, 
/**
 * At most this many rows.
 */
limit?: number, 
/**
 * The newest `limit` changes, newest first (ignores `since`).
 */
latest?: boolean, } } | { "cmd": "listener_activity", "args": { 
/**
 * Only entries with a greater index (0: every entry kept).
 */
after?: number, } } | { "cmd": "replication_start", "args": StartArgs } | { "cmd": "replication_status" } | { "cmd": "replication_cancel", "args": { 
/**
 * Job id.
 */
id: string, } } | { "cmd": "replication_dismiss", "args": { 
/**
 * Job id.
 */
id: string, } } | { "cmd": "see_as", "args": { 
/**
 * Database.
 */
db: string, 
/**
 * User (none: an anonymous device).
 */
user?: string | null, 
/**
 * The user's groups.
 */
groups?: Array<string>, } } | { "cmd": "servers_list" } | { "cmd": "server_save", "args": SaveArgs } | { "cmd": "deploy_plan", "args": { 
/**
 * Server profile name.
 */
server: string, 
/**
 * A deploy id of `deploy_history` (`0`: before the first deploy).
 */
rollback_to?: number | null, 
/**
 * The server's password for this request only (the Deploy screen's session field;
 * never stored), instead of the keyring's or the environment's.
 */
password?: string | null, } } | { "cmd": "deploy_apply", "args": { 
/**
 * Server profile name.
 */
server: string, 
/**
 * Build changed views in a staging design document first, and switch once built.
 */
staged?: boolean, 
/**
 * Restore the design documents of this deploy id (see `deploy_history`; `0`: before
 * the first deploy) instead of deploying the project.
 */
rollback_to?: number | null, 
/**
 * The server's password for this deploy only (never stored).
 */
password?: string | null, } } | { "cmd": "deploy_history", "args": { 
/**
 * Server profile name.
 */
server: string, } } | { "cmd": "deploy_status" } | { "cmd": "deploy_dismiss", "args": { 
/**
 * Job id.
 */
id: string, } } | { "cmd": "doc_put", "args": { 
/**
 * Database.
 */
db: string, 
/**
 * The document (with `_rev` to update).
 */
doc: JsonValue, } } | { "cmd": "project_edit", "args": Edit } | { "cmd": "part_edit", "args": PartEdit } | { "cmd": "tests_run", "args": { 
/**
 * Only the tests of this connector.
 */
connector?: string | null, 
/**
 * Only this test.
 */
name?: string | null, } } | { "cmd": "used_by", "args": Target } | { "cmd": "git", "args": GitOp } | { "cmd": "projects_recent" } | { "cmd": "dir_list", "args": { 
/**
 * Folder.
 */
path?: string | null, } } | { "cmd": "project_import_c8o", "args": { 
/**
 * The Convertigo project folder (with `c8oProject.yaml`).
 */
source: string, 
/**
 * A new, empty folder for the FullSync project.
 */
dest: string, } } | { "cmd": "studio_info" } | { "cmd": "sheet_get", "args": { 
/**
 * Connector.
 */
connector: string, 
/**
 * Which sheet.
 */
kind: SheetKind, 
/**
 * Listener or transaction name (ignored for a connector).
 */
name?: string, } } | { "cmd": "sheet_save", "args": { 
/**
 * Connector.
 */
connector: string, 
/**
 * Which sheet.
 */
kind: SheetKind, 
/**
 * Listener or transaction name (ignored for a connector).
 */
name?: string, 
/**
 * The item as the form edited it.
 */
item: JsonValue, } } | { "cmd": "attachment_put", "args": { 
/**
 * Database.
 */
db: string, 
/**
 * Document id.
 */
id: string, 
/**
 * The revision the user has open (a stale one is a conflict: reload).
 */
rev: string, 
/**
 * Attachment name.
 */
name: string, 
/**
 * MIME type (`application/octet-stream` when absent or empty).
 */
content_type?: string | null, 
/**
 * The bytes, base64.
 */
data: string, } } | { "cmd": "attachment_get", "args": { 
/**
 * Database.
 */
db: string, 
/**
 * Document id.
 */
id: string, 
/**
 * Attachment name.
 */
name: string, 
/**
 * An older revision.
 */
rev?: string | null, } } | { "cmd": "attachment_delete", "args": { 
/**
 * Database.
 */
db: string, 
/**
 * Document id.
 */
id: string, 
/**
 * The revision the user has open (a stale one is a conflict: reload).
 */
rev: string, 
/**
 * Attachment name.
 */
name: string, } } | { "cmd": "docs_page", "args": DocsPageArgs } | { "cmd": "doc_tree", "args": { 
/**
 * Database.
 */
db: string, 
/**
 * Id.
 */
id: string, } } | { "cmd": "doc_fields", "args": { 
/**
 * Database.
 */
db: string, 
/**
 * How many documents to look at.
 */
sample?: number, } } | { "cmd": "fn_test", "args": FnTestArgs } | { "cmd": "project_check" } | { "cmd": "remote", "args": RemoteOp };

export type ErrorCode = "not_found" | "conflict" | "forbidden" | "bad_request" | "invalid_project" | "js_error" | "internal" | "unavailable" | "unauthorized" | "confirm_required";

export type ApiError = { 
/**
 * Code.
 */
code: ErrorCode, 
/**
 * Message.
 */
message: string, 
/**
 * For JavaScript that does not compile: the 1-based line in the function's source (the
 * editor marks it).
 */
line?: number, };

export type ItemKind = "connector" | "ddoc" | "view" | "listener" | "transaction";

export type Target = { 
/**
 * Kind.
 */
kind: ItemKind, 
/**
 * Connector (for everything but a connector).
 */
connector?: string, 
/**
 * Design document (for a view).
 */
ddoc?: string, 
/**
 * Name (of the new item, for a create).
 */
name: string, };

export type Edit = { "op": "create" } & Target | { "op": "rename", 
/**
 * New name.
 */
new_name: string, 
/**
 * Kind.
 */
kind: ItemKind, 
/**
 * Connector (for everything but a connector).
 */
connector?: string, 
/**
 * Design document (for a view).
 */
ddoc?: string, 
/**
 * Name (of the new item, for a create).
 */
name: string, } | { "op": "delete" } & Target;

export type GitOp = { "op": "init" } | { "op": "status" } | { "op": "diff", 
/**
 * Project-relative path.
 */
path: string, } | { "op": "commit", 
/**
 * Commit message.
 */
message: string, 
/**
 * Files to commit; all changes when empty.
 */
paths?: Array<string>, 
/**
 * Author name; defaults to the repository's `user.name`.
 */
author?: string | null, 
/**
 * Author e-mail; defaults to the repository's `user.email`.
 */
email?: string | null, } | { "op": "discard", 
/**
 * Project-relative path.
 */
path: string, };

export type PartEdit = { "op": "set_reduce", 
/**
 * Connector.
 */
connector: string, 
/**
 * Design document.
 */
ddoc: string, 
/**
 * View.
 */
view: string, 
/**
 * Builtin name, `custom`, or none.
 */
reduce?: string | null, } | { "op": "filter", 
/**
 * Connector.
 */
connector: string, 
/**
 * Design document.
 */
ddoc: string, 
/**
 * Name.
 */
name: string, } | { "op": "validate", 
/**
 * Connector.
 */
connector: string, 
/**
 * Design document.
 */
ddoc: string, } | { "op": "lib", 
/**
 * Connector.
 */
connector: string, 
/**
 * Design document.
 */
ddoc: string, 
/**
 * Name.
 */
name: string, } | { "op": "index", 
/**
 * Connector.
 */
connector: string, 
/**
 * Name.
 */
name: string, 
/**
 * Fields.
 */
fields: Array<string>, } | { "op": "handler", 
/**
 * Name.
 */
name: string, } | { "op": "test", 
/**
 * Connector.
 */
connector: string, 
/**
 * Design document.
 */
ddoc: string, 
/**
 * View.
 */
view: string, 
/**
 * Test name.
 */
name: string, 
/**
 * Input documents.
 */
docs?: Array<JsonValue> | null, 
/**
 * Query options.
 */
query?: JsonValue | null, 
/**
 * Expected answer (`{"rows": [...]}`).
 */
expect?: JsonValue | null, 
/**
 * Every document of the local database is the input (what the live preview ran
 * over: "save the preview as a test"); refused above [`PREVIEW_TEST_DOCS`].
 */
all_docs?: boolean, } | { "op": "delete", 
/**
 * Project-relative path.
 */
path: string, };

export type Mode = "push" | "pull" | "sync";

export type StartArgs = { 
/**
 * Local database.
 */
db: string, 
/**
 * Remote database URL (`http(s)://[user:password@]host:port/db`).
 */
remote: string, 
/**
 * Push, pull or sync.
 */
direction: Mode, 
/**
 * Keep following changes (and retry while the remote is unreachable) until cancelled.
 */
live?: boolean, 
/**
 * Replicate as this FullSync user of the remote server (its access rules apply: a pull
 * receives only the user's documents, a push is tagged with the user).
 */
user?: string | null, 
/**
 * The user's password: used for this job only, never stored nor shown.
 */
password?: string | null, 
/**
 * Longest wait between retries of a live job, in seconds (default 60; the wait goes back
 * to 0.5 s after every attempt that made progress).
 */
max_backoff_secs?: number | null, };

export type SaveArgs = { 
/**
 * Profile name (letters, digits, `-`, `_`).
 */
name: string, 
/**
 * Base URL of the server (`https://couch.example.com:6984`), without credentials.
 */
url: string, 
/**
 * `couchdb` (default) or `convertigo`.
 */
kind?: string | null, 
/**
 * User name, if the server needs one.
 */
user?: string | null, 
/**
 * The user's password: stored in the OS keyring, never in a file.
 */
password?: string | null, 
/**
 * A PEM file of extra trusted CA certificates.
 */
ca_file?: string | null, };

export type SheetKind = "connector" | "listener" | "transaction";

export type StudioInfo = { 
/**
 * The engine's data folder (`None`: in memory).
 */
data_dir: string | null, 
/**
 * The open project's folder.
 */
project: string | null, 
/**
 * The configuration folder (server profiles, recent projects, the local admin).
 */
config_dir: string, 
/**
 * This build's version.
 */
version: string, 
/**
 * The commit this build was made from (`unknown` when not known).
 */
commit: string, };

export type DocsPageArgs = { 
/**
 * Database.
 */
db: string, 
/**
 * Only ids starting with this.
 */
prefix?: string, 
/**
 * Start after this id (the `next` of the previous page); none: from the first id.
 */
after?: string | null, 
/**
 * Rows to skip first (jumping into the middle of an unfiltered list).
 */
skip?: number, 
/**
 * At most this many rows.
 */
limit?: number, 
/**
 * Ids in descending order.
 */
descending?: boolean, 
/**
 * Only documents matching this Mango selector.
 */
selector?: JsonValue | null, 
/**
 * Only documents with conflicting revisions.
 */
conflicted?: boolean, };

export type FnTestArgs = { 
/**
 * Database (the documents' current revisions are the `oldDoc` of `validate_doc_update`).
 */
db: string, 
/**
 * `filter` or `validate`.
 */
kind: TestKind, 
/**
 * The function's source (the editor's text, saved or not).
 */
source: string, 
/**
 * The documents to try (typed or picked).
 */
docs: Array<JsonValue>, 
/**
 * For `validate`: the user's name (none: anonymous).
 */
user?: string | null, 
/**
 * For `validate`: the user's roles.
 */
roles?: Array<string>, 
/**
 * For `filter`: the request's query parameters (`req.query`).
 */
query?: JsonValue, };

export type TestKind = "filter" | "validate";

export type RemoteOp = { "op": "connections" } | { "op": "login", 
/**
 * Profile.
 */
conn: string, 
/**
 * Password.
 */
password: string, } | { "op": "logout", 
/**
 * Profile.
 */
conn: string, } | { "op": "databases", 
/**
 * Profile.
 */
conn: string, } | { "op": "db_info", 
/**
 * Profile.
 */
conn: string, 
/**
 * Database.
 */
db: string, } | { "op": "docs_list", 
/**
 * Profile.
 */
conn: string, 
/**
 * Database.
 */
db: string, 
/**
 * Id prefix.
 */
prefix?: string, 
/**
 * Page size.
 */
limit?: number, 
/**
 * Rows to skip (paging).
 */
skip?: number, } | { "op": "doc_get", 
/**
 * Profile.
 */
conn: string, 
/**
 * Database.
 */
db: string, 
/**
 * Id.
 */
id: string, 
/**
 * An older revision.
 */
rev?: string | null, } | { "op": "doc_put", 
/**
 * Profile.
 */
conn: string, 
/**
 * Database.
 */
db: string, 
/**
 * The document.
 */
doc: JsonValue, 
/**
 * The user confirmed writing to this server.
 */
confirm?: boolean, } | { "op": "doc_delete", 
/**
 * Profile.
 */
conn: string, 
/**
 * Database.
 */
db: string, 
/**
 * Id.
 */
id: string, 
/**
 * Revision.
 */
rev: string, 
/**
 * The user confirmed writing to this server.
 */
confirm?: boolean, } | { "op": "doc_revisions", 
/**
 * Profile.
 */
conn: string, 
/**
 * Database.
 */
db: string, 
/**
 * Id.
 */
id: string, } | { "op": "doc_resolve", 
/**
 * Profile.
 */
conn: string, 
/**
 * Database.
 */
db: string, 
/**
 * Id.
 */
id: string, 
/**
 * The revision that stays.
 */
keep: string, 
/**
 * The revisions deleted (all the other live leaves).
 */
delete: Array<string>, 
/**
 * A merged body written on top of `keep`.
 */
body?: JsonValue | null, 
/**
 * The user confirmed writing to this server.
 */
confirm?: boolean, } | { "op": "attachment_get", 
/**
 * Profile.
 */
conn: string, 
/**
 * Database.
 */
db: string, 
/**
 * Document id.
 */
id: string, 
/**
 * Attachment name.
 */
name: string, 
/**
 * An older revision.
 */
rev?: string | null, } | { "op": "attachment_put", 
/**
 * Profile.
 */
conn: string, 
/**
 * Database.
 */
db: string, 
/**
 * Document id.
 */
id: string, 
/**
 * Revision.
 */
rev: string, 
/**
 * Attachment name.
 */
name: string, 
/**
 * MIME type.
 */
content_type?: string | null, 
/**
 * The bytes, base64.
 */
data: string, 
/**
 * The user confirmed writing to this server.
 */
confirm?: boolean, } | { "op": "attachment_delete", 
/**
 * Profile.
 */
conn: string, 
/**
 * Database.
 */
db: string, 
/**
 * Document id.
 */
id: string, 
/**
 * Revision.
 */
rev: string, 
/**
 * Attachment name.
 */
name: string, 
/**
 * The user confirmed writing to this server.
 */
confirm?: boolean, } | { "op": "changes", 
/**
 * Profile.
 */
conn: string, 
/**
 * Database.
 */
db: string, 
/**
 * Sequence to start after (CouchDB sequences are strings).
 */
since?: JsonValue, 
/**
 * Most rows.
 */
limit?: number, 
/**
 * The newest changes, newest first.
 */
latest?: boolean, 
/**
 * Longpoll: wait up to this many milliseconds for a change.
 */
wait_ms?: number | null, } | { "op": "design_docs", 
/**
 * `engine` or a profile.
 */
conn: string, 
/**
 * Database.
 */
db: string, } | { "op": "view_query", 
/**
 * `engine` or a profile.
 */
conn: string, 
/**
 * Database.
 */
db: string, 
/**
 * Design document (without `_design/`).
 */
ddoc: string, 
/**
 * View.
 */
view: string, 
/**
 * Query options.
 */
query?: JsonValue, } | { "op": "find", 
/**
 * `engine` or a profile.
 */
conn: string, 
/**
 * Database.
 */
db: string, 
/**
 * The Mango query (`selector`, `fields`, `sort`, `limit`...).
 */
query: JsonValue, } | { "op": "explain", 
/**
 * `engine` or a profile.
 */
conn: string, 
/**
 * Database.
 */
db: string, 
/**
 * The Mango query.
 */
query: JsonValue, } | { "op": "preview_sample", 
/**
 * Profile.
 */
conn: string, 
/**
 * Database.
 */
db: string, 
/**
 * Map source.
 */
map: string, 
/**
 * Reduce source.
 */
reduce?: string | null, 
/**
 * Query options.
 */
query?: JsonValue, 
/**
 * Sample size (default 100).
 */
size?: number, 
/**
 * A random sample instead of the first documents by id.
 */
random?: boolean, 
/**
 * The server design document whose `views.lib` the map may `require`.
 */
ddoc?: string | null, } | { "op": "compare", 
/**
 * Left side (usually `engine`).
 */
left: Endpoint, 
/**
 * Right side (usually a server).
 */
right: Endpoint, 
/**
 * Design document of the view (with `view`).
 */
ddoc?: string | null, 
/**
 * View.
 */
view?: string | null, 
/**
 * View query options.
 */
query?: JsonValue, 
/**
 * A Mango query instead of a view.
 */
mango?: JsonValue | null, 
/**
 * Most differences listed (default 500).
 */
limit?: number | null, } | { "op": "pull_sample", 
/**
 * Profile.
 */
conn: string, 
/**
 * Server database.
 */
db: string, 
/**
 * Local database.
 */
target: string, 
/**
 * Only these document ids.
 */
doc_ids?: Array<string>, 
/**
 * Only documents matching this Mango selector (now: the ids `_find` answers).
 */
selector?: JsonValue | null, 
/**
 * Only the first N documents by id (design documents included when they are
 * among them).
 */
first_n?: number | null, };

export type Endpoint = { 
/**
 * `engine` or a server profile name.
 */
conn: string, 
/**
 * Database.
 */
db: string, };

/** A command's name. */
export type Command = Request['cmd'];

/** The arguments of command `C` (`undefined` for commands without any). */
export type ArgsOf<C extends Command> = Extract<Request, { cmd: C }> extends { args: infer A } ? A : undefined;

/** `(cmd, args)` of every command; `args` may be left out when none of its fields is required. */
export type CallArgs = { [K in Command]: ArgsOf<K> extends undefined ? [cmd: K] : {} extends ArgsOf<K> ? [cmd: K, args?: ArgsOf<K>] : [cmd: K, args: ArgsOf<K>] }[Command];
