//! The collective role's public pages: every member's status, the roster, the members' label
//! grades side by side; and the navigation between them, the members' timeline and directory
//! (the `members=true` filter of `/timeline` and `/directory`). All are 404 when the role is off.

use super::{
    html::{page, render, FeedLink, Page, PageError, Section},
    i18n::Texts,
    state_of,
    views::{self, Badge, When},
};
use crate::{
    app::collective_pages::{self, MemberChange},
    bulletin::{
        criteria::LabelScore,
        vocab::{Choice, Grade, Registration, ServiceStatus},
    },
    federation::Federation,
    state::AppState,
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

/// Which collective page is shown, to mark it in the navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CollectiveTab {
    Status,
    Members,
    Labels,
    Timeline,
    Directory,
}

pub struct NavLink {
    pub label: String,
    pub href: String,
    pub current: bool,
}

/// The collective's own navigation, on each of its pages.
pub struct CollectiveNav {
    pub links: Vec<NavLink>,
}

/// The navigation between the collective's pages; None when the role is off. `current` is the
/// page shown (None: a page that is not one of them, such as the whole timeline).
pub fn collective_nav(state: &AppState, t: &Texts, current: Option<CollectiveTab>) -> Option<CollectiveNav> {
    if !collective_pages::role_on(state) {
        return None;
    }
    let u = &state.urls;
    // Each label is looked up where it is named, so the catalogue test sees every key.
    let links = [
        (CollectiveTab::Status, t.get("collective_pages.nav_status"), u.collective_status()),
        (CollectiveTab::Members, t.get("collective_pages.nav_members"), u.collective_members()),
        (CollectiveTab::Labels, t.get("collective_pages.nav_labels"), u.collective_labels()),
        (CollectiveTab::Timeline, t.get("collective_pages.nav_timeline"), u.collective_timeline()),
        (CollectiveTab::Directory, t.get("collective_pages.nav_directory"), u.collective_directory()),
    ];
    Some(CollectiveNav {
        links: links
            .into_iter()
            .map(|(tab, label, href)| NavLink { label: label.into(), href: href.into(), current: current == Some(tab) })
            .collect(),
    })
}

/// The members' feeds: their bulletins in Atom and RSS, their maintenance windows in iCalendar.
pub fn collective_feeds(state: &AppState, t: &Texts) -> Vec<FeedLink> {
    vec![
        FeedLink {
            title: t.get("collective_pages.feed_atom").into(),
            mime: "application/atom+xml",
            href: state.urls.collective_feed().into(),
        },
        FeedLink {
            title: t.get("collective_pages.feed_rss").into(),
            mime: "application/rss+xml",
            href: state.urls.collective_feed_rss().into(),
        },
        FeedLink {
            title: t.get("collective_pages.feed_ics").into(),
            mime: "text/calendar",
            href: state.urls.collective_maintenance_calendar().into(),
        },
    ]
}

/// The frame of a collective page: its title, its feeds.
async fn collective_page<'a>(state: &'a AppState, req: &HttpRequest, title_key: &str) -> Result<Page<'a>, PageError> {
    let mut page = page(state, req, Section::Collective, String::new()).await?;
    page.title = page.t.get(title_key).to_string();
    page.feeds = collective_feeds(state, page.t);
    Ok(page)
}

fn overall_badge(worst: Option<ServiceStatus>, t: &Texts, all_fine: &str) -> Badge {
    match worst {
        None | Some(ServiceStatus::Operational) => Badge { class: "s-operational".into(), label: all_fine.into() },
        Some(status) => views::status_badge(status, t),
    }
}

// ---------------------------------------------------------------- status of all members

/// An incident or maintenance of a member, as a line of the page.
pub struct ChangeLine {
    pub member: String,
    pub member_url: String,
    pub title: String,
    pub url: Option<String>,
    pub kind: String,
    pub state: Option<Badge>,
    pub impact: Option<String>,
    pub services: String,
    pub window: Option<String>,
    pub published: When,
}

fn change_line(state: &AppState, c: &MemberChange, t: &Texts) -> ChangeLine {
    ChangeLine {
        member: c.member_name.clone(),
        member_url: c.member.clone(),
        title: c.title.clone(),
        url: c.url.clone(),
        kind: c.change_type.label(t).to_string(),
        state: c.state.map(|s| views::state_badge(s, t)),
        impact: c.impact.map(|i| i.label(t).to_string()),
        services: c.services.join(", "),
        window: views::window(state, c.starts_at, c.ends_at, t).map(|w| w.full),
        published: views::when(state, c.published, t.lang),
    }
}

pub struct MemberServiceView {
    pub name: String,
    pub software: String,
    pub url: Option<String>,
    pub status: Badge,
    pub registration: String,
    pub open: String,
}

pub struct MemberStatusView {
    pub name: String,
    pub handle: String,
    pub actor: String,
    pub timeline_url: String,
    pub overall: Badge,
    pub services: Vec<MemberServiceView>,
    pub incidents: Vec<ChangeLine>,
    pub maintenance: Vec<ChangeLine>,
}

#[derive(Template)]
#[template(path = "collective_status.html")]
struct StatusPage<'a> {
    page: Page<'a>,
    collective: Option<CollectiveNav>,
    overall: Badge,
    incidents: Vec<ChangeLine>,
    maintenance: Vec<ChangeLine>,
    members: Vec<MemberStatusView>,
    /// The collective's logo, when one was uploaded.
    logo: Option<String>,
}

/// GET /collective — every member's services and what is going on, at a glance.
pub async fn status_page(fed: web::Data<Federation>, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let status = collective_pages::status(state).await?;
    let page = collective_page(state, &req, "collective_pages.status_title").await?;
    let t = page.t;
    let lines = |list: &[MemberChange]| list.iter().map(|c| change_line(state, c, t)).collect::<Vec<_>>();
    let logo = crate::app::collective::logo(state).await?.map(|l| state.urls.media(&l.file).to_string());
    let template = StatusPage {
        logo,
        collective: collective_nav(state, t, Some(CollectiveTab::Status)),
        overall: overall_badge(status.worst, t, t.get("collective_pages.all_operational")),
        incidents: lines(&status.incidents),
        maintenance: lines(&status.maintenance),
        members: status
            .members
            .iter()
            .map(|m| MemberStatusView {
                name: m.member.name.clone(),
                handle: m.member.handle.clone(),
                actor: m.member.actor.clone(),
                timeline_url: state.urls.timeline_of_peer(&m.member.domain).to_string(),
                overall: match (m.services.is_empty(), m.worst) {
                    (true, _) => {
                        Badge { class: "s-unknown".into(), label: t.get("collective_pages.no_services").into() }
                    }
                    (false, worst) => overall_badge(worst, t, t.get("status_all_operational")),
                },
                services: m
                    .services
                    .iter()
                    .map(|s| MemberServiceView {
                        name: s.name.clone(),
                        software: s.software.clone(),
                        url: s.url.clone(),
                        status: views::status_badge(s.status, t),
                        registration: match s.registration {
                            Registration::Unknown => String::new(),
                            r => r.label(t).to_string(),
                        },
                        open: s.open.join(" · "),
                    })
                    .collect(),
                incidents: lines(&m.incidents),
                maintenance: lines(&m.maintenance),
            })
            .collect(),
        page,
    };
    render(&req, StatusCode::OK, &template)
}

// ---------------------------------------------------------------- roster

pub struct MemberRow {
    pub name: String,
    pub handle: String,
    pub actor: String,
    pub domain: String,
    pub since: When,
    pub timeline_url: String,
}

#[derive(Template)]
#[template(path = "collective_members.html")]
struct MembersPage<'a> {
    page: Page<'a>,
    collective: Option<CollectiveNav>,
    count: String,
    members: Vec<MemberRow>,
}

/// GET /collective/members — who belongs, and since when.
pub async fn members_page(fed: web::Data<Federation>, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let members = collective_pages::members(state).await?;
    let page = collective_page(state, &req, "collective_pages.members_title").await?;
    let t = page.t;
    let template = MembersPage {
        collective: collective_nav(state, t, Some(CollectiveTab::Members)),
        count: t.count("collective_pages.member_count", members.len()),
        members: members
            .iter()
            .map(|m| MemberRow {
                name: m.name.clone(),
                handle: m.handle.clone(),
                actor: m.actor.clone(),
                domain: m.domain.clone(),
                since: views::when(state, m.since, t.lang),
                timeline_url: state.urls.timeline_of_peer(&m.domain).to_string(),
            })
            .collect(),
        page,
    };
    render(&req, StatusCode::OK, &template)
}

// ---------------------------------------------------------------- labels side by side

pub struct GradeCell {
    pub badge: Option<Badge>,
    pub comment: Option<String>,
    pub evidence: Option<String>,
}

pub struct CriterionLine {
    pub label: String,
    pub cells: Vec<GradeCell>,
}

pub struct SectionLines {
    pub title: String,
    pub criteria: Vec<CriterionLine>,
}

pub struct MemberColumn {
    pub name: String,
    pub actor: String,
    /// Met / graded, as a short line.
    pub met: String,
    pub other_charter: bool,
}

#[derive(Template)]
#[template(path = "collective_labels.html")]
struct LabelsPage<'a> {
    page: Page<'a>,
    collective: Option<CollectiveNav>,
    charter: String,
    members: Vec<MemberColumn>,
    sections: Vec<SectionLines>,
}

/// GET /collective/labels — the members' grades side by side, criterion by criterion.
pub async fn labels_page(fed: web::Data<Federation>, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let comparison = collective_pages::labels(state).await?;
    let page = collective_page(state, &req, "collective_pages.labels_title").await?;
    let t = page.t;
    let lang = t.lang;
    let mut sections: Vec<SectionLines> = Vec::new();
    let mut current: Option<Option<String>> = None;
    for row in &comparison.rows {
        if current.as_ref() != Some(&row.section) {
            let title = match &row.section {
                Some(id) => state.criteria.sections.iter().find(|s| &s.id == id).map(|s| s.title(lang).to_string()),
                None => None,
            };
            sections.push(SectionLines {
                title: title.unwrap_or_else(|| t.get("collective_pages.other_criteria").to_string()),
                criteria: Vec::new(),
            });
            current = Some(row.section.clone());
        }
        let cells = row
            .grades
            .iter()
            .map(|g| match g {
                Some(g) => GradeCell {
                    badge: Some(views::grade_badge(g.grade, t)),
                    comment: g.comment.clone(),
                    evidence: g.evidence.clone(),
                },
                None => GradeCell { badge: None, comment: None, evidence: None },
            })
            .collect();
        if let Some(section) = sections.last_mut() {
            section.criteria.push(CriterionLine { label: state.criteria.label(&row.criterion, lang), cells });
        }
    }
    let members = comparison
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let graded: Vec<Grade> =
                comparison.rows.iter().filter_map(|r| r.grades[i].as_ref().map(|g| g.grade)).collect();
            // The one label score rule: against our whole charter when the member grades it.
            let score = if comparison.same_charter[i] {
                LabelScore::of(
                    comparison
                        .rows
                        .iter()
                        .filter(|r| r.section.is_some())
                        .map(|r| r.grades[i].as_ref().map(|g| g.grade)),
                )
            } else {
                LabelScore::of(graded.iter().copied().map(Some))
            };
            MemberColumn {
                name: m.name.clone(),
                actor: m.actor.clone(),
                met: views::label_score(score, t),
                other_charter: !comparison.same_charter[i] && !graded.is_empty(),
            }
        })
        .collect();
    let template = LabelsPage {
        collective: collective_nav(state, t, Some(CollectiveTab::Labels)),
        charter: state.criteria.name(lang).to_string(),
        members,
        sections,
        page,
    };
    render(&req, StatusCode::OK, &template)
}
