//! A submitted compose form (`application/x-www-form-urlencoded`) as the web admin reads it:
//! `web::admin::common::FormData`, `web::admin::compose::ComposeValues::from_form`, then the
//! drafts (`bulletin::forms`), the texts' checks (`bulletin::validate_texts`) and the change's
//! (`ChangeDraft::validate`) against a one-service catalogue, then the HTML the post would carry.
//!
//! Asserts: every refusal names a field; an accepted text holds no character `is_forbidden`
//! names, has a one-line title within `MAX_TITLE_CHARS` and a body within `MAX_BODY_CHARS`; its
//! HTML carries no `<script`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ronron::{
    bulletin::{content_html, render::is_forbidden, validate_texts, BulletinError, MAX_BODY_CHARS, MAX_TITLE_CHARS},
    config::Config,
    db::models::services::Service,
    web::admin::{common::FormData, compose::ComposeValues},
};
use std::sync::OnceLock;

fn catalogue() -> &'static (Config, Vec<Service>) {
    static CATALOGUE: OnceLock<(Config, Vec<Service>)> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let at = chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("2026-01-01").naive_utc();
        let cloud = Service {
            slug: "cloud".into(),
            name: "Cloud".into(),
            software: "Nextcloud".into(),
            url: "https://cloud.example".into(),
            description: String::new(),
            audience: String::new(),
            registration: "open".into(),
            created_at: at,
            updated_at: at,
            removed_at: None,
        };
        (Config::default(), vec![cloud])
    })
}

fn named(e: &BulletinError) {
    if let BulletinError::Invalid { field, .. } = e {
        assert!(!field.is_empty(), "a refusal without a field: {e}");
    }
}

fuzz_target!(|data: &[u8]| {
    let (config, services) = catalogue();
    let tz = config.timezone();
    let values = ComposeValues::from_form(&FormData::parse(data));
    let now = chrono::DateTime::from_timestamp(1_773_748_800, 0).expect("2026-03-17").naive_utc();
    match values.post.draft(tz) {
        Err(e) => named(&e),
        Ok(post) => match validate_texts(config, &post.main, post.translation.as_ref(), true) {
            Err(e) => named(&e),
            Ok((main, translation)) => {
                for text in [Some(&main), translation.as_ref()].into_iter().flatten() {
                    assert!(!text.title.chars().any(is_forbidden) && !text.body_markdown.chars().any(is_forbidden));
                    assert!(text.title.chars().count() <= MAX_TITLE_CHARS && !text.title.contains('\n'));
                    assert!(text.body_markdown.chars().count() <= MAX_BODY_CHARS);
                    let html = content_html(&text.title, &text.body_markdown);
                    assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
                }
            }
        },
    }
    if values.kind != "news" {
        match values.change.draft(tz) {
            Err(e) => named(&e),
            Ok(change) => {
                if let Err(e) = change.validate(services, now) {
                    named(&e);
                }
            }
        }
    }
});
