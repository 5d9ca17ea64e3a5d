//! The list of bulletins.

use super::{
    common::{admin_page, status_of},
    session::Admin,
};
use crate::{
    app::bulletins,
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
            })
            .collect(),
        compose_url: state.urls.admin("compose").to_string(),
        page,
    };
    render(&req, StatusCode::OK, &template)
}
