//! An incoming request's signature headers through `signatures::begin_verify`, judged at a fixed
//! time (2026-03-17 12:00:00 UTC), then `verify_with` against a real public key.
//!
//! Input: a first line `METHOD /path?query`, then `name: value` header lines, then an optional
//! blank line and a body (a POST with a body must carry a matching Digest).
//!
//! Asserts, for every header set it accepts, on the header the library reads (Authorization, else
//! Signature) split as it splits it: it names a non-empty keyId (the one returned) and a
//! signature; it covers `(request-target)` and a `Date` or `(created)`; a signed Date and a
//! `created` are within the hour of the time given, an `expires` not past; and no fuzzed
//! signature ever verifies against a real key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ronron::federation::signatures::{begin_verify, CLOCK_SKEW};
use std::{
    collections::{BTreeMap, HashMap},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// A real 2048-bit RSA public key (Mastodon's size); its private half is not kept anywhere.
const PUBLIC_KEY_PEM: &str = include_str!("../public_key.pem");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (head, body) = match text.split_once("\n\n") {
        Some((head, body)) => (head, Some(body.as_bytes())),
        None => (text, None),
    };
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default();
    let (method, target) = request_line.split_once(' ').unwrap_or(("POST", request_line));
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let headers: BTreeMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
        .collect();
    let now = UNIX_EPOCH + Duration::from_secs(1_773_748_800);
    let Ok(pending) = begin_verify(method, path, query, &headers, body, now) else { return };

    // The header the library reads (Authorization first), its parameters as it splits them (the
    // last of a repeated name wins): what the request is judged on.
    let lower: BTreeMap<String, &String> = headers.iter().map(|(k, v)| (k.to_lowercase(), v)).collect();
    let header = lower.get("authorization").or_else(|| lower.get("signature")).expect("accepted unsigned");
    let params: HashMap<&str, &str> = header
        .trim_start_matches("Signature")
        .trim()
        .split(',')
        .filter_map(|part| part.split_once('='))
        .map(|(key, value)| (key, value.trim_matches('"')))
        .collect();
    assert!(!params.get("keyId").unwrap_or(&"").is_empty(), "accepted without a keyId: {header}");
    assert!(params.contains_key("signature"), "accepted without a signature: {header}");
    assert_eq!(pending.key_id, params["keyId"]);
    let signed: Vec<&str> = params.get("headers").map_or(vec!["(created)"], |h| h.split_whitespace().collect());
    assert!(signed.contains(&"(request-target)"), "accepted without (request-target): {header}");
    assert!(signed.contains(&"date") || signed.contains(&"(created)"), "accepted without a date: {header}");
    let gap =
        |at: SystemTime| if at > now { at.duration_since(now) } else { now.duration_since(at) }.unwrap_or_default();
    if signed.contains(&"date") {
        let date = lower.get("date").and_then(|d| httpdate::parse_http_date(d).ok()).expect("a signed Date parses");
        assert!(gap(date) <= CLOCK_SKEW, "accepted a Date {:?} away: {header}", gap(date));
    }
    if let Some(created) = params.get("created") {
        let created = UNIX_EPOCH
            .checked_add(Duration::from_secs(created.parse().expect("a Unix time")))
            .expect("a created that fits a SystemTime");
        assert!(gap(created) <= CLOCK_SKEW, "accepted a (created) {:?} away: {header}", gap(created));
    }
    if let Some(expires) = params.get("expires") {
        let expires = UNIX_EPOCH
            .checked_add(Duration::from_secs(expires.parse().expect("a Unix time")))
            .expect("an expires that fits a SystemTime");
        assert!(expires >= now, "accepted an expired signature: {header}");
    }
    assert!(pending.verify_with(PUBLIC_KEY_PEM).is_err(), "a fuzzed signature verified: {header}");
});
