//! The list of bulletins, each with where it went in short.

use super::{
    common::{admin_page, status_of},
    session::Admin,
};
use crate::{
    app::{bulletins, deliveries},
    federation::Federation,
    web::{
        html::{render, Page, PageError, Section},
        state_of, views,
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

pub struct BulletinRow {
    pub admin_url: String,
    pub public_url: String,
    pub title: String,
    pub kind: String,
    pub status: String,
    pub state: Option<views::Badge>,
    pub when: views::When,
    /// Where its latest activity went, in short; none before it is sent (a scheduled one).
    pub delivery: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/bulletins.html")]
struct ListPage<'a> {
    page: Page<'a>,
    rows: Vec<BulletinRow>,
    compose_url: String,
}

pub async fn list(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let page = admin_page(state, &req, |t| t.get("admin_bulletins")).await?;
    let t = page.t;
    let all = bulletins::list(state, 200).await?;
    let ids: Vec<String> = all.iter().map(|b| b.id.clone()).collect();
    let sent = deliveries::of_bulletins(state, &ids).await?;
    let template = ListPage {
        rows: all
            .iter()
            .map(|b| BulletinRow {
                admin_url: state.urls.admin(&format!("bulletins/{}", b.id)).to_string(),
                public_url: state.urls.bulletin(&b.id).to_string(),
                title: b.title.clone(),
                kind: views::kind_label(b, t),
                status: status_of(b, t),
                state: b.meta().state.map(|s| views::state_badge(s, t)),
                when: views::when(state, b.published_at, t.lang),
                delivery: sent.get(&b.id).map(|d| delivery_short(t, d)),
            })
            .collect(),
        compose_url: state.urls.admin("compose").to_string(),
        page,
    };
    render(&req, StatusCode::OK, &template)
}

/// "2/3 servers, 1 waiting", "sent to nobody": a bulletin's delivery in a list's cell.
fn delivery_short(t: &crate::web::i18n::Texts, sent: &deliveries::BulletinDelivery) -> String {
    if sent.servers == 0 {
        return t.get("reading.delivery_nobody").to_string();
    }
    let (delivered, servers) = (sent.delivered.to_string(), sent.servers.to_string());
    let mut parts = vec![t.plural(
        "reading.delivery_short",
        sent.servers as u64,
        &[("delivered", &delivered), ("servers", &servers)],
    )];
    if sent.waiting > 0 {
        parts.push(t.plural(
            "reading.delivery_waiting",
            sent.waiting as u64,
            &[("waiting", &sent.waiting.to_string())],
        ));
    }
    if !sent.failed.is_empty() {
        let failed = sent.failed.len();
        parts.push(t.plural("reading.delivery_failed", failed as u64, &[("failed", &failed.to_string())]));
    }
    parts.join(", ")
}
