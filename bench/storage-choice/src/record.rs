//! Simulated document record: rev tree + JSON body, with an embedded checksum.
//!
//! Layout (all integers big-endian):
//!
//! ```text
//! "FSR1"            4 bytes magic
//! seq               8 bytes (u64) sequence number that wrote this revision
//! rev_len           2 bytes (u16)
//! rev tree          rev_len bytes, e.g. {"start":1,"ids":["<32 hex>"]}
//! body_len          2 bytes (u16)
//! body              body_len bytes of JSON (~200 bytes)
//! checksum          8 bytes FNV-1a 64 over every byte before it
//! ```
//!
//! A fresh (generation 1) record is ~300 bytes.

pub const MAGIC: &[u8; 4] = b"FSR1";

/// Deterministic PRNG (splitmix64) so that both backends see identical data
/// without pulling a `rand` dependency into the dependency count.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform-ish in 0..n (n small relative to 2^64, modulo bias irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

pub fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

pub fn doc_id(index: u64) -> String {
    format!("doc-{:07}", index)
}

/// Parse "doc-0000042" -> 42.
pub fn parse_doc_id(id: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(id).ok()?;
    s.strip_prefix("doc-")?.parse().ok()
}

fn hex32(rng: &mut Rng) -> String {
    format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64())
}

const WORDS: &[&str] = &[
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey", "xray", "yankee", "zulu", "sync", "studio", "couch", "replica",
];

/// A JSON body of exactly `target` bytes: realistic-looking keys plus random words/text.
pub fn json_body(rng: &mut Rng, id: &str, target: usize) -> String {
    let mut s = String::with_capacity(target + 16);
    let w = |rng: &mut Rng| WORDS[rng.below(WORDS.len() as u64) as usize];
    s.push_str(&format!(
        "{{\"_id\":\"{}\",\"type\":\"contact\",\"name\":\"{} {}\",\"age\":{},\"tags\":[\"{}\",\"{}\"],\"note\":\"",
        id,
        w(rng),
        w(rng),
        18 + rng.below(70),
        w(rng),
        w(rng)
    ));
    // Fill the note with random lowercase letters/spaces up to target - 2 ("}).
    while s.len() < target - 2 {
        let r = rng.below(27) as u8;
        s.push(if r == 26 { ' ' } else { (b'a' + r) as char });
    }
    s.push_str("\"}");
    s.truncate(target.max(s.len()));
    s
}

pub fn rev_tree_new(rng: &mut Rng) -> String {
    format!("{{\"start\":1,\"ids\":[\"{}\"]}}", hex32(rng))
}

/// Next generation of a rev tree: prepend a new hash, bump start.
pub fn rev_tree_next(old: &str, rng: &mut Rng) -> String {
    let start: u64 = old
        .strip_prefix("{\"start\":")
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let ids = old
        .split_once("\"ids\":[")
        .map(|(_, r)| r.trim_end_matches("]}"))
        .unwrap_or("");
    format!(
        "{{\"start\":{},\"ids\":[\"{}\",{}]}}",
        start + 1,
        hex32(rng),
        ids
    )
}

pub fn encode(seq: u64, rev: &str, body: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + 8 + 2 + rev.len() + 2 + body.len() + 8);
    v.extend_from_slice(MAGIC);
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&(rev.len() as u16).to_be_bytes());
    v.extend_from_slice(rev.as_bytes());
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body.as_bytes());
    let c = fnv1a64(&v);
    v.extend_from_slice(&c.to_be_bytes());
    v
}

#[derive(Debug)]
#[allow(dead_code)] // body is checked via the checksum, read in tests
pub struct Decoded<'a> {
    pub seq: u64,
    pub rev: &'a str,
    pub body: &'a str,
}

pub fn decode(v: &[u8]) -> Result<Decoded<'_>, String> {
    if v.len() < 4 + 8 + 2 + 2 + 8 {
        return Err(format!("record too short: {} bytes", v.len()));
    }
    if &v[..4] != MAGIC {
        return Err("bad magic".into());
    }
    let (payload, csum) = v.split_at(v.len() - 8);
    let want = u64::from_be_bytes(csum.try_into().unwrap());
    if fnv1a64(payload) != want {
        return Err("checksum mismatch".into());
    }
    let seq = u64::from_be_bytes(v[4..12].try_into().unwrap());
    let rl = u16::from_be_bytes(v[12..14].try_into().unwrap()) as usize;
    let rev_end = 14 + rl;
    if rev_end + 2 > payload.len() {
        return Err("rev length out of bounds".into());
    }
    let bl = u16::from_be_bytes(v[rev_end..rev_end + 2].try_into().unwrap()) as usize;
    let body_end = rev_end + 2 + bl;
    if body_end != payload.len() {
        return Err("body length mismatch".into());
    }
    let rev = std::str::from_utf8(&v[14..rev_end]).map_err(|_| "rev not utf8")?;
    let body = std::str::from_utf8(&v[rev_end + 2..body_end]).map_err(|_| "body not utf8")?;
    Ok(Decoded { seq, rev, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn roundtrip() {
        let mut r = Rng::new(1);
        let id = doc_id(42);
        assert_eq!(id, "doc-0000042");
        let rev = rev_tree_new(&mut r);
        let body = json_body(&mut r, &id, 200);
        assert_eq!(body.len(), 200);
        let v = encode(7, &rev, &body);
        let d = decode(&v).unwrap();
        assert_eq!(d.seq, 7);
        assert_eq!(d.body, body);
        let rev2 = rev_tree_next(d.rev, &mut r);
        assert!(rev2.starts_with("{\"start\":2,"));
        let mut bad = v.clone();
        bad[100] ^= 1;
        assert!(decode(&bad).is_err());
        assert_eq!(parse_doc_id(id.as_bytes()), Some(42));
    }
}
