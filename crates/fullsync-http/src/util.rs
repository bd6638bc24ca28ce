//! Request parsing and response building shared by the handlers.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use fullsync_engine::Error;
use serde_json::{json, Value};

/// An error answered to the client as CouchDB does: status + `{"error", "reason"}`.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// CouchDB `error`.
    pub error: String,
    /// CouchDB `reason`.
    pub reason: String,
}

impl ApiError {
    /// Builds an error.
    pub fn new(status: u16, error: &str, reason: impl Into<String>) -> Self {
        ApiError {
            status,
            error: error.into(),
            reason: reason.into(),
        }
    }

    /// `400 bad_request`.
    pub fn bad_request(reason: impl Into<String>) -> Self {
        Self::new(400, "bad_request", reason)
    }

    /// `404 not_found missing`.
    pub fn not_found() -> Self {
        Self::new(404, "not_found", "missing")
    }

    /// `405 method_not_allowed`.
    pub fn method(allowed: &str) -> Self {
        Self::new(405, "method_not_allowed", format!("Only {allowed} allowed"))
    }

    /// The error with every occurrence of `dirs` (the data folder, the user's home) in its
    /// reason replaced by a neutral name, so that no answer shows absolute server paths.
    pub fn without_paths(mut self, dirs: &[(String, &'static str)]) -> Self {
        self.reason = fullsync_engine::privacy::scrub(&self.reason, dirs);
        self
    }

    /// Renders the error.
    pub fn into_response(self) -> Response {
        json_response(
            self.status,
            &json!({"error": self.error, "reason": self.reason}),
        )
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError {
            status: e.status(),
            error: e.error_name(),
            reason: e.reason(),
        }
    }
}

/// Result of a handler.
pub type ApiResult = Result<Response, ApiError>;

/// A JSON response (one JSON text and a newline, as CouchDB sends).
pub fn json_response(status: u16, v: &Value) -> Response {
    let mut body = serde_json::to_vec(v).expect("JSON serializes");
    body.push(b'\n');
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "must-revalidate")
        .body(Body::from(body))
        .expect("valid response")
}

/// `200` JSON.
pub fn ok(v: Value) -> ApiResult {
    Ok(json_response(200, &v))
}

/// Decodes `%XX` escapes (and `+` as space when `plus` is set); a bad escape is a 400.
pub fn percent_decode(s: &str, plus: bool) -> Result<String, ApiError> {
    fullsync_url::percent_decode(s, plus).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Parsed query string.
#[derive(Debug, Default)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    /// Parses a raw query string.
    pub fn parse(raw: Option<&str>) -> Result<Query, ApiError> {
        let mut v = vec![];
        for part in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, val) = part.split_once('=').unwrap_or((part, ""));
            v.push((percent_decode(k, true)?, percent_decode(val, true)?));
        }
        Ok(Query(v))
    }

    /// The last value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean parameter (`true`/`false`); anything else is a `400 query_parse_error`.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(ApiError::new(
                400,
                "query_parse_error",
                format!("Invalid boolean parameter: \"{other}\" for {key}; use true or false"),
            )),
        }
    }

    /// A boolean that defaults to false.
    pub fn flag(&self, key: &str) -> Result<bool, ApiError> {
        Ok(self.bool(key)?.unwrap_or(false))
    }

    /// A non-negative integer parameter.
    pub fn uint(&self, key: &str) -> Result<Option<u64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ApiError::new(
                    400,
                    "query_parse_error",
                    format!("Invalid value for {key}: \"{v}\"; expected a non-negative integer"),
                )
            }),
        }
    }

    /// A JSON-encoded parameter (`startkey`, `keys`, `open_revs`, ...).
    pub fn json(&self, key: &str) -> Result<Option<Value>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => serde_json::from_str(v).map(Some).map_err(|_| {
                ApiError::bad_request(format!("Invalid JSON in query parameter {key}: {v}"))
            }),
        }
    }
}

/// Parses a JSON request body, as CouchDB does: `400 bad_request` with what was wrong.
pub fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "Request body is empty; expected a JSON document",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        if std::str::from_utf8(body).is_err() {
            ApiError::bad_request("Request body is not valid UTF-8")
        } else {
            ApiError::bad_request(format!("invalid JSON: {e}"))
        }
    })
}

/// The media type of a request, lowercased, without parameters.
pub fn content_type(h: &HeaderMap) -> String {
    h.get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// Requires `application/json` (`415 bad_content_type` otherwise).
pub fn require_json(h: &HeaderMap) -> Result<(), ApiError> {
    let ct = content_type(h);
    if ct == "application/json" || ct.is_empty() && h.get(header::CONTENT_LENGTH).is_none() {
        Ok(())
    } else {
        Err(ApiError::new(
            415,
            "bad_content_type",
            "Content-Type must be application/json",
        ))
    }
}

/// Adds an `ETag` header.
pub fn with_etag(mut r: Response, etag: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

/// Whether `If-None-Match` names `etag`.
pub fn etag_matches(h: &HeaderMap, etag: &str) -> bool {
    h.get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/").trim_matches('"') == etag)
        })
}

/// `304 Not Modified`.
pub fn not_modified(etag: &str) -> Response {
    with_etag(
        Response::builder()
            .status(304)
            .body(Body::empty())
            .expect("valid response"),
        etag,
    )
}

/// Parses an opaque `since`/sequence: integers, `"now"`, and CouchDB-style `"13-g1AAA..."`.
pub fn parse_seq(v: &str, now: u64) -> Result<u64, ApiError> {
    let v = v.trim_matches('"');
    if v == "now" {
        return Ok(now);
    }
    fullsync_engine::seq::parse_seq(v).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Malformed sequence supplied in 'since' parameter: {v}"
        ))
    })
}
