//! The web admin, behind a login: compose and manage bulletins, services, label, profile,
//! followers, peers, deliveries and API tokens. Every form posts back with the session's CSRF
//! token; every change goes through the same domain functions as the CLI.

pub mod bulletin;
pub mod bulletins;
pub mod common;
pub mod compose;
pub mod dashboard;
pub mod deliveries;
pub mod followers;
pub mod label;
pub mod login;
pub mod peers;
pub mod profile;
pub mod services;
pub mod session;
pub mod tokens;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(crate::urls::routes::ADMIN)
            .app_data(web::PayloadConfig::new(MAX_FORM_BYTES))
            .route("", web::get().to(dashboard::dashboard))
            .route("/login", web::get().to(login::login_form))
            .route("/login", web::post().to(login::login))
            .route("/logout", web::post().to(login::logout))
            .route("/compose", web::get().to(compose::compose_form))
            .route("/compose", web::post().to(compose::compose))
            .route("/preview", web::post().to(compose::preview_fragment))
            .route("/bulletins", web::get().to(bulletins::list))
            .route("/bulletins/{id}", web::get().to(bulletin::manage))
            .route("/bulletins/{id}/{action}", web::post().to(bulletin::act))
            .route("/services", web::get().to(services::services))
            .route("/services", web::post().to(services::add_service))
            .route("/services/{slug}/{action}", web::post().to(services::change_service))
            .route("/label", web::get().to(label::label))
            .route("/label/{criterion}", web::post().to(label::set_grade))
            .route("/profile", web::get().to(profile::profile))
            .route("/profile", web::post().to(profile::save_profile))
            .route("/followers", web::get().to(followers::followers))
            .route("/followers/{id}/{action}", web::post().to(followers::follower_action))
            .route("/peers", web::get().to(peers::peers))
            .route("/peers/{action}", web::post().to(peers::peer_action))
            .route("/deliveries", web::get().to(deliveries::deliveries))
            .route("/deliveries/retry", web::post().to(deliveries::retry_deliveries))
            .route("/tokens", web::get().to(tokens::tokens))
            .route("/tokens", web::post().to(tokens::create_token))
            .route("/tokens/{id}/revoke", web::post().to(tokens::revoke_token)),
    );
}

/// Admin forms are short; a bulletin's body is at most 20,000 characters.
const MAX_FORM_BYTES: usize = 256 * 1024;
