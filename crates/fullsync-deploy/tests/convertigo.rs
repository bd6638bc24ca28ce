//! The Convertigo deploy protocol against a loopback server that records the requests and
//! answers like Convertigo.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use fullsync_deploy::convertigo::{deploy_car, ConvertigoError};

#[derive(Debug, Clone)]
struct Recorded {
    line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn fake_convertigo(deploy_answer: &'static str) -> (u16, Arc<Mutex<Vec<Recorded>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let log = Arc::new(Mutex::new(vec![]));
    let log2 = log.clone();
    std::thread::spawn(move || {
        for conn in l.incoming().take(10) {
            let Ok(mut s) = conn else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            let mut headers = vec![];
            let mut len = 0;
            loop {
                let mut h = String::new();
                r.read_line(&mut h).unwrap();
                let h = h.trim_end().to_string();
                if h.is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap();
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap();
                }
                headers.push((k.to_ascii_lowercase(), v.trim().to_string()));
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let is_auth = line.contains("engine.Authenticate");
            log2.lock().unwrap().push(Recorded {
                line: line.trim().into(),
                headers,
                body,
            });
            let (extra, answer) = if is_auth {
                ("Set-Cookie: JSESSIONID=abc123; Path=/convertigo; HttpOnly\r\nX-XSRF-Token: tok-42\r\n", "<admin service=\"engine.Authenticate\"><authenticated/></admin>")
            } else {
                ("", deploy_answer)
            };
            let resp = format!("HTTP/1.1 200 OK\r\n{extra}Content-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}", answer.len());
            s.write_all(resp.as_bytes()).unwrap();
        }
    });
    (port, log)
}

#[test]
fn authenticates_then_deploys_the_car_as_multipart() {
    let (port, log) = fake_convertigo("<admin service=\"projects.Deploy\"><message>The project 'sample' has been successfully deployed.</message></admin>");
    let car = b"PK\x03\x04 fake car bytes".to_vec();
    let answer = deploy_car(
        &format!("http://127.0.0.1:{port}"),
        "admin",
        "p@ss word",
        "sample.car",
        &car,
    )
    .unwrap();
    assert!(answer.contains("successfully deployed"));
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2);
    assert!(log[0]
        .line
        .starts_with("POST /convertigo/admin/services/engine.Authenticate"));
    assert_eq!(
        String::from_utf8_lossy(&log[0].body),
        "authType=login&authUserName=admin&authPassword=p%40ss+word"
    );
    assert!(log[1]
        .line
        .starts_with("POST /convertigo/admin/services/projects.Deploy?bAssembleXsl=false"));
    let h = |k: &str| {
        log[1]
            .headers
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(h("cookie"), "JSESSIONID=abc123");
    assert_eq!(h("x-xsrf-token"), "tok-42");
    assert!(h("content-type").starts_with("multipart/form-data; boundary="));
    let body = &log[1].body;
    let text = String::from_utf8_lossy(body);
    assert!(text.contains("filename=\"sample.car\""));
    assert!(
        body.windows(car.len()).any(|w| w == car.as_slice()),
        "the car bytes are in the part"
    );
}

#[test]
fn the_servers_xml_error_is_reported_verbatim() {
    let xml = "<admin service=\"projects.Deploy\"><error><message>Unable to deploy: the archive is not a Convertigo project</message></error></admin>";
    let (port, _) = fake_convertigo(xml);
    let e = deploy_car(
        &format!("http://127.0.0.1:{port}"),
        "admin",
        "secret",
        "x.car",
        b"PK",
    )
    .unwrap_err();
    match &e {
        ConvertigoError::Refused(body) => assert_eq!(body, xml),
        other => panic!("{other:?}"),
    }
    assert!(!e.to_string().contains("secret"), "no password in messages");
}
