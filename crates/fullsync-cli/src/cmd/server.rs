//! `fullsync server`: manage server profiles (no secrets are stored: passwords come from FULLSYNC_SERVER_<NAME>_PASSWORD or the studio's keyring).

use std::path::PathBuf;

use clap::Subcommand;

/// The arguments of `fullsync server`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: ServerCmd,
}

/// Runs `fullsync server`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args { cmd } = args;
    match cmd {
        ServerCmd::Add {
            name,
            url,
            kind,
            user,
            ca_file,
            store_password,
        } => {
            let kind = match kind.as_str() {
                "couchdb" => fullsync_deploy::profiles::ServerKind::Couchdb,
                "convertigo" => fullsync_deploy::profiles::ServerKind::Convertigo,
                other => anyhow::bail!("--kind {other} is not couchdb or convertigo"),
            };
            if !url.starts_with("http://") && !url.starts_with("https://") {
                anyhow::bail!("--url must start with http:// or https://");
            }
            if url.contains('@') {
                anyhow::bail!(
                    "put no credentials in the URL: use --user and FULLSYNC_SERVER_<NAME>_PASSWORD"
                );
            }
            let p = fullsync_deploy::profiles::ServerProfile {
                name: name.clone(),
                kind,
                url,
                user: user.clone(),
                ca_file,
            };
            fullsync_deploy::profiles::save(&p)?;
            if store_password {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                let pw = line.trim_end_matches(['\r', '\n']);
                if pw.is_empty() {
                    anyhow::bail!(
                        "--store-password reads the password from standard input; it was empty"
                    );
                }
                fullsync_deploy::profiles::store_password(&p, pw)?;
                eprintln!("stored the password of `{name}` in the OS keyring");
            }
            eprintln!("saved server `{name}`");
            if user.is_some() {
                eprintln!(
                    "its password is read from {}",
                    fullsync_deploy::profiles::password_var(&name)
                );
            }
            Ok(())
        }
        ServerCmd::List => {
            for (name, p) in fullsync_deploy::profiles::load()? {
                println!(
                    "{name}\t{:?}\t{}\t{}",
                    p.kind,
                    p.url,
                    p.user.unwrap_or_default()
                );
            }
            Ok(())
        }
        ServerCmd::Remove { name } => Ok(fullsync_deploy::profiles::remove(&name)?),
    }
}

/// The subcommands of `fullsync server`.
#[derive(Subcommand)]
pub enum ServerCmd {
    /// Add or replace a profile.
    Add {
        /// Profile name.
        name: String,
        /// Base URL (http(s)://host:port).
        #[arg(long)]
        url: String,
        /// couchdb or convertigo.
        #[arg(long, default_value = "couchdb")]
        kind: String,
        /// User name.
        #[arg(long)]
        user: Option<String>,
        /// PEM file of the CA that signed the server's certificate (internal CAs).
        #[arg(long)]
        ca_file: Option<PathBuf>,
        /// Read the password from standard input and store it in the OS keyring.
        #[arg(long)]
        store_password: bool,
    },
    /// List profiles.
    List,
    /// Remove a profile.
    Remove {
        /// Profile name.
        name: String,
    },
}
