//! The dashboard: counts, open changes, links to compose.

use super::{common::admin_page, compose, session::Admin};
use crate::{
    app::dashboard,
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
    ongoing: Vec<(String, String, String)>,
    upcoming: Vec<(String, String, String)>,
    compose_links: Vec<(String, String)>,
}

pub async fn dashboard(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let page = admin_page(state, &req, |t| t.get("admin_dashboard")).await?;
    let t = page.t;
    let overview = dashboard::overview(state).await?;
    let now = state.clock.now();
    // The admin page of a change, its title and its state at now.
    let line = |b: &crate::app::bulletins::Bulletin| {
        let shown = crate::bulletin::state_at(&b.meta(), b.starts_at, b.ends_at, now);
        let state_label = shown.map(|s| crate::bulletin::vocab::Choice::label(s, t)).unwrap_or("");
        (state.urls.admin(&format!("bulletins/{}", b.id)).to_string(), b.title.clone(), state_label.to_string())
    };
    let template = DashboardPage {
        published: overview.published,
        followers: overview.followers,
        pending_followers: overview.pending_followers,
        following: overview.following,
        queued: overview.queued,
        failing_inboxes: overview.inboxes.iter().filter(|h| h.consecutive_failures > 0).count(),
        paused_inboxes: overview.inboxes.iter().filter(|h| h.paused_at.is_some()).count(),
        ongoing: overview.ongoing.iter().map(line).collect(),
        upcoming: overview.upcoming.iter().map(line).collect(),
        compose_links: compose::COMPOSE_KINDS
            .iter()
            .map(|k| (format!("{}?kind={k}", state.urls.admin("compose")), compose::kind_title(t, k)))
            .collect(),
        page,
    };
    render(&req, StatusCode::OK, &template)
}
