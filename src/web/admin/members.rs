//! The collective role: the roster (add, approve, remove), the Group's followers and relay
//! subscribers; and on any host, joining a collective and the state of the requests.

use super::{
    common::{admin_page, form_errors, logo_upload, refusal, see_other, visitor_texts, FormErrors},
    session::{Admin, AdminForm},
};
use crate::{
    app::{
        collective::{self, JoinState, JoinedVia, MemberState},
        media,
    },
    federation::Federation,
    state::AppState,
    web::{
        html::{render, Page, PageError, Section},
        state_of, views,
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

pub struct MemberRow {
    pub handle: String,
    pub actor: String,
    pub pending: bool,
    pub state: String,
    pub joined_via: String,
    pub since: views::When,
}

pub struct FollowerRow {
    pub actor: String,
    pub relay: bool,
    pub health: String,
}

pub struct JoinRow {
    pub handle: String,
    pub actor: String,
    pub state: String,
    /// Asked or accepted: the Leave button is offered (it withdraws a pending request).
    pub can_leave: bool,
    pub since: views::When,
}

#[derive(Template)]
#[template(path = "admin/members.html")]
struct MembersPage<'a> {
    page: Page<'a>,
    done: Option<String>,
    error: Option<String>,
    enabled: bool,
    group: String,
    members: Vec<MemberRow>,
    followers: Vec<FollowerRow>,
    joins: Vec<JoinRow>,
    base: String,
    logo: super::profile::LogoForm,
}

async fn members_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    error: Option<String>,
    logo_errors: FormErrors,
) -> Result<HttpResponse, PageError> {
    let page = admin_page(state, req, |t| t.get("collective.admin_title")).await?;
    let t = page.t;
    let lang = t.lang;
    let enabled = collective::enabled(state);
    let members = if enabled { collective::list_members(state, None).await? } else { vec![] };
    let followers = if enabled { collective::followers(state, None).await? } else { vec![] };
    let joins = collective::join_requests(state).await?;
    let done = url::form_urlencoded::parse(req.query_string().as_bytes()).find(|(k, _)| k == "done").and_then(
        |(_, v)| match v.as_ref() {
            "added" => Some(t.get("collective.done_added").to_string()),
            "removed" => Some(t.get("collective.done_removed").to_string()),
            "joined" => Some(t.get("collective.done_joined").to_string()),
            "left" => Some(t.get("collective.done_left").to_string()),
            "logo" => Some(t.get("done_saved").to_string()),
            "logo_removed" => Some(t.get("done_removed").to_string()),
            _ => None,
        },
    );
    let current = match enabled {
        true => collective::logo(state).await?.map(|l| state.urls.media(&l.file).to_string()),
        false => None,
    };
    let mut logo = super::profile::LogoForm::new(state, t, current, format!("{}/logo", state.urls.admin_members()));
    logo.errors = logo_errors;
    let template = MembersPage {
        logo,
        done,
        error,
        enabled,
        group: state
            .config
            .collective_account()
            .map(|name| format!("@{name}@{}", state.config.instance.domain))
            .unwrap_or_default(),
        members: members
            .into_iter()
            .map(|m| MemberRow {
                pending: m.state == MemberState::Pending,
                state: match m.state {
                    MemberState::Pending => t.get("collective.state_pending"),
                    MemberState::Approved => t.get("collective.state_approved"),
                }
                .to_string(),
                joined_via: match m.joined_via {
                    JoinedVia::Added => t.get("collective.via_added"),
                    JoinedVia::Request => t.get("collective.via_request"),
                }
                .to_string(),
                since: views::when(state, m.since, lang),
                handle: m.handle,
                actor: m.actor_id,
            })
            .collect(),
        followers: followers
            .into_iter()
            .map(|f| FollowerRow {
                health: match (f.paused_since, f.failures) {
                    (Some(_), _) => t.get("collective.health_paused").to_string(),
                    (None, 0) => t.get("collective.health_ok").to_string(),
                    (None, n) => t.plural("collective.health_failing", n.max(0) as u64, &[("count", &n.to_string())]),
                },
                relay: f.follower.is_relay,
                actor: f.follower.actor_id,
            })
            .collect(),
        joins: joins
            .into_iter()
            .map(|j| JoinRow {
                state: match j.state {
                    JoinState::Pending => t.get("collective.join_pending"),
                    JoinState::Accepted => t.get("collective.join_accepted"),
                    JoinState::Rejected => t.get("collective.join_rejected"),
                    JoinState::Removed => t.get("collective.join_removed"),
                    JoinState::Left => t.get("collective.join_left"),
                }
                .to_string(),
                can_leave: matches!(j.state, JoinState::Pending | JoinState::Accepted),
                since: views::when(state, j.created_at, lang),
                handle: j.handle,
                actor: j.group_actor_id,
            })
            .collect(),
        base: state.urls.admin_members().to_string(),
        page,
    };
    render(req, status, &template)
}

pub async fn members(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    members_page(state_of(&fed), &req, StatusCode::OK, None, FormErrors::default()).await
}

/// POST /admin/members/{add|remove|join|leave}
pub async fn member_action(
    fed: web::Data<Federation>,
    req: HttpRequest,
    action: web::Path<String>,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let target = form.get("target").unwrap_or_default();
    let refused = |message: String| {
        members_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, Some(message), FormErrors::default())
    };
    if target.trim().is_empty() {
        let required = crate::app::AppError::refused("target", crate::refusal::Kind::Required, &[]);
        return refused(refusal(state, &req, required)?.unwrap_or_default()).await;
    }
    let data = fed.to_request_data();
    let done = match action.as_str() {
        "add" => collective::add_member(state, &data, &target).await.map(|_| "added"),
        "remove" => collective::remove_member(state, &target).await.map(|_| "removed"),
        "join" => collective::join(state, &data, &target).await.map(|_| "joined"),
        "leave" => collective::leave(state, &target).await.map(|_| "left"),
        _ => return Err(PageError::NotFound),
    };
    match done {
        Ok(done) => Ok(see_other(format!("{}?done={done}", state.urls.admin_members()))),
        Err(e) => refused(refusal(state, &req, e.about("target"))?.unwrap_or_default()).await,
    }
}

/// POST /admin/members/logo: the collective's logo (multipart, with the CSRF token).
pub async fn upload_logo(
    fed: web::Data<Federation>,
    req: HttpRequest,
    Admin(admin): Admin,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let uploaded = match logo_upload(state, &req, &admin.csrf, payload).await? {
        Ok(upload) => collective::set_logo(state, upload).await.map(|_| ()),
        Err(refused) => Err(refused),
    };
    match uploaded {
        Ok(()) => Ok(see_other(format!("{}?done=logo", state.urls.admin_members()))),
        Err(e) => {
            let status =
                if media::is_too_big(&e) { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::UNPROCESSABLE_ENTITY };
            let errors = form_errors(e, visitor_texts(state, &req), "")?;
            members_page(state, &req, status, None, errors).await
        }
    }
}

/// POST /admin/members/logo/remove
pub async fn remove_logo(
    fed: web::Data<Federation>,
    _req: HttpRequest,
    AdminForm(_form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    collective::remove_logo(state).await?;
    Ok(see_other(format!("{}?done=logo_removed", state.urls.admin_members())))
}
