//! What an installed `fullsync` says and serves by itself: `--version` names the commit,
//! `completions` writes working shell completions, and `serve --studio` run from an empty folder
//! serves the studio's UI compiled into the binary, with its Content Security Policy.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_fullsync");

/// The commit the build should name: as build.rs finds it.
fn expected_commit() -> String {
    if let Ok(c) = std::env::var("FULLSYNC_COMMIT") {
        if !c.trim().is_empty() {
            return c.trim().to_string();
        }
    }
    Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

#[test]
fn version_names_the_version_and_the_commit() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!(
            "fullsync {} (commit {})",
            env!("CARGO_PKG_VERSION"),
            expected_commit()
        )
    );
}

fn completions(shell: &str) -> String {
    let out = Command::new(BIN)
        .args(["completions", shell])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    let zsh = completions("zsh");
    assert!(zsh.starts_with("#compdef fullsync"), "{zsh:.200}");
    assert!(zsh.contains("'completions:Print the shell completion script"));
    let fish = completions("fish");
    assert!(fish.contains("complete -c fullsync"), "{fish:.200}");
    assert!(fish.contains("-a \"serve\""));
    let bash = completions("bash");
    assert!(bash.contains("complete -F _fullsync"), "{bash:.200}");
    // What bash offers after `fullsync se` and `fullsync completions `, when bash is here.
    if Command::new("bash").arg("--version").output().is_err() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("fullsync.bash");
    std::fs::write(&script, &bash).unwrap();
    let offer = |line: &str| -> Vec<String> {
        let words: Vec<&str> = line.split(' ').collect();
        let probe = format!(
            "source {}; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{line}'; COMP_POINT={}; _fullsync fullsync '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
            words.len() - 1,
            line.len(),
            words[words.len() - 1],
            words[words.len() - 2],
        );
        let out = Command::new("bash")
            .args(["--norc", "-c", &probe])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .filter(|l| !l.is_empty())
            .collect();
        v.sort();
        v
    };
    assert_eq!(offer("fullsync se"), ["see-as", "serve", "server"]);
    let shells = offer("fullsync completions ");
    for shell in ["bash", "zsh", "fish"] {
        assert!(shells.contains(&shell.to_string()), "{shells:?}");
    }
}

/// GET `path` on 127.0.0.1:`port`: (status, head, body).
fn get(port: u16, path: &str) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head, raw[split + 4..].to_vec())
}

#[test]
fn serve_studio_from_an_empty_folder_serves_the_compiled_in_ui_with_its_csp() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let ui_built = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../ui/dist/index.html"
    ))
    .is_file();
    let mut child = Command::new(BIN)
        .args(["serve", "--studio", "--port", "0", "--data"])
        .arg(dir.path().join("data"))
        .current_dir(&empty)
        .env("FULLSYNC_CONFIG_DIR", dir.path().join("config"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Kept open until the end: the server prints more lines (the studio's URL).
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    if !ui_built {
        // Built without the UI: the error says how to get it.
        let status = child.wait().unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert!(!status.success());
        assert!(err.contains("built without the studio's UI"), "{err}");
        return;
    }
    let port: u16 = line
        .trim()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
    let (status, head, body) = get(port, "/_studio/");
    // The page's one script: the small entry (ui/src/main.ts) that loads the rest.
    let page = String::from_utf8_lossy(&body).to_string();
    let entry = page
        .split("<script type=\"module\" crossorigin src=\"./")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no module script in the page: {page}"))
        .to_string();
    let (entry_status, entry_head, _) = get(port, &format!("/_studio/{entry}"));
    let (missing, _, _) = get(port, "/_studio/assets/nothing-here.js");
    let mut studio_line = String::new();
    stdout.read_line(&mut studio_line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200, "{head}");
    assert_eq!(page.matches("<script").count(), 1, "{page}");
    assert!(
        head.contains("content-security-policy: default-src 'self'; script-src 'self';"),
        "{head}"
    );
    assert_eq!(entry_status, 200);
    assert!(
        entry_head.contains("content-type: text/javascript"),
        "{entry_head}"
    );
    assert_eq!(missing, 404);
    assert!(
        studio_line.starts_with("Studio (web mode): http://127.0.0.1:"),
        "{studio_line}"
    );
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
}
