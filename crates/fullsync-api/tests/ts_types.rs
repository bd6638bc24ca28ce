//! The UI's TypeScript declarations of the command surface (`ui/src/api-types.ts`) are
//! generated from the Rust types with ts-rs. This test fails when the committed file is stale;
//! `UPDATE_TS_TYPES=1 cargo test -p fullsync-api --test ts_types` rewrites it.

use fullsync_api::{
    browse, deploy, parts, project_ops, remote, replication, sheets, ApiError, ErrorCode, Request,
    StudioInfo,
};
use ts_rs::TS;

fn generated() -> String {
    let mut out = String::from(
        "// Generated from crates/fullsync-api by ts-rs: do not edit.\n\
         // Regenerate with `UPDATE_TS_TYPES=1 cargo test -p fullsync-api --test ts_types`.\n\n",
    );
    // Documents, view keys and query options are any JSON.
    out.push_str("/** Any JSON value (documents, keys, query options). */\nexport type JsonValue = unknown;\n\n");
    for decl in [
        Request::decl(),
        ErrorCode::decl(),
        ApiError::decl(),
        project_ops::ItemKind::decl(),
        project_ops::Target::decl(),
        project_ops::Edit::decl(),
        project_ops::GitOp::decl(),
        parts::PartEdit::decl(),
        replication::Mode::decl(),
        replication::StartArgs::decl(),
        deploy::SaveArgs::decl(),
        sheets::SheetKind::decl(),
        StudioInfo::decl(),
        browse::DocsPageArgs::decl(),
        browse::FnTestArgs::decl(),
        browse::TestKind::decl(),
        remote::RemoteOp::decl(),
        remote::Endpoint::decl(),
    ] {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.push_str(
        "/** A command's name. */\nexport type Command = Request['cmd'];\n\n\
         /** The arguments of command `C` (`undefined` for commands without any). */\n\
         export type ArgsOf<C extends Command> = Extract<Request, { cmd: C }> extends { args: infer A } ? A : undefined;\n\n\
         /** `(cmd, args)` of every command; `args` may be left out when none of its fields is required. */\n\
         export type CallArgs = { [K in Command]: ArgsOf<K> extends undefined ? [cmd: K] : {} extends ArgsOf<K> ? [cmd: K, args?: ArgsOf<K>] : [cmd: K, args: ArgsOf<K>] }[Command];\n",
    );
    out
}

#[test]
fn ui_types_are_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/api-types.ts");
    let want = generated();
    if std::env::var_os("UPDATE_TS_TYPES").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "ui/src/api-types.ts is stale: the command surface changed. Regenerate it with \
         `UPDATE_TS_TYPES=1 cargo test -p fullsync-api --test ts_types` and commit it."
    );
}
