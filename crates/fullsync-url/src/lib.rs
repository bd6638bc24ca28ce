//! URL pieces as CouchDB clients and servers write them, in one place for the HTTP API, the
//! replicator, deploy and the studio: percent-encoding and -decoding, document paths, and
//! credentials in URLs (split out of a URL, or masked for display).

/// A `%` escape that is not `%` and two hex digits, or decoded bytes that are not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// The decoded bytes are not UTF-8.
    NotUtf8,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DecodeError::BadEscape => "Invalid URL encoding",
            DecodeError::NotUtf8 => "URL is not valid UTF-8",
        })
    }
}

impl std::error::Error for DecodeError {}

/// The value of one hex escape `XX` at `b[i..i + 2]`, if it is one.
fn hex_at(b: &[u8], i: usize) -> Option<u8> {
    let h = b.get(i..i + 2)?;
    u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
}

/// Decodes `%XX` escapes (and `+` as a space when `plus` is set, as in a query string),
/// strictly: a malformed escape or bytes that are not UTF-8 are an error.
pub fn percent_decode(s: &str, plus: bool) -> Result<String, DecodeError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                out.push(hex_at(b, i + 1).ok_or(DecodeError::BadEscape)?);
                i += 3;
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| DecodeError::NotUtf8)
}

/// Decodes `%XX` escapes leniently (what a user typed in a URL): a malformed escape stays as
/// written, bytes that are not UTF-8 become U+FFFD.
pub fn percent_decode_lossy(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let Some(v) = hex_at(b, i + 1) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but the unreserved characters (`A-Z a-z 0-9 - _ . ~`): one path
/// segment or query value.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The URL path of document `id` below its database: `_design/` and `_local/` stay as
/// prefixes, the rest is one encoded segment.
pub fn doc_path(id: &str) -> String {
    if let Some(rest) = id.strip_prefix("_design/") {
        format!("_design/{}", encode_component(rest))
    } else if let Some(rest) = id.strip_prefix("_local/") {
        format!("_local/{}", encode_component(rest))
    } else {
        encode_component(id)
    }
}

/// A URL cut around its userinfo: `scheme://[userinfo@]host[path]`.
struct Parts<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    host: &'a str,
    path: &'a str,
}

fn parts(url: &str) -> Option<Parts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    Some(Parts {
        scheme,
        userinfo,
        host,
        path,
    })
}

/// Splits `http://user:pass@host/db` into the URL without credentials and the decoded user
/// and password (empty when the URL has a user only). A URL without userinfo is returned as is.
pub fn split_credentials(url: &str) -> (String, Option<(String, String)>) {
    match parts(url) {
        Some(Parts {
            scheme,
            userinfo: Some(cred),
            host,
            path,
        }) => {
            let (u, p) = cred.split_once(':').unwrap_or((cred, ""));
            (
                format!("{scheme}://{host}{path}"),
                Some((percent_decode_lossy(u), percent_decode_lossy(p))),
            )
        }
        _ => (url.to_string(), None),
    }
}

/// `http://user:secret@host/db` -> `http://user:***@host/db`, for showing a URL (unchanged
/// without a password).
pub fn mask_credentials(url: &str) -> String {
    match parts(url) {
        Some(Parts {
            scheme,
            userinfo: Some(cred),
            host,
            path,
        }) => match cred.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

/// The URL without its credentials, for messages about it.
pub fn without_credentials(url: &str) -> String {
    split_credentials(url).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_decoding_refuses_what_lossy_decoding_keeps() {
        assert_eq!(percent_decode("a%2Fb+c", true).unwrap(), "a/b c");
        assert_eq!(percent_decode("a%2Fb+c", false).unwrap(), "a/b+c");
        assert_eq!(percent_decode("%41", false).unwrap(), "A");
        assert_eq!(percent_decode("50%", false), Err(DecodeError::BadEscape));
        assert_eq!(percent_decode("%4", false), Err(DecodeError::BadEscape));
        assert_eq!(percent_decode("%zz", false), Err(DecodeError::BadEscape));
        assert_eq!(percent_decode("%FF", false), Err(DecodeError::NotUtf8));
        assert_eq!(percent_decode_lossy("50%"), "50%");
        assert_eq!(percent_decode_lossy("s%40cret%zz"), "s@cret%zz");
        assert_eq!(percent_decode_lossy("%FF"), "\u{FFFD}");
    }

    #[test]
    fn encoding_keeps_only_unreserved_characters() {
        assert_eq!(encode_component("a b/c~d"), "a%20b%2Fc~d");
        assert_eq!(encode_component("é"), "%C3%A9");
        assert_eq!(doc_path("_design/my app"), "_design/my%20app");
        assert_eq!(doc_path("_local/x/y"), "_local/x%2Fy");
        assert_eq!(doc_path("a/b"), "a%2Fb");
    }

    #[test]
    fn credentials_are_split_and_masked() {
        let (u, c) = split_credentials("https://bob:s%40cret@db.example:6984/app");
        assert_eq!(u, "https://db.example:6984/app");
        assert_eq!(c, Some(("bob".into(), "s@cret".into())));
        assert_eq!(
            split_credentials("http://h/db"),
            ("http://h/db".into(), None)
        );
        assert_eq!(
            split_credentials("http://bob@h"),
            ("http://h".into(), Some(("bob".into(), String::new())))
        );
        assert_eq!(
            mask_credentials("https://bob:s%40cret@db.example:6984/app"),
            "https://bob:***@db.example:6984/app"
        );
        assert_eq!(mask_credentials("http://bob@h/db"), "http://bob@h/db");
        assert_eq!(
            mask_credentials("http://127.0.0.1:5984/app"),
            "http://127.0.0.1:5984/app"
        );
        assert_eq!(mask_credentials("not a url"), "not a url");
        assert_eq!(without_credentials("http://a:b@h/x"), "http://h/x");
    }
}
