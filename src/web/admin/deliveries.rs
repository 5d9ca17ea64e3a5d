//! Delivery health: the queue, each receiving inbox, retry now.

use super::{
    common::{admin_page, done_message, see_other},
    session::{Admin, AdminForm},
};
use crate::{
    app::deliveries,
    federation::Federation,
    web::{
        html::{render, Page, PageError, Section},
        state_of, views,
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

pub struct InboxRow {
    pub inbox: String,
    pub failures: i32,
    pub last_success: Option<views::When>,
    pub last_error: String,
    pub paused: bool,
}

#[derive(Template)]
#[template(path = "admin/deliveries.html")]
struct DeliveriesPage<'a> {
    page: Page<'a>,
    done: Option<String>,
    pending: usize,
    delivered: usize,
    given_up: usize,
    inboxes: Vec<InboxRow>,
    retry_url: String,
}

pub async fn deliveries(
    fed: web::Data<Federation>,
    req: HttpRequest,
    _admin: Admin,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let page = admin_page(state, &req, |t| t.get("admin_deliveries")).await?;
    let lang = page.t.lang;
    let queue = deliveries::status(state).await?;
    let template = DeliveriesPage {
        done: done_message(&req, page.t),
        pending: queue.pending.max(0) as usize,
        delivered: queue.delivered.max(0) as usize,
        given_up: queue.failed.max(0) as usize,
        inboxes: queue
            .inboxes
            .iter()
            .map(|h| InboxRow {
                inbox: h.inbox.clone(),
                failures: h.consecutive_failures,
                last_success: h.last_success_at.map(|at| views::when(state, at, lang)),
                last_error: h.last_error.clone().unwrap_or_default(),
                paused: h.paused_at.is_some(),
            })
            .collect(),
        retry_url: state.urls.admin("deliveries/retry").to_string(),
        page,
    };
    render(&req, StatusCode::OK, &template)
}

pub async fn retry_deliveries(fed: web::Data<Federation>, _csrf_checked: AdminForm) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    deliveries::retry_now(state).await?;
    Ok(see_other(format!("{}?done=retried", state.urls.admin("deliveries"))))
}
