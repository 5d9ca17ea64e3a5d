//! Followers: who they are (handle, name, server, since when, searchable), approve a pending one,
//! remove one.

use super::{
    common::{admin_page, done_message, see_other},
    session::{Admin, AdminForm},
};
use crate::{
    app::followers::{self, FollowState},
    federation::Federation,
    web::{
        html::{render, Page, PageError, Section},
        state_of, views,
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

pub struct FollowerRow {
    pub actor: String,
    pub handle: String,
    pub name: Option<String>,
    pub server: String,
    pub pending: bool,
    pub since: views::When,
    pub approve_url: String,
    pub remove_url: String,
}

#[derive(Template)]
#[template(path = "admin/followers.html")]
struct FollowersPage<'a> {
    page: Page<'a>,
    done: Option<String>,
    rows: Vec<FollowerRow>,
    manual: bool,
    /// The search typed (`?q=`), echoed in its box.
    q: String,
    search_url: String,
}

pub async fn followers(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let page = admin_page(state, &req, |t| t.get("admin_followers")).await?;
    let lang = page.t.lang;
    let q = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let all = followers::directory(state, None, Some(&q)).await?;
    let template = FollowersPage {
        done: done_message(&req, page.t),
        rows: all
            .into_iter()
            .map(|followers::FollowerEntry { follower: f, handle, name, server }| FollowerRow {
                actor: f.actor_id.clone(),
                handle,
                name,
                server,
                pending: f.status == FollowState::Pending,
                since: views::when(state, f.created_at, lang),
                approve_url: state.urls.admin(&format!("followers/{}/approve", f.id)).to_string(),
                remove_url: state.urls.admin(&format!("followers/{}/remove", f.id)).to_string(),
            })
            .collect(),
        manual: state.config.account.manually_approves_followers,
        search_url: state.urls.admin("followers").to_string(),
        q,
        page,
    };
    render(&req, StatusCode::OK, &template)
}

pub async fn follower_action(
    fed: web::Data<Federation>,
    path: web::Path<(i64, String)>,
    _csrf_checked: AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let (id, action) = path.into_inner();
    let result = match action.as_str() {
        "approve" => followers::approve_follower(state, id).await.map(|_| "approved"),
        "remove" => followers::remove_follower(state, id).await.map(|_| "removed"),
        _ => return Err(PageError::NotFound),
    };
    Ok(see_other(format!("{}?done={}", state.urls.admin("followers"), result?)))
}
