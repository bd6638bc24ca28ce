//! Folders that messages shown to users never name: the data folder and the user's home.
//! One home for the rule, used by the HTTP API (error answers) and the studio (error messages).

use std::path::Path;

/// The folders to hide, longest first (a data folder under the home shows as "the data
/// folder", not "~/..."), each with the words shown instead: `data` (as given and canonical)
/// as "the data folder", `$HOME`/`%USERPROFILE%` as "~".
pub fn private_dirs(data: Option<&Path>) -> Vec<(String, &'static str)> {
    let mut dirs = vec![];
    if let Some(d) = data {
        if let Ok(c) = d.canonicalize() {
            dirs.push((c.to_string_lossy().to_string(), "the data folder"));
        }
        dirs.push((d.to_string_lossy().to_string(), "the data folder"));
    }
    for var in ["HOME", "USERPROFILE"] {
        if let Some(h) = std::env::var_os(var).filter(|h| h.len() > 1) {
            dirs.push((h.to_string_lossy().to_string(), "~"));
        }
    }
    dirs.sort_by_key(|(d, _)| std::cmp::Reverse(d.len()));
    dirs
}

/// `message` with each of `dirs` (from [`private_dirs`]) replaced by its words.
pub fn scrub(message: &str, dirs: &[(String, &'static str)]) -> String {
    let mut out = message.to_string();
    for (d, name) in dirs {
        if !d.is_empty() && out.contains(d.as_str()) {
            out = out.replace(d.as_str(), name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_folder_wins_over_the_home() {
        let dirs = vec![
            ("/home/u/data".to_string(), "the data folder"),
            ("/home/u".to_string(), "~"),
        ];
        assert_eq!(
            scrub("cannot open /home/u/data/x.redb nor /home/u/y", &dirs),
            "cannot open the data folder/x.redb nor ~/y"
        );
    }
}
