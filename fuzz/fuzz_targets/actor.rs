//! A remote actor document as `federation::actors` reads it (`IncomingActor`), Mastodon,
//! GoToSocial, Fedify or anything else.
//!
//! Asserts: the names kept contain no character `is_forbidden` names; a public key was found;
//! the ids and inbox are URLs that print and re-parse to themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ronron::{bulletin::render::is_forbidden, federation::protocol::IncomingActor};

fuzz_target!(|data: &[u8]| {
    let Ok(actor) = serde_json::from_slice::<IncomingActor>(data) else { return };
    for text in [&actor.preferred_username, &actor.name].into_iter().flatten() {
        assert!(!text.chars().any(is_forbidden), "a forbidden character kept in {text:?}");
    }
    let urls = [Some(&actor.id), Some(&actor.inbox), actor.outbox.as_ref()];
    for url in urls.into_iter().flatten() {
        assert_eq!(&url::Url::parse(url.as_str()).expect("a stored URL re-parses"), url);
    }
    let _ = ronron::urls::domain_of(actor.id.as_str());
});
