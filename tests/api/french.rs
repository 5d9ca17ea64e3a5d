//! French as a French admin writes it, and English too: counts that agree with their noun (CLDR
//! plural rules in the catalogues), the words of maintenances and incidents, the state a
//! maintenance is in at the clock's now, and one label score everywhere.

use crate::{
    helpers::{spawn_app, spawn_app_with},
    pages::Browser,
};
use ronron::app::admins;

/// The deliveries page says how many in words that agree ("Aucun envoi abandonné", not
/// "Abandonnés 0"; the Follow is the one delivery); the status page's history says "Les 30 derniers jours"; the directory's label
/// score agrees with its count.
#[actix_rt::test]
async fn counts_read_as_sentences_in_both_languages() {
    let us = spawn_app().await;
    let peer = spawn_app_with(0, |c| c.account.display_name = "Autre Chaton".into()).await;
    admins::create_admin(&us.state, "camille", "correct horse battery").await.unwrap();
    ronron::app::label::set_grade(&peer.state, "alternative.free-software", "met", None, None).await.unwrap();
    us.follow(&peer).await;
    ronron::app::directory::refresh(&us.data(), &peer.actor_url()).await.unwrap();
    for (lang, deliveries, history, score) in [
        (
            "fr",
            "Aucun envoi en attente · 1 envoi remis · Aucun envoi abandonné",
            "Les 30 derniers jours.",
            "1 critère respecté sur 1",
        ),
        (
            "en",
            "No delivery waiting · 1 delivery made · No delivery given up",
            "The last 30 days.",
            "1 of 1 criteria met",
        ),
    ] {
        let mut browser = Browser::new(&us, lang);
        browser.login("camille", "correct horse battery").await;
        let (_, _, page) = browser.get("/admin/deliveries").await;
        assert!(page.contains(deliveries), "{lang}: {page}");
        assert!(!page.contains("Abandonnés") && !page.contains("Given up"), "{page}");
        let (_, _, page) = browser.get("/status").await;
        assert!(page.contains(history), "{lang}: {page}");
        let (_, _, page) = browser.get("/directory").await;
        assert!(page.contains(score), "{lang}: {page}");
    }
}
