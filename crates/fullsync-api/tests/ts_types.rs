//! The UI's TypeScript declarations of the command surface (`ui/src/api-types.ts`) are
//! generated from the Rust types with ts-rs. This test fails when the committed file is stale;
//! `UPDATE_TS_TYPES=1 cargo test -p fullsync-api --test ts_types` rewrites it.

use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};

use fullsync_api::remote::RemoteOp;
use fullsync_api::{ApiError, ErrorCode, Request};
use ts_rs::{TypeVisitor, TS};

/// Collects the declaration of every named type reachable from the visited ones.
#[derive(Default)]
struct Decls {
    seen: HashSet<TypeId>,
    decls: BTreeMap<String, String>,
}

impl TypeVisitor for Decls {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        // Named types (those ts-rs can export) are declared; `serde_json::Value` is declared
        // by hand (`JsonValue = unknown`): documents, keys and options are any JSON.
        if T::output_path().is_some() && T::ident() != "JsonValue" {
            let old = self.decls.insert(T::ident(), T::decl());
            assert!(
                old.is_none(),
                "two types are named {} in TypeScript: rename one",
                T::ident()
            );
        }
        T::visit_dependencies(self);
        T::visit_generics(self);
    }
}

fn generated() -> String {
    let mut out = String::from(
        "// Generated from crates/fullsync-api by ts-rs: do not edit.\n\
         // Regenerate with `UPDATE_TS_TYPES=1 cargo test -p fullsync-api --test ts_types`.\n\n",
    );
    // Documents, view keys and query options are any JSON.
    out.push_str("/** Any JSON value (documents, keys, query options). */\nexport type JsonValue = unknown;\n\n");
    let mut d = Decls::default();
    d.visit::<Request>();
    d.visit::<ErrorCode>();
    d.visit::<ApiError>();
    Request::visit_answers(&mut d);
    RemoteOp::visit_answers(&mut d);
    for decl in d.decls.values() {
        out.push_str("export ");
        out.push_str(decl);
        out.push_str("\n\n");
    }
    out.push_str("/** The answer of each command. */\nexport interface Answers {\n");
    for (cmd, ty) in Request::answer_types() {
        out.push_str(&format!("  {cmd}: {ty};\n"));
    }
    out.push_str("}\n\n");
    out.push_str(
        "/** The answer of each op of the `remote` command. */\nexport interface RemoteAnswers {\n",
    );
    for (op, ty) in RemoteOp::answer_types() {
        out.push_str(&format!("  {op}: {ty};\n"));
    }
    out.push_str("}\n\n");
    out.push_str(
        "/** A `remote` op's name. */\nexport type RemoteOpName = RemoteOp['op'];\n\n\
         /** The arguments of `remote` op `O`. */\nexport type RemoteArgsOf<O extends RemoteOpName> = Extract<RemoteOp, { op: O }>;\n\n",
    );
    out.push_str(
        "/** A command's name. */\nexport type Command = Request['cmd'];\n\n\
         /** The arguments of command `C` (`undefined` for commands without any). */\n\
         export type ArgsOf<C extends Command> = Extract<Request, { cmd: C }> extends { args: infer A } ? A : undefined;\n\n\
         /** The answer of command `C`. */\n\
         export type AnswerOf<C extends Command> = Answers[C];\n\n\
         /** What follows the name of command `C` in a call: nothing, its arguments, or its optional arguments. */\n\
         export type ArgsRest<C extends Command> = ArgsOf<C> extends undefined ? [] : {} extends ArgsOf<C> ? [args?: ArgsOf<C>] : [args: ArgsOf<C>];\n",
    );
    out
}

/// The tags (`"tag": "..."`) of a serde-tagged enum, from its TypeScript declaration.
fn tags(decl: &str, tag: &str) -> Vec<String> {
    decl.split(&format!("\"{tag}\": \""))
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

/// The command names of `Request` (its `cmd` tags), from its TypeScript declaration.
fn request_commands() -> Vec<String> {
    tags(&Request::decl(), "cmd")
}

#[test]
fn every_remote_op_has_an_answer_type() {
    let mut want = tags(&RemoteOp::decl(), "op");
    let mut have: Vec<String> = RemoteOp::answer_types()
        .into_iter()
        .map(|(c, _)| c.to_string())
        .collect();
    assert!(want.len() > 20, "cannot read the ops of RemoteOp: {want:?}");
    want.sort();
    have.sort();
    assert_eq!(
        want, have,
        "the ops table in crates/fullsync-api/src/remote.rs must list every RemoteOp once, under its wire name"
    );
}

#[test]
fn every_command_has_an_answer_type() {
    let mut want = request_commands();
    let mut have: Vec<String> = Request::answer_types()
        .into_iter()
        .map(|(c, _)| c.to_string())
        .collect();
    assert!(
        want.len() > 30,
        "cannot read the commands of Request: {want:?}"
    );
    want.sort();
    have.sort();
    assert_eq!(
        want, have,
        "the command table in crates/fullsync-api/src/lib.rs must list every Request command once, under its wire name"
    );
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
