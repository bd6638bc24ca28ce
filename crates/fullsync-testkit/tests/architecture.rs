//! ARCHITECTURE.md against `cargo metadata`: its crate table lists exactly the workspace's
//! members, each with its real workspace dependencies, and its dependency graph has the same
//! edges as the real graph once transitive ones are left out (every arrow a real dependency,
//! and the same crates reachable from each crate).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

type Graph = BTreeMap<String, BTreeSet<String>>;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The workspace's members and their normal (not dev, not build) workspace dependencies.
fn real_graph() -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let names: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str())
                .filter(|n| names.contains(*n))
                .map(str::to_string)
                .collect();
            (p["name"].as_str().unwrap().to_string(), deps)
        })
        .collect()
}

/// The words in backticks of a piece of Markdown.
fn ticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The crate table of the `## Crates` section: crate -> `depends on`.
fn table(md: &str) -> Graph {
    let section = md
        .split("\n## Crates")
        .nth(1)
        .expect("ARCHITECTURE.md has a `## Crates` section")
        .split("\n## ")
        .next()
        .unwrap();
    let mut out = Graph::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        assert!(cells.len() >= 4, "a crate row has 4 columns: {line}");
        let name = ticked(cells[0]).into_iter().next().unwrap();
        let deps = ticked(cells[cells.len() - 1]).into_iter().collect();
        assert!(
            out.insert(name.clone(), deps).is_none(),
            "{name} is listed twice"
        );
    }
    out
}

/// The mermaid graph of the `## Dependency graph` section: crate -> crates it points to.
fn diagram(md: &str) -> Graph {
    let block = md
        .split("```mermaid")
        .nth(1)
        .expect("ARCHITECTURE.md has a mermaid graph")
        .split("```")
        .next()
        .unwrap();
    let mut labels = BTreeMap::new();
    let mut edges = vec![];
    for line in block.lines().map(str::trim) {
        if let Some((from, to)) = line.split_once("-->") {
            edges.push((from.trim().to_string(), to.trim().to_string()));
        } else if let Some((id, rest)) = line.split_once("[\"") {
            labels.insert(id.to_string(), rest.trim_end_matches("\"]").to_string());
        }
    }
    let mut out: Graph = labels
        .values()
        .map(|l| (l.clone(), BTreeSet::new()))
        .collect();
    for (from, to) in edges {
        let name = |id: &str| {
            labels
                .get(id)
                .unwrap_or_else(|| panic!("node `{id}` of the graph has no label"))
                .clone()
        };
        out.get_mut(&name(&from)).unwrap().insert(name(&to));
    }
    out
}

fn reachable(g: &Graph, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&String> = g[from].iter().collect();
    while let Some(n) = todo.pop() {
        if seen.insert(n.clone()) {
            todo.extend(g.get(n).into_iter().flatten());
        }
    }
    seen
}

#[test]
fn architecture_md_matches_cargo_metadata() {
    let md = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let real = real_graph();
    let members: BTreeSet<&String> = real.keys().collect();

    let listed = table(&md);
    let in_table: BTreeSet<&String> = listed.keys().collect();
    assert_eq!(
        in_table, members,
        "ARCHITECTURE.md's crate table lists other crates than the workspace has"
    );
    for (name, deps) in &listed {
        assert_eq!(
            deps, &real[name],
            "ARCHITECTURE.md: `depends on` of {name} is not what its Cargo.toml says"
        );
    }

    let drawn = diagram(&md);
    let in_graph: BTreeSet<&String> = drawn.keys().collect();
    assert_eq!(
        in_graph, members,
        "ARCHITECTURE.md's dependency graph draws other crates than the workspace has"
    );
    for (name, to) in &drawn {
        for t in to {
            assert!(
                real[name].contains(t),
                "ARCHITECTURE.md's graph draws {name} --> {t}, which is not a dependency"
            );
        }
        assert_eq!(
            reachable(&drawn, name),
            reachable(&real, name),
            "ARCHITECTURE.md's graph: what {name} reaches differs from the real graph"
        );
    }
}

#[test]
fn the_parsers_see_a_difference() {
    // The checks above can fail: a table without a crate, or a wrong dependency, differs.
    let md = "# A\n\n## Crates\n\n| crate | owns | types | depends on |\n|---|---|---|---|\n| `a` | x | y | `b` |\n| `b` | x | y | |\n\n## Next\n\n```mermaid\ngraph TD\n    a[\"a\"]\n    b[\"b\"]\n    a --> b\n```\n";
    let t = table(md);
    assert_eq!(t["a"], BTreeSet::from(["b".to_string()]));
    assert!(t["b"].is_empty());
    let d = diagram(md);
    assert_eq!(reachable(&d, "a"), BTreeSet::from(["b".to_string()]));
    assert!(reachable(&d, "b").is_empty());
}
