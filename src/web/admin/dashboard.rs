//! The dashboard: counts, open changes, links to compose.

use super::{common::admin_page, compose, session::Admin};
use crate::{
    db::models::{activities as queue, bulletins as bulletin_rows, followers, remote},
    federation::Federation,
    web::{
        html::{render, Page, PageError, Section},
        state_of,
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage<'a> {
    page: Page<'a>,
    published: i64,
    followers: i64,
    pending_followers: usize,
    following: usize,
    queued: i64,
    failing_inboxes: usize,
    paused_inboxes: usize,
    open_changes: Vec<(String, String, String)>,
    compose_links: Vec<(String, String)>,
}

pub async fn dashboard(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let page = admin_page(state, &req, |t| t.get("admin_dashboard")).await?;
    let t = page.t;
    let (published, followers, pending, following, queued, health, open) = state
        .db
        .read(|c| {
            Ok((
                bulletin_rows::count_published(c)?,
                followers::count_accepted(c)?,
                followers::list(c, Some(followers::PENDING))?.len(),
                remote::list_following(c)?.len(),
                queue::count_by_status(c, "pending")?,
                queue::health(c)?,
                bulletin_rows::open_changes(c)?,
            ))
        })
        .await?;
    let template = DashboardPage {
        published,
        followers,
        pending_followers: pending,
        following,
        queued,
        failing_inboxes: health.iter().filter(|h| h.consecutive_failures > 0).count(),
        paused_inboxes: health.iter().filter(|h| h.paused_at.is_some()).count(),
        open_changes: open
            .iter()
            .map(|b| {
                let state_label =
                    b.meta().state.map(|s| crate::bulletin::vocab::Choice::label(s, t.lang)).unwrap_or("");
                (state.urls.admin(&format!("bulletins/{}", b.id)).to_string(), b.title.clone(), state_label.to_string())
            })
            .collect(),
        compose_links: compose::COMPOSE_KINDS
            .iter()
            .map(|k| (format!("{}?kind={k}", state.urls.admin("compose")), compose::kind_title(t, k)))
            .collect(),
        page,
    };
    render(&req, StatusCode::OK, &template)
}
