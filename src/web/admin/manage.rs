//! Admin pages for what surrounds the bulletins: the service catalogue, the label, the profile,
//! followers, peers (follow, unfollow, block), delivery health and API tokens.

use super::{
    admin_page, done_message, see_other,
    session::{Admin, AdminForm},
    FormData,
};
use crate::{
    app::{
        blocks as moderation,
        catalogue::{self, CatalogueError},
        profile,
    },
    bulletin::{vocab::*, ServiceDraft},
    db::models::{activities as queue, followers as follower_rows, label as label_rows, remote, tokens as token_rows},
    federation::{actors, Federation, FederationError},
    state::AppState,
    web::{
        html::{render, Page, PageError, Section},
        state_of,
        views::{self, Opt},
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

/// A refusal to show on the page (field named), or a server error.
fn refusal(message: impl ToString) -> Option<String> {
    Some(message.to_string())
}

fn internal(e: impl ToString) -> PageError {
    PageError::Internal(e.to_string())
}

// ---------------------------------------------------------------- services

pub struct ServiceForm {
    pub slug: String,
    pub name: String,
    pub software: String,
    pub url: String,
    pub description: String,
    pub audience: String,
    pub registrations: Vec<Opt>,
    pub status: Option<views::Badge>,
    pub action: String,
}

#[derive(Template)]
#[template(path = "admin/services.html")]
struct ServicesPage<'a> {
    page: Page<'a>,
    done: Option<String>,
    error: Option<String>,
    services: Vec<ServiceForm>,
    new_service: ServiceForm,
    add_url: String,
}

fn draft_of(form: &FormData, slug: Option<&str>) -> ServiceDraft {
    ServiceDraft {
        slug: slug.map(str::to_string).unwrap_or_else(|| form.get("slug").unwrap_or_default()),
        name: form.get("name").unwrap_or_default(),
        software: form.get("software").unwrap_or_default(),
        url: form.get("url").unwrap_or_default(),
        description: form.text("description"),
        audience: form.get("audience").unwrap_or_default(),
        registration: form.get("registration").unwrap_or_else(|| "open".into()),
    }
}

async fn services_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    error: Option<String>,
    typed: Option<ServiceDraft>,
) -> Result<HttpResponse, PageError> {
    let page = admin_page(state, req, |t| t.get("admin_services")).await?;
    let listed = catalogue::list_with_status(state).await?;
    let form_of = |d: &ServiceDraft, status: Option<views::Badge>, action: String| ServiceForm {
        slug: d.slug.clone(),
        name: d.name.clone(),
        software: d.software.clone(),
        url: d.url.clone(),
        description: d.description.clone(),
        audience: d.audience.clone(),
        registrations: views::options_of::<Registration>(page.t, Some(d.registration.as_str())),
        status,
        action,
    };
    let template = ServicesPage {
        done: done_message(req, page.t),
        error,
        services: listed
            .iter()
            .map(|(s, st)| {
                let d = ServiceDraft {
                    slug: s.slug.clone(),
                    name: s.name.clone(),
                    software: s.software.clone(),
                    url: s.url.clone(),
                    description: s.description.clone(),
                    audience: s.audience.clone(),
                    registration: s.registration.clone(),
                };
                form_of(
                    &d,
                    Some(views::status_badge(*st, page.t)),
                    state.urls.admin(&format!("services/{}", s.slug)).to_string(),
                )
            })
            .collect(),
        new_service: form_of(
            &typed.unwrap_or(ServiceDraft { registration: "open".into(), ..Default::default() }),
            None,
            String::new(),
        ),
        add_url: state.urls.admin("services").to_string(),
        page,
    };
    render(req, status, &template)
}

pub async fn services(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    services_page(state_of(&fed), &req, StatusCode::OK, None, None).await
}

fn catalogue_refusal(e: CatalogueError) -> Result<String, PageError> {
    match e {
        CatalogueError::Db(e) => Err(e.into()),
        other => Ok(other.to_string()),
    }
}

pub async fn add_service(
    fed: web::Data<Federation>,
    req: HttpRequest,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let draft = draft_of(&form, None);
    match catalogue::add(state, draft.clone()).await {
        Ok(_) => Ok(see_other(format!("{}?done=saved", state.urls.admin("services")))),
        Err(e) => {
            services_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, refusal(catalogue_refusal(e)?), Some(draft))
                .await
        }
    }
}

/// POST /admin/services/{slug}/{edit|remove}
pub async fn change_service(
    fed: web::Data<Federation>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let (slug, action) = path.into_inner();
    let result = match action.as_str() {
        "edit" => catalogue::edit(state, &slug, draft_of(&form, Some(&slug))).await.map(|_| "saved"),
        "remove" => catalogue::remove(state, &slug).await.map(|_| "removed"),
        _ => return Err(PageError::NotFound),
    };
    match result {
        Ok(done) => Ok(see_other(format!("{}?done={done}", state.urls.admin("services")))),
        Err(CatalogueError::NotFound(_)) => Err(PageError::NotFound),
        Err(e) => {
            services_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, refusal(catalogue_refusal(e)?), None).await
        }
    }
}

// ---------------------------------------------------------------- label

pub struct GradeForm {
    pub id: String,
    pub label: String,
    pub action: String,
    pub grades: Vec<Opt>,
    pub comment: String,
    pub evidence: String,
}

pub struct GradeSection {
    pub title: String,
    pub criteria: Vec<GradeForm>,
}

#[derive(Template)]
#[template(path = "admin/label.html")]
struct LabelPage<'a> {
    page: Page<'a>,
    done: Option<String>,
    error: Option<String>,
    sections: Vec<GradeSection>,
}

async fn label_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let page = admin_page(state, req, |t| t.get("admin_label")).await?;
    let lang = page.t.lang;
    let grades = state.db.read(label_rows::grades).await?;
    let sections = state
        .criteria
        .sections
        .iter()
        .map(|section| GradeSection {
            title: section.title(lang).to_string(),
            criteria: section
                .criteria
                .iter()
                .map(|c| {
                    let row = grades.iter().find(|g| g.criterion == c.id);
                    GradeForm {
                        id: c.id.clone(),
                        label: c.label(lang).to_string(),
                        action: state.urls.admin(&format!("label/{}", c.id)).to_string(),
                        grades: views::options_of::<Grade>(page.t, row.map(|g| g.grade.as_str())),
                        comment: row.and_then(|g| g.comment.clone()).unwrap_or_default(),
                        evidence: row.and_then(|g| g.evidence.clone()).unwrap_or_default(),
                    }
                })
                .collect(),
        })
        .collect();
    let template = LabelPage { done: done_message(req, page.t), error, sections, page };
    render(req, status, &template)
}

pub async fn label(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    label_page(state_of(&fed), &req, StatusCode::OK, None).await
}

pub async fn set_grade(
    fed: web::Data<Federation>,
    req: HttpRequest,
    criterion: web::Path<String>,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let grade = form.get("grade").unwrap_or_default();
    match crate::app::label::set_grade(state, &criterion, &grade, form.get("comment"), form.get("evidence")).await {
        Ok(_) => Ok(see_other(format!("{}?done=saved#{}", state.urls.admin("label"), criterion.as_str()))),
        Err(FederationError::Bulletin(e)) => {
            label_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, refusal(e)).await
        }
        Err(e) => Err(internal(e)),
    }
}

// ---------------------------------------------------------------- profile

#[derive(Template)]
#[template(path = "admin/profile.html")]
struct ProfilePage<'a> {
    page: Page<'a>,
    done: Option<String>,
    error: Option<String>,
    fields: Vec<(&'static str, String, String, bool)>,
    action: String,
}

async fn profile_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let page = admin_page(state, req, |t| t.get("admin_profile")).await?;
    let p = profile::effective(state).await?;
    // (form name, label, current value, multi-line)
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let t = page.t;
    let fields = vec![
        ("display_name", t.get("display_name").to_string(), p.display_name.clone(), false),
        ("summary", t.get("summary").to_string(), p.summary.clone(), true),
        ("structure_type", t.get("structure").to_string(), value(&p.structure_type), false),
        ("country", t.get("country").to_string(), value(&p.country), false),
        ("region", t.get("region").to_string(), value(&p.region), false),
        ("website", t.get("website").to_string(), value(&p.website), false),
        ("contact", t.get("contact").to_string(), value(&p.contact), false),
        ("logo", t.get("logo").to_string(), value(&p.logo), false),
    ];
    let template = ProfilePage {
        done: done_message(req, page.t),
        error,
        fields,
        action: state.urls.admin("profile").to_string(),
        page,
    };
    render(req, status, &template)
}

pub async fn profile(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    profile_page(state_of(&fed), &req, StatusCode::OK, None).await
}

pub async fn save_profile(
    fed: web::Data<Federation>,
    req: HttpRequest,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    // Every field is on the form: an empty one clears it (`Some("")`).
    let field = |name: &str| Some(form.text(name).trim().to_string());
    let edit = profile::ProfileEdit {
        display_name: field("display_name"),
        summary: field("summary"),
        structure_type: field("structure_type"),
        country: field("country"),
        region: field("region"),
        website: field("website"),
        contact: field("contact"),
        logo: field("logo"),
    };
    match profile::set(state, edit).await {
        Ok(_) => {
            crate::app::profile::federate_profile_if_changed(state).await.map_err(internal)?;
            Ok(see_other(format!("{}?done=saved", state.urls.admin("profile"))))
        }
        Err(profile::ProfileError::Invalid { field, reason }) => {
            profile_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, refusal(format!("{field}: {reason}"))).await
        }
        Err(e) => Err(internal(e)),
    }
}

// ---------------------------------------------------------------- followers

pub struct FollowerRow {
    pub actor: String,
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
}

pub async fn followers(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let page = admin_page(state, &req, |t| t.get("admin_followers")).await?;
    let lang = page.t.lang;
    let all = state.db.read(|c| follower_rows::list(c, None)).await?;
    let template = FollowersPage {
        done: done_message(&req, page.t),
        rows: all
            .iter()
            .map(|f| FollowerRow {
                actor: f.actor_id.clone(),
                pending: f.status == follower_rows::PENDING,
                since: views::when(state, f.created_at, lang),
                approve_url: state.urls.admin(&format!("followers/{}/approve", f.id)).to_string(),
                remove_url: state.urls.admin(&format!("followers/{}/remove", f.id)).to_string(),
            })
            .collect(),
        manual: state.config.account.manually_approves_followers,
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
        "approve" => crate::app::followers::approve_follower(state, id).await.map(|_| "approved"),
        "remove" => crate::app::followers::remove_follower(state, id).await.map(|_| "removed"),
        _ => return Err(PageError::NotFound),
    };
    match result {
        Ok(done) => Ok(see_other(format!("{}?done={done}", state.urls.admin("followers")))),
        Err(FederationError::NotFound) | Err(FederationError::Bulletin(_)) => Err(PageError::NotFound),
        Err(e) => Err(internal(e)),
    }
}

// ---------------------------------------------------------------- peers

pub struct PeerRow {
    pub actor: String,
    pub status: String,
    pub since: views::When,
}

pub struct BlockRow {
    pub domain: String,
    pub reason: String,
    pub since: views::When,
}

#[derive(Template)]
#[template(path = "admin/peers.html")]
struct PeersPage<'a> {
    page: Page<'a>,
    done: Option<String>,
    error: Option<String>,
    following: Vec<PeerRow>,
    blocks: Vec<BlockRow>,
    base: String,
}

async fn peers_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let page = admin_page(state, req, |t| t.get("admin_peers")).await?;
    let lang = page.t.lang;
    let following = state.db.read(remote::list_following).await?;
    let blocks = moderation::list(state).await?;
    let template = PeersPage {
        done: done_message(req, page.t),
        error,
        following: following
            .iter()
            .map(|f| PeerRow {
                actor: f.actor_id.clone(),
                status: if f.status == "accepted" {
                    page.t.get("accepted").into()
                } else {
                    page.t.get("pending").into()
                },
                since: views::when(state, f.created_at, lang),
            })
            .collect(),
        blocks: blocks
            .iter()
            .map(|b| BlockRow {
                domain: b.domain.clone(),
                reason: b.reason.clone().unwrap_or_default(),
                since: views::when(state, b.created_at, lang),
            })
            .collect(),
        base: state.urls.admin("peers").to_string(),
        page,
    };
    render(req, status, &template)
}

pub async fn peers(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    peers_page(state_of(&fed), &req, StatusCode::OK, None).await
}

/// POST /admin/peers/{follow|unfollow|block|unblock}
pub async fn peer_action(
    fed: web::Data<Federation>,
    req: HttpRequest,
    action: web::Path<String>,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let target = form.get("target").unwrap_or_default();
    let refused = |message: String| peers_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, Some(message));
    if target.is_empty() {
        let t = state.texts.texts(crate::web::i18n::choose(&req, state.config.default_language()));
        return refused(format!("target: {}", t.get("required"))).await;
    }
    let done = match action.as_str() {
        "follow" => {
            let data = fed.to_request_data();
            let followed = async {
                let actor = actors::resolve(&data, &target).await?;
                let url = url::Url::parse(&actor.id).map_err(|e| FederationError::BadRequest(e.to_string()))?;
                crate::app::peers::follow(state, &data, &url).await
            }
            .await;
            match followed {
                Ok(_) => "followed",
                Err(FederationError::Db(e)) => return Err(e.into()),
                Err(e) => return refused(format!("target: {e}")).await,
            }
        }
        "unfollow" => match crate::app::peers::unfollow(state, &target).await {
            Ok(true) => "unfollowed",
            Ok(false) => return Err(PageError::NotFound),
            Err(e) => return Err(internal(e)),
        },
        "block" => match moderation::block(state, &target, form.get("reason")).await {
            Ok(_) => "blocked",
            Err(moderation::BlockError::Db(e)) => return Err(e.into()),
            Err(e) => return refused(format!("target: {e}")).await,
        },
        "unblock" => match moderation::unblock(state, &target).await {
            Ok(true) => "unblocked",
            Ok(false) => return Err(PageError::NotFound),
            Err(e) => return Err(internal(e)),
        },
        _ => return Err(PageError::NotFound),
    };
    Ok(see_other(format!("{}?done={done}", state.urls.admin("peers"))))
}

// ---------------------------------------------------------------- deliveries

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
    pending: i64,
    delivered: i64,
    given_up: i64,
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
    let (pending, delivered, given_up, health) = state
        .db
        .read(|c| {
            Ok((
                queue::count_by_status(c, "pending")?,
                queue::count_by_status(c, "delivered")?,
                queue::count_by_status(c, "failed")?,
                queue::health(c)?,
            ))
        })
        .await?;
    let template = DeliveriesPage {
        done: done_message(&req, page.t),
        pending,
        delivered,
        given_up,
        inboxes: health
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
    state.db.write(queue::retry_now).await?;
    state.delivery_wakeup.notify_waiters();
    Ok(see_other(format!("{}?done=retried", state.urls.admin("deliveries"))))
}

// ---------------------------------------------------------------- API tokens

pub struct TokenRow {
    pub name: String,
    pub created: views::When,
    pub last_used: Option<views::When>,
    pub revoked: bool,
    pub revoke_url: String,
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage<'a> {
    page: Page<'a>,
    done: Option<String>,
    error: Option<String>,
    /// A token just created: its secret, shown this once.
    secret: Option<(String, String)>,
    tokens: Vec<TokenRow>,
    create_url: String,
    api_doc: String,
}

async fn tokens_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    error: Option<String>,
    secret: Option<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let page = admin_page(state, req, |t| t.get("admin_tokens")).await?;
    let lang = page.t.lang;
    let all = state.db.read(token_rows::list).await?;
    let template = TokensPage {
        done: done_message(req, page.t),
        error,
        secret,
        tokens: all
            .iter()
            .map(|t| TokenRow {
                name: t.name.clone(),
                created: views::when(state, t.created_at, lang),
                last_used: t.last_used_at.map(|at| views::when(state, at, lang)),
                revoked: t.is_revoked(),
                revoke_url: state.urls.admin(&format!("tokens/{}/revoke", t.id)).to_string(),
            })
            .collect(),
        create_url: state.urls.admin("tokens").to_string(),
        api_doc: state.urls.base().join("api/v1/admin/bulletins").map(|u| u.to_string()).unwrap_or_default(),
        page,
    };
    render(req, status, &template)
}

pub async fn tokens(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    tokens_page(state_of(&fed), &req, StatusCode::OK, None, None).await
}

/// POST /admin/tokens: the new token's secret is shown on the answer itself, never again.
pub async fn create_token(
    fed: web::Data<Federation>,
    req: HttpRequest,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let name = match token_rows::validate_name(&form.text("name")) {
        Ok(name) => name,
        Err(e) => return tokens_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, refusal(e), None).await,
    };
    let now = state.clock.now();
    let (token, secret) = state.db.write(move |c| token_rows::create(c, &name, now)).await?;
    let mut response = tokens_page(state, &req, StatusCode::OK, None, Some((token.name, secret))).await?;
    // The secret must not linger in any cache.
    response
        .headers_mut()
        .insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
    Ok(response)
}

pub async fn revoke_token(
    fed: web::Data<Federation>,
    id: web::Path<i64>,
    _csrf_checked: AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let now = state.clock.now();
    let id = id.into_inner();
    if !state.db.write(move |c| token_rows::revoke(c, id, now)).await? {
        return Err(PageError::NotFound);
    }
    Ok(see_other(format!("{}?done=revoked", state.urls.admin("tokens"))))
}
