//! The public pages: the host, its status, a bulletin, a service, a hashtag, the federated
//! timeline and the directory of peers. Each is the HTML face of a URL whose ActivityPub face
//! (where it has one) is in `activitypub.rs`.

use super::{
    api::{DirectoryParams, TimelineQuery},
    collective_pages::{collective_feeds, collective_nav, CollectiveNav, CollectiveTab},
    html::{page, render, FeedLink, OpenGraph, Page, PageError, Section},
    state_of,
    views::{self, Badge, BulletinCard, ChangeView, Opt, SectionView, ServiceView},
};
use crate::{
    app::{
        bulletins::{Bulletin, Translation},
        status, timeline,
    },
    bulletin::{
        render::{markdown_to_html, sanitize_html},
        vocab::*,
    },
    federation::Federation,
    state::AppState,
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

/// Days of past incidents and maintenance the status page shows.
const STATUS_HISTORY_DAYS: i64 = 30;

/// The host's feeds: bulletins in Atom and RSS, maintenance windows in iCalendar.
fn host_feeds(state: &AppState, t: &super::i18n::Texts) -> Vec<FeedLink> {
    vec![
        FeedLink {
            title: t.get("feed_bulletins").into(),
            mime: "application/atom+xml",
            href: state.urls.host_feed().into(),
        },
        FeedLink {
            title: t.get("feed_bulletins_rss").into(),
            mime: "application/rss+xml",
            href: state.urls.host_feed_rss().into(),
        },
        FeedLink {
            title: t.get("feed_maintenance_ics").into(),
            mime: "text/calendar",
            href: state.urls.host_maintenance_calendar().into(),
        },
    ]
}

// ---------------------------------------------------------------- host page

/// The profile's logo when it is a web address (an uploaded one is served by this host).
fn web_logo(profile: &crate::config::AccountConfig) -> Option<String> {
    profile.logo.clone().filter(|l| l.starts_with("https://") || l.starts_with("http://"))
}

#[derive(Template)]
#[template(path = "host.html")]
struct HostPage<'a> {
    page: Page<'a>,
    summary_html: String,
    logo: Option<String>,
    /// (name, value, link): the contact is a link.
    facts: Vec<(String, String, Option<String>)>,
    website: Option<String>,
    alerts: Vec<ChangeView>,
    services: Vec<ServiceView>,
    label: Vec<SectionView>,
    /// The whole label's score, worded as on the directory.
    label_score: String,
    latest: Vec<BulletinCard>,
    subscribe: Option<super::subscriptions::SubscribeForm>,
}

pub async fn home(fed: web::Data<Federation>, req: HttpRequest) -> Result<HttpResponse, PageError> {
    host_page(state_of(&fed), &req).await
}

pub async fn host_page(state: &AppState, req: &HttpRequest) -> Result<HttpResponse, PageError> {
    let overview = status::host_overview(state).await?;
    let profile = &overview.profile;
    let mut page = page(state, req, Section::Host, profile.display_name.clone()).await?;
    let t = page.t;
    page.activity_alternate = Some(state.urls.host_actor().to_string());
    page.feeds = host_feeds(state, t);
    // The organisation file stats.chatons.org reads, beside the feeds.
    page.feeds.push(FeedLink {
        title: t.get("chatonsinfos.link").into(),
        mime: "text/plain",
        href: state.urls.chatonsinfos_organization().into(),
    });
    page.og = Some(OpenGraph {
        kind: "profile",
        title: profile.display_name.clone(),
        // Plain text: the summary is Markdown, and `**Nextcloud**` reads badly in a preview card.
        description: description_of(&markdown_to_html(&profile.summary)),
        url: state.urls.host_actor().to_string(),
        locale: page.lang.into(),
        image: web_logo(profile),
    });
    let mut facts = vec![(t.get("handle").to_string(), state.config.handle(), None)];
    let given = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    if let Some(structure) = given(&profile.structure_type) {
        facts.push((t.get("structure").to_string(), structure, None));
    }
    if let Some(country) = given(&profile.country) {
        facts.push((t.get("country").to_string(), views::country_name(&country, t), None));
    }
    if let Some(region) = given(&profile.region) {
        facts.push((t.get("region").to_string(), region, None));
    }
    if let Some(contact) = given(&profile.contact) {
        // An address reads without its scheme; the link keeps it.
        let shown = contact.strip_prefix("mailto:").unwrap_or(&contact).to_string();
        let link = ["mailto:", "https://", "http://"].iter().any(|s| contact.starts_with(s)).then_some(contact);
        facts.push((t.get("contact").to_string(), shown, link));
    }
    let languages = views::language_names(state, profile.languages.iter().map(String::as_str), t);
    facts.push((t.get("languages").to_string(), languages, None));
    let template = HostPage {
        summary_html: markdown_to_html(&profile.summary),
        logo: web_logo(profile),
        website: profile.website.clone().filter(|w| w.starts_with("https://") || w.starts_with("http://")),
        facts,
        alerts: overview
            .open
            .iter()
            .map(|c| views::change_view(state, &c.root, &c.follow_ups, &c.translations, t))
            .collect(),
        services: overview.services.iter().map(|(s, status)| views::service_view(state, s, *status, t.lang)).collect(),
        label: views::label_sections(&overview.label, t),
        label_score: views::label_score(views::sheet_score(&overview.label), t),
        latest: overview.latest.iter().map(|p| views::card(state, &p.bulletin, &p.translations, t.lang)).collect(),
        subscribe: super::subscriptions::form(state, overview.services.iter().map(|(s, _)| s)),
        page,
    };
    render(req, StatusCode::OK, &template)
}

// ---------------------------------------------------------------- status page

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage<'a> {
    page: Page<'a>,
    overall: Badge,
    services: Vec<ServiceView>,
    incidents: Vec<ChangeView>,
    ongoing: Vec<ChangeView>,
    upcoming: Vec<ChangeView>,
    past_maintenance: Vec<ChangeView>,
    history_note: String,
    subscribe: Option<super::subscriptions::SubscribeForm>,
}

pub async fn status_page(fed: web::Data<Federation>, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let mut page = page(state, &req, Section::Status, String::new()).await?;
    let t = page.t;
    page.title = t.get("status_title").to_string();
    page.feeds = host_feeds(state, t);
    let history = status::status_history(state, STATUS_HISTORY_DAYS).await?;
    let overall = match history.worst {
        None | Some(ServiceStatus::Operational) => {
            Badge { class: "s-operational".into(), label: t.get("status_all_operational").into() }
        }
        Some(status) => views::status_badge(status, t),
    };
    let changes = |list: &[status::ChangeThread]| -> Vec<ChangeView> {
        list.iter().map(|c| views::change_view(state, &c.root, &c.follow_ups, &c.translations, t)).collect()
    };
    let template = StatusPage {
        overall,
        services: history.services.iter().map(|(s, status)| views::service_view(state, s, *status, t.lang)).collect(),
        incidents: changes(&history.incidents),
        ongoing: changes(&history.ongoing_maintenance),
        upcoming: changes(&history.upcoming),
        past_maintenance: changes(&history.past_maintenance),
        history_note: t.plural("last_days", STATUS_HISTORY_DAYS as u64, &[("days", &STATUS_HISTORY_DAYS.to_string())]),
        subscribe: super::subscriptions::form(state, history.services.iter().map(|(s, _)| s)),
        page,
    };
    render(&req, StatusCode::OK, &template)
}

// ---------------------------------------------------------------- bulletin page

#[derive(Template)]
#[template(path = "bulletin.html")]
struct BulletinPage<'a> {
    page: Page<'a>,
    card: BulletinCard,
    content_html: String,
    text_lang: String,
    /// Other languages this bulletin is written in: (code, link).
    /// What comes before it ("Aussi en", ", en", " et en"), code, name in the visitor's language
    /// ("anglais"), link.
    other_langs: Vec<(String, String, String, String)>,
    services: Vec<(String, String)>,
    window: Option<views::Window>,
    impact: Option<String>,
    status: Option<Badge>,
    updated: Option<views::When>,
    thread_root: Option<BulletinCard>,
    follow_ups: Vec<BulletinCard>,
    admin_url: Option<String>,
}

/// A bulletin in the visitor's language when it carries that translation (`?lang=` switches).
pub async fn bulletin_page(
    state: &AppState,
    req: &HttpRequest,
    bulletin: &Bulletin,
    translations: &[Translation],
) -> Result<HttpResponse, PageError> {
    let mut page = page(state, req, Section::Host, String::new()).await?;
    let t = page.t;
    let (text_lang, title, content) = views::text_in(bulletin, translations, t.lang);
    let url = state.urls.bulletin(&bulletin.id).to_string();
    page.title = title.to_string();
    page.activity_alternate = Some(url.clone());
    page.og = Some(OpenGraph {
        kind: "article",
        title: title.to_string(),
        description: description_of(content),
        url: url.clone(),
        locale: text_lang.to_string(),
        image: web_logo(&crate::app::profile::effective(state).await?),
    });
    let meta = bulletin.meta();
    let thread = status::thread_of(state, bulletin).await?;
    let mut langs: Vec<&str> = vec![bulletin.lang.as_str()];
    langs.extend(translations.iter().map(|t| t.lang.as_str()));
    let template = BulletinPage {
        card: views::card(state, bulletin, translations, t.lang),
        content_html: page_body(content, &url),
        text_lang: text_lang.to_string(),
        other_langs: {
            let others: Vec<&str> = langs.into_iter().filter(|l| *l != text_lang).collect();
            let last = others.len().saturating_sub(1);
            others
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let before = match i {
                        0 => t.get("also_in"),
                        i if i == last => t.get("also_in_and"),
                        _ => t.get("also_in_comma"),
                    };
                    (before.to_string(), l.to_string(), state.texts.language_name_in(l, t), format!("{url}?lang={l}"))
                })
                .collect()
        },
        services: meta.service.iter().map(|s| (s.name.clone(), s.id.clone())).collect(),
        window: views::window(state, bulletin.starts_at, bulletin.ends_at, t),
        impact: meta.impact.map(|i| i.label(t).to_string()),
        status: meta.service_status.map(|s| views::status_badge(s, t)),
        updated: bulletin.updated_at.map(|u| views::when(state, u, t.lang)),
        thread_root: thread.root.as_ref().map(|r| views::card(state, r, &[], t.lang)),
        follow_ups: thread
            .replies
            .iter()
            .filter(|r| r.id != bulletin.id)
            .rev()
            .map(|r| views::card(state, r, &[], t.lang))
            .collect(),
        admin_url: page.admin.as_ref().map(|_| state.urls.admin(&format!("bulletins/{}", bulletin.id)).to_string()),
        page,
    };
    render(req, StatusCode::OK, &template)
}

/// A bulletin's content as its own page shows it: the title is the page's `<h1>`, so the post's
/// bold title paragraph goes, and so does the "Details: <this page>" line that links here.
fn page_body(content: &str, own_url: &str) -> String {
    let mut body = content.trim_start();
    if let Some(rest) = body.strip_prefix("<p><strong>") {
        if let Some(end) = rest.find("</strong></p>") {
            body = &rest[end + "</strong></p>".len()..];
        }
    }
    let self_link = format!("<a href=\"{0}\">{0}</a></p>", crate::bulletin::render::escape(own_url));
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find(&self_link) {
        let (before, after) = rest.split_at(at);
        out.push_str(before.rfind("<p>").map_or(before, |start| &before[..start]));
        rest = &after[self_link.len()..];
    }
    out.push_str(rest);
    out
}

/// Plain text for OpenGraph's description: the content's text on one line, 200 characters.
fn description_of(html: &str) -> String {
    let text = crate::bulletin::render::plain_text(html);
    text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect()
}

// ---------------------------------------------------------------- service page

#[derive(Template)]
#[template(path = "service.html")]
struct ServicePage<'a> {
    page: Page<'a>,
    service: ServiceView,
    changes: Vec<ChangeView>,
}

pub async fn service_page(state: &AppState, req: &HttpRequest, slug: &str) -> Result<HttpResponse, PageError> {
    let status::ServiceHistory { service, status, changes } = status::service_history(state, slug).await?;
    let mut page = page(state, req, Section::Status, service.name.clone()).await?;
    page.activity_alternate = Some(state.urls.service(&service.slug).to_string());
    let t = page.t;
    let template = ServicePage {
        service: views::service_view(state, &service, status, t.lang),
        changes: changes
            .iter()
            .map(|c| views::change_view(state, &c.root, &c.follow_ups, &c.translations, t))
            .collect(),
        page,
    };
    render(req, StatusCode::OK, &template)
}

// ---------------------------------------------------------------- hashtag page

#[derive(Template)]
#[template(path = "tag.html")]
struct TagPage<'a> {
    page: Page<'a>,
    tag: String,
    bulletins: Vec<BulletinCard>,
}

/// Bulletins carrying a hashtag (the `href` of our `Hashtag` tags).
pub async fn tag_page(
    fed: web::Data<Federation>,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let tag = name.into_inner().to_lowercase();
    let tagged = status::tagged(state, &tag).await?;
    let page = page(state, &req, Section::None, format!("#{tag}")).await?;
    let lang = page.t.lang;
    let template = TagPage { bulletins: tagged.iter().map(|b| views::card(state, b, &[], lang)).collect(), tag, page };
    render(&req, StatusCode::OK, &template)
}

// ---------------------------------------------------------------- federated timeline

pub struct TimelineEntry {
    pub url: Option<String>,
    pub author: String,
    pub author_url: String,
    pub domain: String,
    pub local: bool,
    pub kind: String,
    pub published: views::When,
    pub content_html: String,
    pub lang: Option<String>,
    pub state: Option<Badge>,
    pub impact: Option<String>,
}

#[derive(Template)]
#[template(path = "timeline.html")]
struct TimelinePage<'a> {
    page: Page<'a>,
    collective: Option<CollectiveNav>,
    members_only: bool,
    query: TimelineQuery,
    error: Option<String>,
    entries: Vec<TimelineEntry>,
    next_url: Option<String>,
    first_url: Option<String>,
    kinds: Vec<Opt>,
    impacts: Vec<Opt>,
}

/// Empty form fields are "no filter" here (the JSON API counts them as values).
fn without_empty(value: &Option<String>) -> Option<String> {
    value.clone().filter(|v| !v.trim().is_empty())
}

pub async fn timeline_page(
    fed: web::Data<Federation>,
    req: HttpRequest,
    query: web::Query<TimelineQuery>,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let mut page = page(state, &req, Section::Timeline, String::new()).await?;
    let t = page.t;
    page.title = t.get("timeline_title").to_string();
    let query = TimelineQuery {
        kind: without_empty(&query.kind),
        peer: without_empty(&query.peer),
        service: without_empty(&query.service),
        impact: without_empty(&query.impact),
        lang: without_empty(&query.lang),
        since: without_empty(&query.since),
        until: without_empty(&query.until),
        before: without_empty(&query.before),
        limit: Some(query.limit.unwrap_or(20)),
        members: without_empty(&query.members),
    };
    let (mut status, mut error, mut entries, mut next_url) = (StatusCode::OK, None, Vec::new(), None);
    let members_only = query.members.as_deref() == Some("true");
    if members_only {
        page.title = t.get("collective_pages.timeline_title").to_string();
    }
    match query.request(20) {
        Err(e) => {
            status = StatusCode::BAD_REQUEST;
            error = Some(e.message);
        }
        Ok(request) => {
            let found = timeline::request(state, request).await?;
            if let Some(cursor) = found.next {
                let mut next = query.clone();
                next.before = Some(cursor);
                next.limit = None;
                next_url = Some(format!("{}?{}", state.urls.timeline_page(), query_string(&next)));
            }
            for item in found.items {
                let meta = item.meta.as_ref();
                entries.push(TimelineEntry {
                    // Sanitised when stored; again here, as remote HTML is never trusted twice.
                    content_html: if item.local { item.content.clone() } else { sanitize_html(&item.content) },
                    url: item
                        .url
                        .clone()
                        .or(Some(item.id.clone()))
                        .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
                    author: item.author_name.clone(),
                    author_url: item.actor.clone(),
                    domain: item.domain.clone(),
                    local: item.local,
                    kind: match meta.and_then(|m| m.change_type) {
                        Some(change) => change.label(t).to_string(),
                        None if item.kind == "post" || meta.is_none() => t.get("kind_post").to_string(),
                        None => meta.map(|m| m.bulletin_kind.label(t).to_string()).unwrap_or_default(),
                    },
                    published: views::when(state, item.published, t.lang),
                    lang: item.lang.clone(),
                    state: meta.and_then(|m| m.state).map(|s| views::state_badge(s, t)),
                    impact: meta.and_then(|m| m.impact).map(|i| i.label(t).to_string()),
                });
            }
        }
    }
    let mut filters = query.clone();
    filters.before = None;
    filters.limit = None;
    let filters = query_string(&filters);
    let with_filters = |url: url::Url| if filters.is_empty() { url.to_string() } else { format!("{url}?{filters}") };
    page.feeds = vec![
        FeedLink {
            title: t.get("feed_timeline_atom").into(),
            mime: "application/atom+xml",
            href: with_filters(state.urls.timeline_atom()),
        },
        FeedLink {
            title: t.get("feed_timeline_rss").into(),
            mime: "application/rss+xml",
            href: with_filters(state.urls.timeline_rss()),
        },
    ];
    let first_url = query.before.as_ref().map(|_| {
        let mut first = query.clone();
        first.before = None;
        first.limit = None;
        format!("{}?{}", state.urls.timeline_page(), query_string(&first))
    });
    if members_only {
        page.feeds.extend(collective_feeds(state, t));
    }
    let template = TimelinePage {
        collective: collective_nav(state, t, members_only.then_some(CollectiveTab::Timeline)),
        members_only,
        kinds: views::options_of::<BulletinKind>(t, query.kind.as_deref()),
        impacts: views::options_of::<Impact>(t, query.impact.as_deref()),
        query,
        error,
        entries,
        next_url,
        first_url,
        page,
    };
    render(&req, status, &template)
}

fn query_string(q: &TimelineQuery) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("kind", &q.kind),
        ("peer", &q.peer),
        ("service", &q.service),
        ("impact", &q.impact),
        ("lang", &q.lang),
        ("since", &q.since),
        ("until", &q.until),
        ("before", &q.before),
        ("members", &q.members),
    ] {
        if let Some(value) = value {
            out.append_pair(name, value);
        }
    }
    out.finish()
}

// ---------------------------------------------------------------- directory

pub struct PeerView {
    pub name: String,
    pub actor: String,
    pub home: String,
    pub domain: String,
    pub summary: String,
    pub country: Option<String>,
    pub languages: String,
    pub services: Vec<PeerService>,
    /// Its label score ("7 critères respectés sur 10").
    pub score: String,
    pub fetched: String,
}

pub struct PeerService {
    pub name: String,
    pub software: String,
    pub url: Option<String>,
    pub status: Badge,
    pub registration: String,
}

#[derive(Template)]
#[template(path = "directory.html")]
struct DirectoryPage<'a> {
    page: Page<'a>,
    collective: Option<CollectiveNav>,
    members_only: bool,
    params: DirectoryParams,
    error: Option<String>,
    peers: Vec<PeerView>,
    statuses: Vec<Opt>,
    registrations: Vec<Opt>,
    grades: Vec<Opt>,
    criteria: Vec<Opt>,
}

pub async fn directory_page(
    fed: web::Data<Federation>,
    req: HttpRequest,
    params: web::Query<DirectoryParams>,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let mut page = page(state, &req, Section::Directory, String::new()).await?;
    let t = page.t;
    page.title = t.get("directory_title").to_string();
    page.feeds = vec![FeedLink {
        title: t.get("feed_peers_opml").into(),
        mime: "text/x-opml",
        href: state.urls.following_opml().into(),
    }];
    let params = DirectoryParams {
        software: without_empty(&params.software),
        registration: without_empty(&params.registration),
        status: without_empty(&params.status),
        country: without_empty(&params.country),
        region: without_empty(&params.region),
        lang: without_empty(&params.lang),
        criterion: without_empty(&params.criterion),
        grade: without_empty(&params.grade),
        members: without_empty(&params.members),
    };
    let members_only = params.members.as_deref() == Some("true");
    if members_only {
        page.title = t.get("collective_pages.directory_title").to_string();
    }
    let (mut status, mut error, mut peers) = (StatusCode::OK, None, Vec::new());
    match params.query() {
        Err(e) => {
            status = StatusCode::BAD_REQUEST;
            error = Some(e.message);
        }
        Ok(q) => {
            let found = crate::app::collective_pages::directory(&fed.to_request_data(), q).await?;
            for peer in found {
                let score = peer.label_score(&state.criteria);
                peers.push(PeerView {
                    name: peer.display_name(),
                    home: peer.home().unwrap_or_default(),
                    summary: sanitize_html(peer.summary_html()),
                    country: peer.country().map(|c| views::country_name(c, t)),
                    languages: views::language_names(state, peer.languages(), t),
                    services: peer
                        .service_list()
                        .into_iter()
                        .map(|s| PeerService {
                            status: views::status_badge(s.status, t),
                            registration: if s.registration == Registration::Unknown {
                                String::new()
                            } else {
                                s.registration.label(t).to_string()
                            },
                            name: s.name,
                            software: s.software,
                            url: s.url,
                        })
                        .collect(),
                    score: views::label_score(score, t),
                    fetched: peer.fetched.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    actor: peer.actor,
                    domain: peer.domain,
                });
            }
        }
    }
    let lang = t.lang;
    let template = DirectoryPage {
        collective: collective_nav(state, t, members_only.then_some(CollectiveTab::Directory)),
        members_only,
        statuses: views::options_of::<ServiceStatus>(t, params.status.as_deref()),
        registrations: views::options_of::<Registration>(t, params.registration.as_deref()),
        grades: views::options_of::<Grade>(t, params.grade.as_deref()),
        criteria: state
            .criteria
            .criteria()
            .map(|c| views::Opt {
                value: c.id.clone(),
                label: c.label(lang).to_string(),
                selected: params.criterion.as_deref() == Some(c.id.as_str()),
            })
            .collect(),
        params,
        error,
        peers,
        page,
    };
    render(&req, status, &template)
}

#[cfg(test)]
mod tests {
    use super::page_body;

    #[test]
    fn the_page_leaves_out_the_posts_title_and_its_link_to_itself() {
        let url = "https://chaton.example/b/incident-1";
        let content = format!(
            "<p><strong>Nextcloud inaccessible</strong></p><p>Nextcloud — incident.</p>\
             <p>Détails : <a href=\"{url}\">{url}</a></p><p>Nous analysons la panne.</p>"
        );
        assert_eq!(page_body(&content, url), "<p>Nextcloud — incident.</p><p>Nous analysons la panne.</p>");
        // Another bulletin's link and a body without a title are kept as they are.
        let other = "<p>Voir <a href=\"https://chaton.example/b/2\">https://chaton.example/b/2</a></p>";
        assert_eq!(page_body(other, url), other);
    }
}
