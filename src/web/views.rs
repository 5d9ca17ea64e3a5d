//! Plain data the templates show, built from rows in the visitor's language. Templates stay
//! dumb: every label is translated and every date formatted here.

use super::i18n::Texts;
use crate::{
    app::{
        bulletins::{Bulletin, Translation},
        catalogue::Service,
        label::GradedSection,
    },
    bulletin::{
        content::{local_date, local_window, summary_line, zone_name},
        criteria::LabelScore,
        vocab::*,
    },
    state::AppState,
};
use chrono::NaiveDateTime;

/// A status, state or grade as a badge: its CSS class (`s-…` / `g-…`) and its label.
pub struct Badge {
    pub class: String,
    pub label: String,
}

pub fn status_badge(status: ServiceStatus, t: &Texts) -> Badge {
    Badge { class: format!("s-{}", status.cli_name()), label: status.label(t).to_string() }
}

pub fn state_badge(state: ChangeState, t: &Texts) -> Badge {
    Badge { class: format!("s-{}", state.cli_name()), label: state.label(t).to_string() }
}

pub fn grade_badge(grade: Grade, t: &Texts) -> Badge {
    Badge { class: format!("g-{}", grade.cli_name()), label: grade.label(t).to_string() }
}

/// Languages as a visitor reads them, by their names in `t`'s language (`fr, en` → "français,
/// anglais"); a code the catalogues do not name shows as it is. The host page and the directory
/// both show a host's languages this way.
pub fn language_names<'a>(state: &AppState, codes: impl IntoIterator<Item = &'a str>, t: &Texts) -> String {
    codes.into_iter().map(|code| state.texts.language_name_in(code, t)).collect::<Vec<_>>().join(", ")
}

/// A country as a visitor reads it (`FR` → "France"); a code the catalogues do not name shows as
/// it is.
pub fn country_name(code: &str, t: &Texts) -> String {
    crate::i18n::country_name(&code.trim().to_uppercase(), t)
}

/// A time for people (in the host's time zone) and for machines (`datetime`).
pub struct When {
    pub text: String,
    pub iso: String,
}

pub fn when(state: &AppState, at: NaiveDateTime, lang: &str) -> When {
    When { text: local_date(at, state.config.timezone(), state.texts.texts(lang)), iso: at.and_utc().to_rfc3339() }
}

/// A maintenance window in the host's time zone: its label names the zone ("Horaire (heure de
/// Paris)"), its text the days and hours ("mardi 12 mars 2030 de 21 h à 21 h 15").
pub struct Window {
    pub label: String,
    pub text: String,
    /// The text followed by the zone, for a line without the label.
    pub full: String,
}

pub fn window(state: &AppState, start: Option<NaiveDateTime>, end: Option<NaiveDateTime>, t: &Texts) -> Option<Window> {
    let (start, end) = (start?, end?);
    let tz = state.config.timezone();
    let zone = zone_name(tz, t);
    let (text, _) = local_window(start, end, tz, t);
    Some(Window {
        label: window_label(state, t),
        full: t.fill("window_with_zone", &[("window", &text), ("zone", &zone)]),
        text,
    })
}

/// "Horaire (heure de Paris)": the label of a window's times, naming the host's zone.
pub fn window_label(state: &AppState, t: &Texts) -> String {
    t.fill("window", &[("zone", &zone_name(state.config.timezone(), t))])
}

/// A bulletin in a list.
pub struct BulletinCard {
    pub url: String,
    pub title: String,
    pub lang: String,
    pub kind: String,
    pub published: When,
    pub summary: Option<String>,
    pub state: Option<Badge>,
    pub is_follow_up: bool,
    pub scheduled: bool,
    /// What the admin wrote (sanitised HTML): a timeline shows each update's text.
    pub text_html: String,
}

/// The text of a bulletin in `lang` when it carries that translation, else its main text.
/// The bulletin's text in `lang` when it has a translation in it, else its main text: the
/// translation's body in Markdown, or the main one.
fn body_in<'a>(b: &'a Bulletin, translations: &'a [Translation], lang: &str) -> &'a str {
    translations
        .iter()
        .find(|t| t.lang == lang && t.bulletin_id == b.id)
        .map_or(b.body_markdown.as_str(), |t| t.body_markdown.as_str())
}

pub fn text_in<'a>(b: &'a Bulletin, translations: &'a [Translation], lang: &str) -> (&'a str, &'a str, &'a str) {
    translations
        .iter()
        .find(|t| t.lang == lang && t.bulletin_id == b.id)
        .map(|t| (t.lang.as_str(), t.title.as_str(), t.content_html.as_str()))
        .unwrap_or((b.lang.as_str(), b.title.as_str(), b.content_html.as_str()))
}

pub fn kind_label(b: &Bulletin, t: &Texts) -> String {
    let meta = b.meta();
    match meta.change_type {
        Some(change) => change.label(t).to_string(),
        None => meta.bulletin_kind.label(t).to_string(),
    }
}

pub fn card(state: &AppState, b: &Bulletin, translations: &[Translation], lang: &str) -> BulletinCard {
    let meta = b.meta();
    let (text_lang, title, _) = text_in(b, translations, lang);
    let t = state.texts.texts(lang);
    BulletinCard {
        url: state.urls.bulletin(&b.id).to_string(),
        title: title.to_string(),
        lang: text_lang.to_string(),
        kind: kind_label(b, t),
        published: when(state, b.published_at, lang),
        summary: summary_line(&meta, b.starts_at, b.ends_at, state.config.timezone(), t),
        state: crate::bulletin::state_at(&meta, b.starts_at, b.ends_at, state.clock.now()).map(|s| state_badge(s, t)),
        is_follow_up: b.in_reply_to.is_some(),
        scheduled: b.federated_at.is_none(),
        text_html: crate::bulletin::render::sanitize_own_html(&crate::bulletin::render::markdown_to_html(body_in(
            b,
            translations,
            lang,
        ))),
    }
}

/// A service of the catalogue with its status.
pub struct ServiceView {
    pub slug: String,
    pub name: String,
    pub software: String,
    pub url: String,
    pub page: String,
    pub description: String,
    pub status: Badge,
    pub registration: String,
}

pub fn service_view(state: &AppState, s: &Service, status: ServiceStatus, lang: &str) -> ServiceView {
    let t = state.texts.texts(lang);
    ServiceView {
        slug: s.slug.clone(),
        name: s.name.clone(),
        software: s.software.clone(),
        url: s.url.clone(),
        page: state.urls.service(&s.slug).to_string(),
        description: s.description.clone(),
        status: status_badge(status, t),
        registration: Registration::parse("registration", &s.registration)
            .map(|r| r.label(t).to_string())
            .unwrap_or_default(),
    }
}

/// An open or recent incident or maintenance, with its follow-ups.
pub struct ChangeView {
    pub card: BulletinCard,
    /// "Annoncée le" (a maintenance) or "Signalé le" (an incident), before its first post's date.
    pub first_post: String,
    pub window: Option<Window>,
    pub impact: Option<String>,
    pub services: String,
    pub follow_ups: Vec<BulletinCard>,
}

pub fn change_view(
    state: &AppState,
    root: &Bulletin,
    replies: &[Bulletin],
    translations: &[Translation],
    t: &Texts,
) -> ChangeView {
    let meta = root.meta();
    let lang = t.lang;
    ChangeView {
        card: card(state, root, translations, lang),
        first_post: match meta.change_type {
            Some(ChangeType::Maintenance) => t.get("announced_on").to_string(),
            _ => t.get("reported_on").to_string(),
        },
        window: window(state, root.starts_at, root.ends_at, t),
        impact: meta.impact.map(|i| i.label(t).to_string()),
        services: meta.service.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
        // Newest first, as status pages show a timeline.
        follow_ups: replies.iter().rev().map(|r| card(state, r, translations, lang)).collect(),
    }
}

/// One criterion of the label with its grade.
pub struct CriterionView {
    pub id: String,
    pub label: String,
    pub grade: Badge,
    pub comment: Option<String>,
    /// Only http(s) links are shown as links.
    pub evidence_link: Option<String>,
    pub evidence_text: Option<String>,
}

pub struct SectionView {
    pub title: String,
    pub criteria: Vec<CriterionView>,
    /// Shares of criteria met, partly met and not met, in tens of percent (CSS classes `w0`…`w10`;
    /// the page's CSP allows no inline style). The rest is not graded or not applicable.
    pub met: u32,
    pub partial: u32,
    pub not_met: u32,
    pub summary: String,
}

/// The label's sheet (`app::label::sheet`) in the visitor's language.
pub fn label_sections(sheet: &[GradedSection], t: &Texts) -> Vec<SectionView> {
    let lang = t.lang;
    sheet
        .iter()
        .map(|graded| {
            let section = &graded.section;
            let criteria: Vec<CriterionView> = graded
                .criteria
                .iter()
                .map(|c| {
                    let evidence = c.evidence.clone();
                    let is_link =
                        evidence.as_deref().is_some_and(|e| e.starts_with("https://") || e.starts_with("http://"));
                    CriterionView {
                        id: c.criterion.id.clone(),
                        label: c.criterion.label(lang).to_string(),
                        grade: match c.grade {
                            Some(g) => grade_badge(g, t),
                            None => Badge { class: "g-unknown".into(), label: t.get("not_graded").to_string() },
                        },
                        comment: c.comment.clone(),
                        evidence_link: evidence.clone().filter(|_| is_link),
                        evidence_text: evidence.filter(|_| !is_link),
                    }
                })
                .collect();
            let count = |class: &str| criteria.iter().filter(|c| c.grade.class == class).count() as u32;
            let (met, partial, not_met) = (count("g-met"), count("g-partial"), count("g-not_met"));
            // The label score's rule: out of the criteria that apply; the bar says the same.
            let score = LabelScore::of(graded.criteria.iter().map(|c| c.grade));
            let total = score.applicable.max(1) as u32;
            SectionView {
                title: section.title(lang).to_string(),
                summary: t.plural(
                    "label_section_summary",
                    score.met as u64,
                    &[
                        ("met", &score.met.to_string()),
                        ("partial", &partial.to_string()),
                        ("total", &score.applicable.to_string()),
                    ],
                ),
                met: tenth(met, total),
                partial: tenth(partial, total),
                not_met: tenth(not_met, total),
                criteria,
            }
        })
        .collect()
}

/// A label's score in words, the same on every page: "7 critères respectés sur 10".
pub fn label_score(score: LabelScore, t: &Texts) -> String {
    t.plural(
        "label_score",
        score.met as u64,
        &[("met", &score.met.to_string()), ("total", &score.applicable.to_string())],
    )
}

/// The score of our own label (`app::label::sheet`).
pub fn sheet_score(sheet: &[GradedSection]) -> LabelScore {
    LabelScore::of(sheet.iter().flat_map(|s| s.criteria.iter().map(|c| c.grade)))
}

fn tenth(part: u32, total: u32) -> u32 {
    (part * 10 + total / 2) / total
}

/// An `<option>` of a filter or form select.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The options of a closed list, the current value selected.
pub fn options_of<T: Choice>(t: &Texts, current: Option<&str>) -> Vec<Opt> {
    T::ALL
        .iter()
        .map(|(name, value)| Opt {
            value: name.to_string(),
            label: value.label(t).to_string(),
            selected: current == Some(*name),
        })
        .collect()
}
