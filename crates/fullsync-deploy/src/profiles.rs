//! Server profiles: where to deploy. Profiles live in the user's configuration
//! (`$FULLSYNC_CONFIG_DIR/servers.toml`, default `~/.config/fullsync/servers.toml`), never in a
//! project, and never hold secrets: passwords come from the environment
//! (`FULLSYNC_SERVER_<NAME>_PASSWORD`, the headless/CI path) or, in the studio, from the OS
//! keyring.

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

/// The password of a profile that has a user.
pub fn password(p: &ServerProfile) -> Result<Option<String>, ProfileError> {
    if p.user.is_none() {
        return Ok(None);
    }
    let var = password_var(&p.name);
    match std::env::var(&var) {
        Ok(v) => Ok(Some(v)),
        Err(_) => Err(ProfileError::NoPassword {
            name: p.name.clone(),
            var,
        }),
    }
}
