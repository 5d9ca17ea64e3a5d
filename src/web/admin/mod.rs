//! The web admin, behind a login: compose and manage bulletins, services, label, profile,
//! followers, peers, deliveries and API tokens. Every form posts back with the session's CSRF
//! token; every change goes through the same domain functions as the CLI.

pub mod bulletin;
pub mod bulletins;
pub mod chatonsinfos;
pub mod common;
pub mod compose;
pub mod dashboard;
pub mod deliveries;
pub mod followers;
pub mod label;
pub mod login;
pub mod members;
pub mod notify;
pub mod peers;
pub mod profile;
pub mod services;
pub mod session;
pub mod tokens;

use super::at;
use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(crate::urls::routes::ADMIN)
            .app_data(web::PayloadConfig::new(MAX_FORM_BYTES))
            .service(at("").get(dashboard::dashboard))
            .service(at("/login").get(login::login_form).post(login::login))
            .service(at("/logout").post(login::logout))
            .service(at("/compose").get(compose::compose_form).post(compose::compose))
            .service(at("/preview").post(compose::preview_fragment))
            .service(at("/bulletins").get(bulletins::list))
            .service(at("/bulletins/{id}").get(bulletin::manage))
            .service(at("/bulletins/{id}/{action}").get(bulletin::confirm).post(bulletin::act))
            .service(at("/services").get(services::services).post(services::add_service))
            .service(at("/services/{slug}/{action}").post(services::change_service))
            .service(at("/label").get(label::label).post(label::set_grades))
            .service(at("/profile").get(profile::profile).post(profile::save_profile))
            .service(at("/profile/logo").post(profile::upload_logo))
            .service(at("/profile/logo/remove").post(profile::remove_logo))
            .service(at("/chatonsinfos").get(chatonsinfos::import_form).post(chatonsinfos::import))
            .service(at("/followers").get(followers::followers))
            .service(at("/followers/{id}/{action}").post(followers::follower_action))
            .service(at("/peers").get(peers::peers))
            .service(at("/peers/{action}").post(peers::peer_action))
            .service(at("/members").get(members::members))
            .service(at("/members/logo").post(members::upload_logo))
            .service(at("/members/logo/remove").post(members::remove_logo))
            .service(at("/members/{action}").post(members::member_action))
            .service(at("/deliveries").get(deliveries::deliveries))
            .service(at("/deliveries/retry").post(deliveries::retry_deliveries))
            .service(at("/tokens").get(tokens::tokens).post(tokens::create_token))
            .service(at("/tokens/{id}/revoke").post(tokens::revoke_token))
            .service(at("/subscribers").get(notify::subscribers))
            .service(at("/subscribers/export").get(notify::export_subscribers))
            .service(at("/subscribers/{id}/remove").post(notify::remove_subscriber))
            .service(at("/webhooks").post(notify::add_webhook))
            .service(at("/webhooks/{id}").get(notify::webhook_log))
            .service(at("/webhooks/{id}/remove").post(notify::remove_webhook)),
    );
}

/// Admin forms are short; a bulletin's body is at most 20,000 characters.
const MAX_FORM_BYTES: usize = 256 * 1024;
