// Generated from crates/fullsync-api by ts-rs: do not edit.
// Regenerate with `UPDATE_TS_TYPES=1 cargo test -p fullsync-api --test ts_types`.

/** Any JSON value (documents, keys, query options). */
export type JsonValue = unknown;

export type Activity = { 
/**
 * Entries after the one asked, oldest first.
 */
entries: Array<ActivityEntry>, 
/**
 * The index of the newest entry (poll with `after` = this).
 */
last: number, 
/**
 * Whether the listener runner is running.
 */
running: boolean, 
/**
 * Runner threads alive.
 */
runner_threads: number, 
/**
 * The open project's listeners.
 */
listeners: Array<ListenerInfo>, };

export type ActivityEntry = { 
/**
 * Position in the log since the project was opened (1, 2, ...): poll with `after`.
 */
index: number, 
/**
 * When the call ended (milliseconds since the Unix epoch).
 */
time: number, 
/**
 * Database (connector).
 */
db: string, 
/**
 * Listener name.
 */
listener: string, 
/**
 * Ids of the documents passed to the target.
 */
docs: Array<string>, 
/**
 * Milliseconds the target took.
 */
ms: number, 
/**
 * Whether the call succeeded.
 */
ok: boolean, 
/**
 * `ok`, or the error.
 */
result: string, };

export type AnyRemoteAnswer = RemoteAnswers[keyof RemoteAnswers];

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

export type Attachment = { 
/**
 * Attachment name.
 */
name: string, 
/**
 * MIME type.
 */
content_type: string, 
/**
 * Bytes.
 */
length: number, 
/**
 * `md5-...` digest.
 */
digest: string, 
/**
 * The revision position it was added at.
 */
revpos: number, 
/**
 * The bytes, base64.
 */
data: string, };

export type ChangesPage = { 
/**
 * `_changes` rows.
 */
results: Array<{ seq: number; id: string; changes: Array<{ rev: string }>; deleted?: boolean }>, 
/**
 * Where the next poll resumes.
 */
last_seq: number, };

export type CommitInfo = { 
/**
 * Full id.
 */
id: string, 
/**
 * First line of the message.
 */
summary: string, 
/**
 * Author name.
 */
author: string, 
/**
 * Seconds since the epoch.
 */
time: number, };

export type CompareAnswer = { 
/**
 * The left side, described (`local orders`, `prod/orders`).
 */
left: string, 
/**
 * The right side, described.
 */
right: string, 
/**
 * The differences, row by row.
 */
comparison: Comparison, 
/**
 * The left side's whole answer.
 */
left_result: JsonValue, 
/**
 * The right side's whole answer.
 */
right_result: JsonValue, };

export type Comparison = { 
/**
 * No difference at all.
 */
equal: boolean, 
/**
 * Rows on the left.
 */
left_rows: number, 
/**
 * Rows on the right.
 */
right_rows: number, 
/**
 * Differences, in left order then right-only rows (at most `limit` of them).
 */
differences: Array<Difference>, 
/**
 * How many differences there are in all.
 */
total_differences: number, };

export type Connection = { 
/**
 * `engine` or the profile's name.
 */
name: string, 
/**
 * `engine`, `couchdb` or `convertigo`.
 */
kind: string, 
/**
 * What the engine is called in the list (the engine only).
 */
label?: string, 
/**
 * The server's URL (profiles only).
 */
url?: string, 
/**
 * The user the profile signs in as (none: anonymous; the engine has none).
 */
user?: string, 
/**
 * Where the password comes from: `none`, `session`, `env`, `keyring` or `missing`
 * (profiles only; never the password itself).
 */
password?: 'none' | 'session' | 'env' | 'keyring' | 'missing', 
/**
 * A write to this server was confirmed this session (profiles only).
 */
writes_confirmed?: boolean, };

export type CouchJson = Record<string, JsonValue>;

export type CreateDb = { 
/**
 * Database.
 */
db: string, 
/**
 * Its `_revs_limit`.
 */
revs_limit: number, };

export type DatabaseInfo = { 
/**
 * Name.
 */
name: string, 
/**
 * Live documents.
 */
doc_count: number, 
/**
 * Update sequence.
 */
update_seq: number, };

export type DeployStatus = { 
/**
 * Job id (`d1`, `d2`, ...).
 */
id: string, 
/**
 * Server profile.
 */
server: string, 
/**
 * `running`, `done` or `error`.
 */
state: JobState, 
/**
 * Steps done.
 */
current: number, 
/**
 * Steps in total (known once the plan is computed).
 */
total: number, 
/**
 * What is happening, or what happened.
 */
message: string, 
/**
 * Started (milliseconds since the Unix epoch).
 */
started: number, 
/**
 * Ended, once it has.
 */
ended: number | null, 
/**
 * Design documents written or deleted (`create db/_design/x`, ...).
 */
applied: Array<string>, 
/**
 * Databases created.
 */
created_dbs: Array<string>, 
/**
 * What stopped it, and what to do.
 */
error: string | null, 
/**
 * Whether views are built in staging design documents first.
 */
staged: boolean, 
/**
 * For a rollback: the deploy id it restores.
 */
rollback_to: number | null, 
/**
 * Staged deploys: changes indexed so far by the latest index build (kept once it ends).
 */
index_done: number | null, 
/**
 * Staged deploys: changes the latest index build had to index.
 */
index_total: number | null, };

export type DesignDocViews = { 
/**
 * `_design/...`.
 */
id: string, 
/**
 * The id without `_design/`.
 */
name: string, 
/**
 * Its views that have a map (not `lib`).
 */
views: Array<ViewSource>, };

export type Diagnostic = { 
/**
 * Error or warning.
 */
severity: Severity, 
/**
 * File concerned.
 */
file: string, 
/**
 * 1-based line, when it applies.
 */
line: number | null, 
/**
 * What is wrong.
 */
message: string, 
/**
 * How to fix it.
 */
hint: string, };

export type Difference = { 
/**
 * `only_left`, `only_right`, `value` or `order`.
 */
kind: 'only_left' | 'only_right' | 'value' | 'order', 
/**
 * The row's key (view) or `_id` (Mango).
 */
key: JsonValue, 
/**
 * The document id of a view row.
 */
id?: string, 
/**
 * Position on the left (0-based).
 */
left_index: number | null, 
/**
 * Position on the right (0-based).
 */
right_index: number | null, 
/**
 * The left row's value (view) or document (Mango).
 */
left: JsonValue | null, 
/**
 * The right row's value or document.
 */
right: JsonValue | null, };

export type DirEntry = { 
/**
 * Folder name.
 */
name: string, 
/**
 * Full path.
 */
path: string, 
/**
 * Whether it is a FullSync project (has `fullsync.toml`).
 */
project: boolean, 
/**
 * Whether it is a Convertigo project (has `c8oProject.yaml`).
 */
c8o: boolean, };

export type DirListing = { 
/**
 * The folder listed.
 */
path: string, 
/**
 * Its parent, if any.
 */
parent: string | null, 
/**
 * Whether it is a FullSync project.
 */
project: boolean, 
/**
 * Whether it is a Convertigo project.
 */
c8o: boolean, 
/**
 * Its sub-folders (hidden ones left out), by name.
 */
entries: Array<DirEntry>, };

export type DocFields = { 
/**
 * Database.
 */
db: string, 
/**
 * Documents read.
 */
sampled: number, 
/**
 * Fields by path (`a.b` for nested objects), in path order.
 */
fields: Array<FieldInfo>, };

export type DocRow = { 
/**
 * Document id.
 */
id: string, 
/**
 * The winning revision.
 */
rev: string, 
/**
 * The other live leaf revisions (empty: not conflicted).
 */
conflicts: Array<string>, 
/**
 * The winning body (without `_conflicts`).
 */
doc: Record<string, JsonValue>, };

export type DocTree = { 
/**
 * Document id.
 */
id: string, 
/**
 * The winning revision (a deleted leaf when every leaf is deleted).
 */
winner: string | null, 
/**
 * Every leaf is deleted.
 */
deleted: boolean, 
/**
 * Every revision the tree knows, in revision order.
 */
revs: Array<RevNode>, };

export type DocsList = { 
/**
 * Documents in the database.
 */
total: number, 
/**
 * `_all_docs` rows.
 */
rows: Array<{ id: string; key: string; value: { rev: string; deleted?: boolean } }>, };

export type DocsPage = { 
/**
 * Documents in the database (not counting design documents' filters).
 */
total: number, 
/**
 * The page's rows, in id order.
 */
rows: Array<DocRow>, 
/**
 * Where the next page starts (pass it as `after`); none: this was the last page.
 */
next: string | null, 
/**
 * Documents read to fill this page (a selective filter reads more than it answers).
 */
scanned: number, };

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

export type Document = Record<string, JsonValue>;

export type Done = { 
/**
 * Always `true`.
 */
ok: boolean, };

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

export type Endpoint = { 
/**
 * `engine` or a server profile name.
 */
conn: string, 
/**
 * Database.
 */
db: string, };

export type ErrorCode = "not_found" | "conflict" | "forbidden" | "bad_request" | "invalid_project" | "js_error" | "internal" | "unavailable" | "unauthorized" | "confirm_required";

export type ExplainResult = { index: { name: string; ddoc: string | null; type: string; def?: JsonValue }; [key: string]: JsonValue };

export type FieldInfo = { 
/**
 * `a.b.c`.
 */
path: string, 
/**
 * JSON types seen (`string`, `number`, `boolean`, `null`, `array`, `object`).
 */
types: Array<string>, 
/**
 * In how many sampled documents.
 */
count: number, 
/**
 * A scalar value seen (strings cut at 40 characters); none for objects and arrays.
 */
example: JsonValue | null, };

export type FileStatus = { 
/**
 * Path relative to the project root.
 */
path: string, 
/**
 * `new`, `modified`, `deleted`, `renamed` or `conflicted`.
 */
status: string, 
/**
 * Whether the change is staged.
 */
staged: boolean, };

export type FileText = { 
/**
 * The path asked (relative to the project root).
 */
path: string, 
/**
 * The file's text.
 */
text: string, };

export type FindResult = { docs: Array<Record<string, JsonValue>>; warning?: string; execution_stats?: Record<string, number>; bookmark?: string };

export type FnTestAnswer = { 
/**
 * `filter` or `validate_doc_update`.
 */
kind: string, 
/**
 * One per document, in the order given.
 */
results: Array<FnVerdict>, 
/**
 * How many passed.
 */
passed: number, 
/**
 * How many failed.
 */
failed: number, };

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

export type FnVerdict = { 
/**
 * Its `_id`, or `(document N)`.
 */
id: string, 
/**
 * The filter passed it / `validate_doc_update` accepted it.
 */
pass: boolean, 
/**
 * Why not: what the function threw (`forbidden: ...`, `unauthorized: ...`, `threw: ...`).
 */
message: string | null, };

export type GitAnswer = GitStatus | GitDiff | GitCommit;

export type GitCommit = { 
/**
 * The new commit's id.
 */
id: string, 
/**
 * Files committed.
 */
files: number, };

export type GitDiff = { 
/**
 * The file.
 */
path: string, 
/**
 * Its unified diff against the last commit.
 */
diff: string, };

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

export type GitStatus = { 
/**
 * Whether the project is a Git repository (when not, the rest is empty).
 */
repo: boolean, 
/**
 * Changed files.
 */
files: Array<FileStatus>, 
/**
 * The latest commits, newest first.
 */
log: Array<CommitInfo>, 
/**
 * The current branch.
 */
branch: string | null, };

export type History = { 
/**
 * Server profile.
 */
server: string, 
/**
 * Newest first.
 */
deploys: Array<HistoryEntry>, };

export type HistoryEntry = { 
/**
 * Deploy id (for `rollback_to`).
 */
id: number, 
/**
 * When it started (UTC).
 */
time: string, 
/**
 * `deploy`, `staged deploy` or `rollback`.
 */
kind: string, 
/**
 * The deploy id a rollback restored.
 */
rollback_to: number | null, 
/**
 * Whether it finished.
 */
complete: boolean, 
/**
 * What stopped it.
 */
error: string | null, 
/**
 * The `fullsync deploy --history` line.
 */
summary: string, 
/**
 * `update orders/_design/app`, ...
 */
applied: Array<string>, };

export type ImportReport = { 
/**
 * Project name.
 */
project: string, 
/**
 * Convertigo version header.
 */
c8o_version: string, 
/**
 * Imported FullSync connectors.
 */
connectors: Array<string>, 
/**
 * Sequences (`Project.Sequence`).
 */
sequences: Array<string>, 
/**
 * Beans kept verbatim.
 */
read_only: Array<ReadOnlyBean>, 
/**
 * Diagnostics of loading the imported project (warnings only when all went well).
 */
diagnostics: Array<string>, };

export type ItemKind = "connector" | "ddoc" | "view" | "listener" | "transaction";

export type JobState = "running" | "done" | "error" | "cancelled";

export type JobStatus = { 
/**
 * Job id (`r1`, `r2`, ...).
 */
id: string, 
/**
 * Local database.
 */
db: string, 
/**
 * Remote URL with its password masked.
 */
remote: string, 
/**
 * Push, pull or sync.
 */
direction: Mode, 
/**
 * Live.
 */
live: boolean, 
/**
 * The FullSync user it replicates as.
 */
user: string | null, 
/**
 * `running`, `done`, `error` or `cancelled` (the worst of its directions).
 */
state: JobState, 
/**
 * Cancel was asked and the job is stopping.
 */
cancelling: boolean, 
/**
 * Started (milliseconds since the Unix epoch).
 */
started: number, 
/**
 * Ended, once it has.
 */
ended: number | null, 
/**
 * Sum over directions, for one progress bar.
 */
current: number, 
/**
 * Sum over directions, for one progress bar.
 */
total: number, 
/**
 * Sum over directions.
 */
docs_read: number, 
/**
 * Sum over directions.
 */
docs_written: number, 
/**
 * Each direction.
 */
legs: Array<Leg>, 
/**
 * Fatal errors and refused documents (kept until the job is dismissed).
 */
errors: Array<string>, };

export type KeptProperty = { 
/**
 * What it belongs to: `connector`, or `variable <name>` of a transaction.
 */
owner: string, 
/**
 * Convertigo property name.
 */
key: string, 
/**
 * Its value as written (a complex value is summarised).
 */
value: string, };

export type Leg = { 
/**
 * `push` or `pull`.
 */
direction: 'push' | 'pull', 
/**
 * `running`, `done`, `error` or `cancelled`.
 */
state: JobState, 
/**
 * Revisions read from the source.
 */
docs_read: number, 
/**
 * Revisions written to the target.
 */
docs_written: number, 
/**
 * Revisions the target refused.
 */
doc_write_failures: number, 
/**
 * Source sequence reached.
 */
current: number, 
/**
 * Source sequence to reach.
 */
total: number, 
/**
 * Live: up to date and waiting for changes, or waiting to retry (then `message` says why).
 */
waiting: boolean, 
/**
 * What it is doing or waiting for.
 */
message: string, 
/**
 * When waiting to retry: when the next attempt starts (milliseconds since the Unix epoch).
 */
retry_at: number | null, };

export type ListenerInfo = { 
/**
 * Database (connector).
 */
db: string, 
/**
 * Listener name.
 */
name: string, 
/**
 * Update or delete.
 */
kind: ListenerKind, 
/**
 * `ddoc/view` selecting the changed docs (the view must `emit(doc._id, ...)`).
 */
view?: string, 
/**
 * `ddoc/filter` (or `_doc_ids`) selecting the changed docs.
 */
filter?: string, 
/**
 * Documents per call (0 or less disables the listener).
 */
chunk: number, 
/**
 * Whether it runs.
 */
enabled: boolean, 
/**
 * What it calls.
 */
target: ListenerTarget, };

export type ListenerKind = "update" | "delete";

export type ListenerTarget = { 
/**
 * A Convertigo sequence (`Project.Sequence`), when deployed to Convertigo.
 */
sequence?: string, 
/**
 * An HTTP endpoint (POST of the docs as JSON), for local runs.
 */
http?: string, 
/**
 * A JavaScript handler file in the project, for local runs.
 */
handler?: string, 
/**
 * Only log the activity.
 */
log?: boolean, };

export type LoadedData = { 
/**
 * Database (connector) name.
 */
db: string, 
/**
 * Documents written.
 */
written: number, 
/**
 * Documents the database refused (`file:line: id: why`), e.g. an id starting with `_`
 * that is not `_design/`: they are reported, never dropped silently.
 */
refused: Array<string>, };

export type LoginAnswer = { 
/**
 * Always `true`.
 */
ok: boolean, 
/**
 * The server's welcome (`GET /`).
 */
server: Welcome, };

export type MangoAnswer = { 
/**
 * The `_find` answer.
 */
find: FindResult, 
/**
 * The `_explain` answer.
 */
explain: ExplainResult, 
/**
 * How long `_find` took, in milliseconds.
 */
ms: number, };

export type MapError = { 
/**
 * Document id.
 */
id: string, 
/**
 * View name.
 */
view: string, 
/**
 * What the function threw.
 */
error: string, };

export type Mode = "push" | "pull" | "sync";

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

export type PartEdited = { 
/**
 * The part's file (project-relative).
 */
path: string, 
/**
 * The project, reloaded and synced.
 */
project: ProjectTree, };

export type PlanAnswer = { 
/**
 * Server profile.
 */
server: string, 
/**
 * Server URL.
 */
url: string, 
/**
 * Whether nothing would change.
 */
noop: boolean, 
/**
 * Databases created.
 */
create_dbs: Array<CreateDb>, 
/**
 * The deploy id restored, for a rollback.
 */
rollback_to: number | null, 
/**
 * Each design document.
 */
items: Array<PlanItem>, 
/**
 * Design documents per action.
 */
counts: PlanCounts, 
/**
 * The readable diff `fullsync deploy --dry-run` prints.
 */
rendered: string, };

export type PlanCounts = { 
/**
 * Created.
 */
create: number, 
/**
 * Updated.
 */
update: number, 
/**
 * Deleted.
 */
delete: number, 
/**
 * Left as they are.
 */
unchanged: number, };

export type PlanItem = { 
/**
 * Database.
 */
db: string, 
/**
 * Design document id.
 */
id: string, 
/**
 * `create`, `update`, `delete` or `unchanged`.
 */
action: 'create' | 'update' | 'delete' | 'unchanged', 
/**
 * Every view the server rebuilds.
 */
reindex: Array<string>, 
/**
 * The documents of the database.
 */
doc_count: number | null, 
/**
 * Conflicting revisions the deploy deletes.
 */
conflicts: Array<string>, 
/**
 * Every JavaScript source (or builtin reduce) that differs, by member path, with its text
 * before and after (see [`changed_sources`]).
 */
functions: Array<{ path: string; before: string | null; after: string | null }>, };

export type PreviewAnswer = { 
/**
 * The rows of the unsaved map/reduce.
 */
result: ViewRows, 
/**
 * Documents the map function threw on.
 */
errors: Array<MapError>, 
/**
 * Documents mapped (at most `fullsync_views::MAX_PREVIEW_DOCS`, the first by id).
 */
docs: number, 
/**
 * Documents in the database (design documents included).
 */
total: number, 
/**
 * The database holds more documents than the preview maps (the rows are those of the
 * first `docs` by id; the runner queries the saved view over all of them).
 */
limited: boolean, 
/**
 * Milliseconds taken.
 */
ms: number, };

export type ProjectCheck = { 
/**
 * The project loaded (false: an error stopped loading; the diagnostics say which).
 */
loaded: boolean, 
/**
 * How many diagnostics are errors.
 */
errors: number, 
/**
 * How many are warnings.
 */
warnings: number, 
/**
 * Every diagnostic, in the order found (files relative to the project).
 */
diagnostics: Array<Diagnostic>, };

export type ProjectTree = { 
/**
 * Project name.
 */
name: string, 
/**
 * Project version.
 */
version: string, 
/**
 * The project folder.
 */
root: string, 
/**
 * One node per connector.
 */
tree: Array<TreeNode>, 
/**
 * The project-level files: `fullsync.toml`, then the `handlers/`, `tests/` and `data/`
 * folders with their files.
 */
files: Array<TreeNode>, 
/**
 * The project's description.
 */
description: string, 
/**
 * Problems found while loading the project.
 */
diagnostics: Array<Diagnostic>, 
/**
 * The project's view tests.
 */
tests: Array<string>, 
/**
 * What syncing the project into the engine changed (commands that reload the project).
 */
sync?: SyncReport, 
/**
 * What the import did (`project_import_c8o`).
 */
import?: ImportReport, };

export type PropertySpec = { 
/**
 * Property name in the transaction file (`q_limit`, `policy`...).
 */
name: string, 
/**
 * `string`, `bool`, `number`, `json`, `view` or `choice`.
 */
kind: string, 
/**
 * The allowed values of a `choice`.
 */
choices: Array<string>, 
/**
 * The variable that overrides it at run time.
 */
variable: string, 
/**
 * The schema type of that variable.
 */
schema_type: string, };

export type ReadOnlyBean = { 
/**
 * `Project/child` or `Project/connector/child`.
 */
path: string, 
/**
 * Bean class (without `com.twinsoft.convertigo.beans.`).
 */
class: string, 
/**
 * Why it is read-only.
 */
reason: string, };

export type RecentProject = { 
/**
 * Its folder.
 */
path: string, 
/**
 * Whether it still holds a FullSync project.
 */
exists: boolean, 
/**
 * `name version`, when it loads.
 */
name: string | null, };

export type RecentProjects = { 
/**
 * Newest first.
 */
projects: Array<RecentProject>, };

export type RemoteAttachment = { 
/**
 * Attachment name.
 */
name: string, 
/**
 * Its MIME type.
 */
content_type: string, 
/**
 * Bytes.
 */
length: number, 
/**
 * The bytes, base64.
 */
data: string, };

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

export type Resolved = { 
/**
 * Always `true`.
 */
ok: boolean, 
/**
 * Document id.
 */
id: string, 
/**
 * The revision kept (or the merge written on top of it).
 */
rev: string, 
/**
 * The revisions deleted.
 */
deleted: Array<string>, };

export type RevNode = { 
/**
 * `N-hash`.
 */
rev: string, 
/**
 * The revision it was written on top of (none: the first one known).
 */
parent: string | null, 
/**
 * A leaf of the tree.
 */
leaf: boolean, 
/**
 * A deleted leaf.
 */
deleted: boolean, 
/**
 * The winning revision.
 */
winner: boolean, 
/**
 * Its body is still stored (compaction drops the bodies of non-leaf revisions).
 */
available: boolean, };

export type Run = { 
/**
 * 1, 2, ... since the studio started.
 */
index: number, 
/**
 * When it ended (milliseconds since the Unix epoch).
 */
time: number, 
/**
 * Connector.
 */
connector: string, 
/**
 * Transaction.
 */
transaction: string, 
/**
 * Its type (`PostDocument`, ...).
 */
kind: string, 
/**
 * The values filled in.
 */
vars: { [key in string]?: JsonValue }, 
/**
 * The user it ran as (none: anonymous).
 */
user: string | null, 
/**
 * Whether it succeeded.
 */
ok: boolean, 
/**
 * What the client would receive.
 */
response: JsonValue, 
/**
 * Why it failed, and what to do.
 */
error: string | null, 
/**
 * Documents of the connector's database the run wrote (`id`, `rev`, `deleted`, `doc`).
 */
written: Array<{ id: string; rev: string; deleted: boolean; doc: JsonValue }>, 
/**
 * Milliseconds.
 */
ms: number, };

export type RunHistory = { 
/**
 * The runs since the studio started.
 */
runs: Array<Run>, };

export type SamplePreview = PreviewAnswer & { sample: { size: number; random: boolean; ids: Array<JsonValue> } };

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

export type SeeAs = { 
/**
 * Database.
 */
db: string, 
/**
 * The user (none: an anonymous device).
 */
user: string | null, 
/**
 * The user's groups.
 */
groups: Array<string>, 
/**
 * Documents the user receives.
 */
count: number, 
/**
 * Documents in the database.
 */
doc_count: number, 
/**
 * Ids of the documents the user receives.
 */
ids: Array<string>, };

export type SeedFile = { 
/**
 * Database (connector).
 */
db: string, 
/**
 * Project-relative file (`data/<db>.jsonl`).
 */
file: string, 
/**
 * Documents the file holds.
 */
documents: number, 
/**
 * Documents the database has (design documents aside).
 */
db_documents: number, 
/**
 * Whether it may be loaded (the database has no documents).
 */
loadable: boolean, };

export type SeedFiles = { 
/**
 * One per connector with a seed file.
 */
data: Array<SeedFile>, };

export type SeqRef = { 
/**
 * The sequence holding the step (`Project.Sequence`).
 */
sequence: string, 
/**
 * The step, as a path of bean names inside the sequence (`Block/Call_Get`).
 */
step: string, 
/**
 * `sourceTransaction` or `sourceSequence`.
 */
key: string, 
/**
 * The reference (`Project.connector.transaction`, `Project.Sequence`).
 */
value: string, 
/**
 * File holding it, relative to the Convertigo project folder.
 */
file: string, };

export type ServerChanges = { results: Array<{ id: string; seq: JsonValue; deleted?: boolean; changes: Array<{ rev: string }> }>; last_seq: JsonValue };

export type ServerDatabases = { 
/**
 * The server's welcome.
 */
server: Welcome, 
/**
 * Its databases (empty when listing them is forbidden: see `note`).
 */
databases: Array<string>, 
/**
 * Why the list is empty when the server refused it (`_all_dbs` needs an admin).
 */
note: string | null, 
/**
 * The server's URL (never with a password).
 */
url: string, };

export type ServerDocsPage = { total: number; rows: Array<{ id: string; key: string; value: { rev: string; deleted?: boolean } }> };

export type ServerInfo = { 
/**
 * Profile name.
 */
name: string, 
/**
 * `couchdb` or `convertigo`.
 */
kind: 'couchdb' | 'convertigo', 
/**
 * Server URL (no credentials).
 */
url: string, 
/**
 * User name.
 */
user: string | null, 
/**
 * CA certificate file trusted for this server.
 */
ca_file: string | null, 
/**
 * Where the password comes from: `not needed`, `environment`, `keyring` or `missing`.
 */
password: string, 
/**
 * The environment variable that gives the password.
 */
password_var: string, };

export type ServerList = { 
/**
 * Where the profiles are kept.
 */
config_dir: string, 
/**
 * Every profile, by name.
 */
servers: Array<ServerInfo>, };

export type ServerResolved = { ok: boolean; id: string; rev: string; deleted: Array<string> };

export type ServerSaved = { 
/**
 * The profile name saved.
 */
saved: string, 
/**
 * Whether a password went to the OS keyring.
 */
password_stored: boolean, 
/**
 * Why the password was not stored, and how to give it instead.
 */
warning?: string, };

export type ServerWritten = { ok: boolean; id: string; rev: string };

export type Severity = "error" | "warning";

export type Sheet = { 
/**
 * The item as its file holds it (a connector's settings, a listener, a transaction).
 */
item: Record<string, JsonValue>, 
/**
 * Listener and transaction: the connector's views (`ddoc/view`).
 */
views?: Array<string>, 
/**
 * Listener: the connector's filters (`ddoc/filter`) and `_doc_ids`.
 */
filters?: Array<string>, 
/**
 * Listener: the project's handler files.
 */
handlers?: Array<string>, 
/**
 * Listener: the project's sequences.
 */
sequences?: Array<string>, 
/**
 * Transaction: each transaction type with the properties it reads.
 */
catalog?: { [key in string]?: Array<PropertySpec> }, 
/**
 * Connector and transaction: Convertigo properties kept but not edited.
 */
kept?: Array<KeptProperty>, 
/**
 * Connector and transaction: `Sequence (step)` of every sequence step calling the item.
 */
used_by?: Array<string>, };

export type SheetKind = "connector" | "listener" | "transaction";

export type SheetSaved = { 
/**
 * The item's file (project-relative).
 */
file: string, 
/**
 * The project's diagnostics about that file.
 */
diagnostics: Array<Diagnostic>, 
/**
 * What syncing the project into the engine changed.
 */
sync: SyncReport, 
/**
 * The reloaded project (without `sync`).
 */
project: ProjectTree, };

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

export type SyncReport = { 
/**
 * Databases created.
 */
created_dbs: Array<string>, 
/**
 * Design documents written: `(db, ddoc id, views whose index must rebuild)`.
 */
updated: Array<[string, string, Array<string>]>, 
/**
 * Design documents already up to date.
 */
unchanged: number, 
/**
 * Errors (a design document the engine refused, with why).
 */
errors: Array<string>, };

export type SyncState = "idle" | "syncing" | "synced" | "error";

export type SyncStatus = { 
/**
 * State.
 */
state: SyncState, 
/**
 * Increases by one with every applied change, whatever its source: a screen that saw
 * another generation reloads the project tree.
 */
generation: number, 
/**
 * What went wrong (state `error`), else a short summary.
 */
message: string, 
/**
 * Where the last change came from: `open`, `studio` or `disk`.
 */
source: string, 
/**
 * Project-relative files of the last change seen on disk (empty for the studio's own).
 */
paths: Array<string>, 
/**
 * Design documents the last change wrote into the engine (`db/_design/x`).
 */
updated: Array<string>, 
/**
 * When the last change was applied (milliseconds since the Unix epoch).
 */
at: number, };

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

export type TestKind = "filter" | "validate";

export type TestResult = { 
/**
 * Test name.
 */
name: string, 
/**
 * Its file (project-relative).
 */
file: string, 
/**
 * Connector.
 */
connector: string, 
/**
 * `ddoc/view`.
 */
view: string, 
/**
 * The view's map file, when the view is named `ddoc/view`.
 */
view_path: string | null, 
/**
 * Whether it passed.
 */
ok: boolean, 
/**
 * What differs (empty when it passed).
 */
diff: string, 
/**
 * Milliseconds.
 */
ms: number, };

export type TestRun = { 
/**
 * Each test run.
 */
results: Array<TestResult>, 
/**
 * Tests passed.
 */
passed: number, 
/**
 * Tests failed.
 */
failed: number, 
/**
 * Milliseconds in all.
 */
ms: number, };

export type TimedFind = { 
/**
 * The `_find` answer.
 */
result: FindResult, 
/**
 * Milliseconds, as the studio measured them (network included).
 */
ms: number, };

export type TransactionInfo = { 
/**
 * Its connector (database).
 */
connector: string, 
/**
 * Its name.
 */
name: string, 
/**
 * Its kind (`GetView`, `PostDocument`, ...).
 */
kind: string, 
/**
 * Its variables.
 */
variables: Array<Variable>, 
/**
 * Its kind runs locally.
 */
supported: boolean, };

export type TransactionList = { 
/**
 * Every transaction of every connector, in project order.
 */
transactions: Array<TransactionInfo>, 
/**
 * The transaction kinds that run locally.
 */
supported: Array<string>, };

export type TreeNode = { 
/**
 * Label.
 */
name: string, 
/**
 * `project`, `connector`, `ddoc`, `view`, `file`, `folder`, `listener`, `transaction`,
 * `filter`, `validate`, `lib`, `index` (project-level files: `manifest`, `handler`,
 * `test`, `data`).
 */
kind: string, 
/**
 * Project-relative file path, for nodes that open a file.
 */
path?: string, 
/**
 * Children.
 */
children?: Array<TreeNode>, };

export type UsedBy = { 
/**
 * The sequence steps calling the item.
 */
used_by: Array<SeqRef>, };

export type Variable = { 
/**
 * Name.
 */
name: string, 
/**
 * Description.
 */
description?: string, 
/**
 * Default value.
 */
default?: JsonValue, 
/**
 * Must be given.
 */
required?: boolean, 
/**
 * Takes a list of values.
 */
multi_valued?: boolean, 
/**
 * Schema type (`xsd:string`, `xsd:boolean`, ...).
 */
schema_type: string, };

export type ViewQueryAnswer = { 
/**
 * The view's rows.
 */
result: ViewRows, 
/**
 * Milliseconds the query took.
 */
ms: number, };

export type ViewRows = { rows: Array<{ id?: string; key: JsonValue; value: JsonValue; doc?: JsonValue }>; total_rows?: number; offset?: number; update_seq?: JsonValue };

export type ViewSource = { 
/**
 * View name.
 */
name: string, 
/**
 * Map source.
 */
map: string, 
/**
 * Reduce source or builtin (`_count`, ...), if any.
 */
reduce: string | null, };

export type Welcome = { couchdb?: string; version?: string; vendor?: { name?: string; version?: string }; [key: string]: JsonValue };

export type Written = { 
/**
 * Always `true`.
 */
ok: boolean, 
/**
 * Document id.
 */
id: string, 
/**
 * The new revision.
 */
rev: string, };

/** The answer of each command. */
export interface Answers {
  project_open: ProjectTree;
  project_tree: ProjectTree;
  project_edit: ProjectTree;
  part_edit: PartEdited;
  sync_status: SyncStatus;
  transaction_run: Run;
  transaction_history: RunHistory;
  sample_data: SeedFiles;
  sample_data_load: LoadedData;
  transactions_list: TransactionList;
  mango_query: MangoAnswer;
  project_check: ProjectCheck;
  docs_page: DocsPage;
  doc_tree: DocTree;
  doc_fields: DocFields;
  fn_test: FnTestAnswer;
  tests_run: TestRun;
  used_by: UsedBy;
  git: GitAnswer;
  projects_recent: RecentProjects;
  dir_list: DirListing;
  project_import_c8o: ProjectTree;
  studio_info: StudioInfo;
  sheet_get: Sheet;
  sheet_save: SheetSaved;
  file_read: FileText;
  file_write: ProjectTree;
  preview: PreviewAnswer;
  view_query: ViewQueryAnswer;
  databases: Array<DatabaseInfo>;
  docs_list: DocsList;
  doc_get: Document;
  doc_put: Written;
  doc_delete: Written;
  changes: ChangesPage;
  doc_revisions: Array<Document>;
  doc_resolve: Resolved;
  listener_activity: Activity;
  replication_start: JobStatus;
  replication_status: Array<JobStatus>;
  replication_cancel: JobStatus;
  replication_dismiss: Done;
  see_as: SeeAs;
  servers_list: ServerList;
  server_save: ServerSaved;
  deploy_plan: PlanAnswer;
  deploy_apply: DeployStatus;
  deploy_history: History;
  deploy_status: Array<DeployStatus>;
  deploy_dismiss: Done;
  attachment_put: Written;
  attachment_get: Attachment;
  attachment_delete: Written;
  remote: AnyRemoteAnswer;
}

/** The answer of each op of the `remote` command. */
export interface RemoteAnswers {
  connections: Array<Connection>;
  login: LoginAnswer;
  logout: Done;
  databases: ServerDatabases;
  db_info: CouchJson;
  docs_list: ServerDocsPage;
  doc_get: CouchJson;
  doc_put: ServerWritten;
  doc_delete: ServerWritten;
  doc_revisions: Array<CouchJson>;
  doc_resolve: ServerResolved;
  attachment_get: RemoteAttachment;
  attachment_put: ServerWritten;
  attachment_delete: ServerWritten;
  changes: ServerChanges;
  design_docs: Array<DesignDocViews>;
  view_query: ViewQueryAnswer;
  find: TimedFind;
  explain: ExplainResult;
  preview_sample: SamplePreview;
  compare: CompareAnswer;
  pull_sample: JobStatus;
}

/** A `remote` op's name. */
export type RemoteOpName = RemoteOp['op'];

/** The arguments of `remote` op `O`. */
export type RemoteArgsOf<O extends RemoteOpName> = Extract<RemoteOp, { op: O }>;

/** A command's name. */
export type Command = Request['cmd'];

/** The arguments of command `C` (`undefined` for commands without any). */
export type ArgsOf<C extends Command> = Extract<Request, { cmd: C }> extends { args: infer A } ? A : undefined;

/** The answer of command `C`. */
export type AnswerOf<C extends Command> = Answers[C];

/** What follows the name of command `C` in a call: nothing, its arguments, or its optional arguments. */
export type ArgsRest<C extends Command> = ArgsOf<C> extends undefined ? [] : {} extends ArgsOf<C> ? [args?: ArgsOf<C>] : [args: ArgsOf<C>];
