//! Deploying a `.car` archive to a Convertigo server through its admin API:
//! 1. `POST {server}/convertigo/admin/services/engine.Authenticate` with the form
//!    `authType=login&authUserName=..&authPassword=..` (sets a session cookie; an
//!    `X-XSRF-Token` header may come back and is then sent with the next call);
//! 2. `POST {server}/convertigo/admin/services/projects.Deploy?bAssembleXsl=false`, multipart,
//!    one file part holding `<Project>.car`;
//! 3. the XML answer holds `<error>` on failure, which is reported verbatim.

use std::time::Duration;

/// Errors of a Convertigo deploy. Messages never contain the password.
#[derive(Debug, thiserror::Error)]
pub enum ConvertigoError {
    /// The server could not be reached.
    #[error("cannot reach the Convertigo server at {0}: {1}")]
    Unreachable(String, String),
    /// Authentication failed.
    #[error("the Convertigo server refused the admin login for `{user}` (HTTP {status}): {body}")]
    Login {
        /// User.
        user: String,
        /// HTTP status.
        status: u16,
        /// Server answer.
        body: String,
    },
    /// The server answered the deploy with an error (its XML, verbatim).
    #[error("the Convertigo server refused the deploy: {0}")]
    Refused(String),
}

fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Deploys `car` (the bytes of `<car_name>`) to the Convertigo server at `base_url`. Returns the
/// server's answer.
pub fn deploy_car(
    base_url: &str,
    user: &str,
    password: &str,
    car_name: &str,
    car: &[u8],
) -> Result<String, ConvertigoError> {
    let base = base_url.trim_end_matches('/');
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into();
    let unreachable =
        |e: ureq::Error| ConvertigoError::Unreachable(base.to_string(), e.to_string());
    let auth_url = format!("{base}/convertigo/admin/services/engine.Authenticate");
    let form = format!(
        "authType=login&authUserName={}&authPassword={}",
        form_encode(user),
        form_encode(password)
    );
    let mut resp = agent
        .post(&auth_url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(form.as_bytes())
        .map_err(unreachable)?;
    let status = resp.status().as_u16();
    let cookies: Vec<String> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|c| c.split(';').next().unwrap_or("").to_string())
        .filter(|c| !c.is_empty())
        .collect();
    let xsrf = resp
        .headers()
        .get("x-xsrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    if !(200..300).contains(&status) || body.contains("<error") {
        return Err(ConvertigoError::Login {
            user: user.into(),
            status,
            body: body.chars().take(500).collect(),
        });
    }
    let boundary = format!("----fullsync{}", std::process::id());
    let mut multipart = Vec::with_capacity(car.len() + 512);
    multipart.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{car_name}\"; filename=\"{car_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    multipart.extend_from_slice(car);
    multipart.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut req = agent
        .post(&format!(
            "{base}/convertigo/admin/services/projects.Deploy?bAssembleXsl=false"
        ))
        .header(
            "Content-Type",
            &format!("multipart/form-data; boundary={boundary}"),
        );
    if !cookies.is_empty() {
        req = req.header("Cookie", &cookies.join("; "));
    }
    if let Some(t) = &xsrf {
        req = req.header("X-XSRF-Token", t);
    }
    let mut resp = req.send(&multipart[..]).map_err(unreachable)?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(10 << 20)
        .read_to_string()
        .unwrap_or_default();
    if !(200..300).contains(&status) || body.contains("<error") {
        return Err(ConvertigoError::Refused(if body.is_empty() {
            format!("HTTP {status}")
        } else {
            body
        }));
    }
    Ok(body)
}
