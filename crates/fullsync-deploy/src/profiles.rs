//! Server profiles: where to deploy. Profiles live in the user's configuration
//! (`$FULLSYNC_CONFIG_DIR/servers.toml`, default `~/.config/fullsync/servers.toml`), never in a
//! project, and never hold secrets: passwords come from the environment
//! (`FULLSYNC_SERVER_<NAME>_PASSWORD`, the headless/CI path) or from the OS keyring
//! (`fullsync server add --user U --store-password`, or the studio).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What kind of server a profile points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerKind {
    /// A CouchDB-compatible server (CouchDB, pouchdb-server, fullsync serve).
    Couchdb,
    /// A Convertigo server (deployed with a .car through its admin API).
    Convertigo,
}

/// A server profile (no secrets).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerProfile {
    /// Profile name (`staging`, `production`).
    #[serde(skip)]
    pub name: String,
    /// Kind.
    pub kind: ServerKind,
    /// Base URL (`https://couch.example.com:6984`).
    pub url: String,
    /// User name, if the server needs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// A PEM file of extra trusted CA certificates (TLS is verified by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

/// Errors of profiles.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// No such profile.
    #[error("no server profile named `{0}`; add one with `fullsync server add {0} --url URL`")]
    Unknown(String),
    /// The configuration file is broken.
    #[error("{0}")]
    Config(String),
    /// The password is not available.
    #[error(
        "no password for server `{name}`: set {var} (or store it in the keyring from the studio)"
    )]
    NoPassword {
        /// Profile.
        name: String,
        /// Environment variable to set.
        var: String,
    },
}

/// The configuration folder.
pub fn config_dir() -> PathBuf {
    if let Ok(d) = std::env::var("FULLSYNC_CONFIG_DIR") {
        return PathBuf::from(d);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| ".".into());
    PathBuf::from(home).join(".config").join("fullsync")
}

fn file() -> PathBuf {
    config_dir().join("servers.toml")
}

/// All profiles, by name.
pub fn load() -> Result<BTreeMap<String, ServerProfile>, ProfileError> {
    let f = file();
    let Ok(text) = std::fs::read_to_string(&f) else {
        return Ok(BTreeMap::new());
    };
    let mut m: BTreeMap<String, ServerProfile> =
        toml::from_str(&text).map_err(|e| ProfileError::Config(format!("{}: {e}", f.display())))?;
    for (k, v) in m.iter_mut() {
        v.name = k.clone();
    }
    Ok(m)
}

/// One profile.
pub fn get(name: &str) -> Result<ServerProfile, ProfileError> {
    load()?
        .remove(name)
        .ok_or_else(|| ProfileError::Unknown(name.into()))
}

/// Adds or replaces a profile.
pub fn save(p: &ServerProfile) -> Result<(), ProfileError> {
    let mut all = load()?;
    all.insert(p.name.clone(), p.clone());
    let text = toml::to_string(&all).map_err(|e| ProfileError::Config(e.to_string()))?;
    let f = file();
    std::fs::create_dir_all(config_dir()).map_err(|e| ProfileError::Config(e.to_string()))?;
    std::fs::write(&f, text).map_err(|e| ProfileError::Config(format!("{}: {e}", f.display())))
}

/// Removes a profile.
pub fn remove(name: &str) -> Result<(), ProfileError> {
    let mut all = load()?;
    all.remove(name)
        .ok_or_else(|| ProfileError::Unknown(name.into()))?;
    let text = toml::to_string(&all).map_err(|e| ProfileError::Config(e.to_string()))?;
    std::fs::write(file(), text).map_err(|e| ProfileError::Config(e.to_string()))
}

/// The environment variable holding a profile's password.
pub fn password_var(name: &str) -> String {
    let n: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("FULLSYNC_SERVER_{n}_PASSWORD")
}

/// Service name of FullSync Studio's entries in the OS keyring.
pub const KEYRING_SERVICE: &str = "fullsync-studio";

fn keyring_entry(p: &ServerProfile) -> Option<keyring::Entry> {
    let user = p.user.as_deref()?;
    keyring::Entry::new(KEYRING_SERVICE, &format!("{}:{user}", p.name)).ok()
}

/// Stores a profile's password in the OS keyring.
pub fn store_password(p: &ServerProfile, password: &str) -> Result<(), ProfileError> {
    let e = keyring_entry(p)
        .ok_or_else(|| ProfileError::Config(format!("server `{}` has no user", p.name)))?;
    e.set_password(password).map_err(|e| {
        ProfileError::Config(format!("cannot store the password in the OS keyring: {e}"))
    })
}

/// Removes a profile's password from the OS keyring.
pub fn forget_password(p: &ServerProfile) {
    if let Some(e) = keyring_entry(p) {
        let _ = e.delete_credential();
    }
}

/// The password of a profile that has a user: from `FULLSYNC_SERVER_<NAME>_PASSWORD` when set
/// (the headless/CI path, which wins), else from the OS keyring.
pub fn password(p: &ServerProfile) -> Result<Option<String>, ProfileError> {
    if p.user.is_none() {
        return Ok(None);
    }
    let var = password_var(&p.name);
    if let Ok(v) = std::env::var(&var) {
        return Ok(Some(v));
    }
    if let Some(pw) = keyring_entry(p).and_then(|e| e.get_password().ok()) {
        return Ok(Some(pw));
    }
    Err(ProfileError::NoPassword {
        name: p.name.clone(),
        var,
    })
}

/// The local admin of `fullsync serve` when no `--admin` is given: its name and password, and
/// whether it was just created (then the caller shows the password once). The password is
/// random, kept in `local-admin.json` of the configuration folder (mode 0600 on Unix), never
/// in a project or a log.
pub fn local_admin() -> Result<(String, String, bool), ProfileError> {
    let path = config_dir().join("local-admin.json");
    let shown = |e: &dyn std::fmt::Display| {
        ProfileError::Config(format!(
            "cannot read or create the local admin file local-admin.json in the configuration folder ({e}); set FULLSYNC_CONFIG_DIR to a writable folder, or start with --admin NAME"
        ))
    };
    if let Ok(text) = std::fs::read_to_string(&path) {
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| shown(&e))?;
        let name = v["name"].as_str().unwrap_or("admin").to_string();
        let password = v["password"]
            .as_str()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| shown(&"no password in it"))?
            .to_string();
        return Ok((name, password, false));
    }
    std::fs::create_dir_all(config_dir()).map_err(|e| shown(&e))?;
    let password = fullsync_engine::doc::new_uuid();
    let text = serde_json::json!({"name": "admin", "password": password}).to_string();
    let tmp = path.with_extension("json.tmp");
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp).map_err(|e| shown(&e))?;
        std::io::Write::write_all(&mut f, text.as_bytes()).map_err(|e| shown(&e))?;
    }
    std::fs::rename(&tmp, &path).map_err(|e| shown(&e))?;
    Ok(("admin".into(), password, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_from_env_then_keyring() {
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
        let p = ServerProfile {
            name: "prod-1".into(),
            kind: ServerKind::Couchdb,
            url: "https://h".into(),
            user: Some("deployer".into()),
            ca_file: None,
        };
        assert_eq!(password_var("prod-1"), "FULLSYNC_SERVER_PROD_1_PASSWORD");
        // Nothing in the environment nor the keyring: the error names the variable to set.
        let err = password(&p).unwrap_err().to_string();
        assert!(err.contains("FULLSYNC_SERVER_PROD_1_PASSWORD"), "{err}");
        store_password(&p, "s3cret").unwrap();
        let anonymous = ServerProfile {
            user: None,
            ..p.clone()
        };
        assert_eq!(password(&anonymous).unwrap(), None);
        std::env::set_var("FULLSYNC_SERVER_PROD_1_PASSWORD", "from-env");
        assert_eq!(
            password(&p).unwrap().as_deref(),
            Some("from-env"),
            "the environment wins"
        );
        std::env::remove_var("FULLSYNC_SERVER_PROD_1_PASSWORD");
        forget_password(&p);
    }
}
