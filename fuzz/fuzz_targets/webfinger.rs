//! WebFinger both ways.
//!
//! Our side: `web::wellknown::webfinger_doc` answers a `resource` for a configured host
//! (`bulletin@status.example`). Asserts: it answers only for our two accounts (the subject is one
//! of them; the input, once `acct:` and `@` are dropped and case is folded, or as an actor URL,
//! names it) and every link it gives is a URL of ours.
//!
//! Their side: a JRD as `activitypub_federation` reads it when we resolve `@name@domain`
//! (`fetch::webfinger::Webfinger`), and as our own
//! `protocol::WebfingerDoc`. Asserts: what parses as a JRD serialises back and re-parses to
//! the same value (its URLs included).
#![no_main]

use activitypub_federation::fetch::webfinger::Webfinger;
use libfuzzer_sys::fuzz_target;
use ronron::{config::Config, federation::protocol::WebfingerDoc, urls::Urls, web::wellknown::webfinger_doc};
use std::sync::OnceLock;

fn ours() -> &'static (Config, Urls) {
    static OURS: OnceLock<(Config, Urls)> = OnceLock::new();
    OURS.get_or_init(|| {
        let mut config = Config::default();
        config.instance.domain = "status.example".into();
        let urls = Urls::new(&config);
        (config, urls)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (config, urls) = ours();
    if let Some(doc) = webfinger_doc(config, urls, text) {
        let host = format!("acct:bulletin@{}", config.instance.domain);
        let instance = format!("acct:{}@{}", config.instance_actor_name(), config.instance.domain);
        assert!(doc.subject == host || doc.subject == instance, "{}", doc.subject);
        let typed = text.trim();
        let folded = format!("acct:{}", typed.trim_start_matches("acct:").trim_start_matches('@').to_lowercase());
        assert!(
            folded == doc.subject || doc.aliases.iter().any(|a| a == typed),
            "{text:?} answered as {}",
            doc.subject
        );
        for link in &doc.links {
            let href = url::Url::parse(link.href.as_deref().expect("every link has an href")).expect("a URL");
            assert_eq!(href.host_str(), Some("status.example"));
        }
    }
    if let Ok(jrd) = serde_json::from_slice::<Webfinger>(data) {
        let json = serde_json::to_string(&jrd).expect("a JRD serialises");
        let again: Webfinger = serde_json::from_str(&json).expect("a serialised JRD re-parses");
        assert_eq!(again, jrd, "a JRD changed through a round trip");
    }
    if let Ok(doc) = serde_json::from_slice::<WebfingerDoc>(data) {
        let json = serde_json::to_string(&doc).expect("a JRD serialises");
        let again: WebfingerDoc = serde_json::from_str(&json).expect("a serialised JRD re-parses");
        assert_eq!(again.subject, doc.subject);
        assert_eq!(again.links.len(), doc.links.len());
    }
});
