//! The readable part of a bulletin: HTML that says, in the reader's language, what changes and
//! when, so a Mastodon user who knows nothing of our extension still reads a complete post.

use super::{
    render::{escape, markdown_to_html, sanitize_own_html},
    vocab::*,
};
use chrono::{Datelike, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;

/// What the text needs to know beyond the bulletin itself.
pub struct RenderContext<'a> {
    pub bulletin_url: &'a str,
    pub timezone: Tz,
    /// (hashtag without `#`, its URL)
    pub hashtags: Vec<(String, String)>,
    /// Criterion id → (French label, English label), for label updates.
    pub criterion_label: &'a dyn Fn(&str, &str) -> String,
}

pub struct Texts<'a> {
    pub lang: &'a str,
    pub title: &'a str,
    pub body_markdown: &'a str,
}

const DAYS_FR: [&str; 7] = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// A UTC time shown in the host's time zone, e.g. "mardi 12 mars 2030 21:00" / "Tuesday 12 March 2030 21:00".
pub fn local_date(at: NaiveDateTime, tz: Tz, lang: &str) -> String {
    let local = tz.from_utc_datetime(&at);
    if lang == "fr" {
        format!(
            "{} {} {} {} {:02}:{:02}",
            DAYS_FR[local.weekday().num_days_from_monday() as usize],
            local.day(),
            MONTHS_FR[local.month0() as usize],
            local.year(),
            local.hour(),
            local.minute()
        )
    } else {
        local.format("%A %-d %B %Y %H:%M").to_string()
    }
}

/// "mardi 12 mars 2030 21:00–21:15 (Europe/Paris)", or "du … au …" across days.
pub fn local_window(start: NaiveDateTime, end: NaiveDateTime, tz: Tz, lang: &str) -> String {
    let (ls, le) = (tz.from_utc_datetime(&start), tz.from_utc_datetime(&end));
    let zone = tz.name();
    if ls.date_naive() == le.date_naive() {
        format!("{}–{:02}:{:02} ({zone})", local_date(start, tz, lang), le.hour(), le.minute())
    } else if lang == "fr" {
        format!("du {} au {} ({zone})", local_date(start, tz, lang), local_date(end, tz, lang))
    } else {
        format!("from {} to {} ({zone})", local_date(start, tz, lang), local_date(end, tz, lang))
    }
}

fn service_names(meta: &BulletinMeta) -> String {
    meta.service.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// The one-line summary of a service change or a label update, in `lang`.
pub fn summary_line(
    meta: &BulletinMeta,
    starts: Option<NaiveDateTime>,
    ends: Option<NaiveDateTime>,
    tz: Tz,
    lang: &str,
) -> Option<String> {
    let fr = lang == "fr";
    let services = service_names(meta);
    let state =
        meta.state
            .map(|s| if fr { format!(" État : {}.", s.label(lang)) } else { format!(" State: {}.", s.label(lang)) });
    let status = meta.service_status.map(|s| {
        if fr {
            format!(" Statut du service : {}.", s.label(lang))
        } else {
            format!(" Service status: {}.", s.label(lang))
        }
    });
    let impact = meta.impact.map(|i| format!(", {}", i.label(lang))).unwrap_or_default();
    let line = match meta.change_type? {
        ChangeType::Maintenance => {
            let window = match (starts, ends) {
                (Some(s), Some(e)) => format!(" {}", local_window(s, e, tz, lang)),
                _ => String::new(),
            };
            format!("{services} — maintenance{window}{impact}.{}", state.unwrap_or_default())
        }
        ChangeType::Incident => {
            format!("{services} — incident{impact}.{}{}", status.unwrap_or_default(), state.unwrap_or_default())
        }
        ChangeType::Registration => {
            let what = meta.registration.map(|r| r.label(lang)).unwrap_or("");
            format!("{services} — {what}.")
        }
        ChangeType::Launch => {
            if fr {
                format!("{services} — nouveau service.")
            } else {
                format!("{services} — new service.")
            }
        }
        ChangeType::Migration => {
            let to = meta.new_url.clone().unwrap_or_default();
            if fr {
                format!("{services} déménage : nouvelle adresse {to}")
            } else {
                format!("{services} moves to a new address: {to}")
            }
        }
        ChangeType::Closure => {
            if fr {
                format!("{services} — fermeture du service.")
            } else {
                format!("{services} — the service closes.")
            }
        }
        ChangeType::Unknown => return None,
    };
    Some(line)
}

/// The full HTML `content` of a bulletin in one language: title, what changes and when, a link to
/// the bulletin's page (first, so Mastodon's preview card comes from it), the body, the hashtags.
pub fn render(
    ctx: &RenderContext<'_>,
    text: &Texts<'_>,
    meta: &BulletinMeta,
    starts: Option<NaiveDateTime>,
    ends: Option<NaiveDateTime>,
) -> String {
    let lang = text.lang;
    let mut html = format!("<p><strong>{}</strong></p>", escape(text.title));
    if let Some(line) = summary_line(meta, starts, ends, ctx.timezone, lang) {
        html.push_str(&format!("<p>{}</p>", escape(&line)));
    }
    if meta.bulletin_kind == BulletinKind::LabelUpdate && !meta.grade_changes.is_empty() {
        html.push_str("<ul>");
        for change in &meta.grade_changes {
            let from =
                change.from.map(|g| g.label(lang)).unwrap_or(if lang == "fr" { "non évalué" } else { "not graded" });
            let colon = if lang == "fr" { " :" } else { ":" };
            html.push_str(&format!(
                "<li>{}{colon} {} → {}</li>",
                escape(&(ctx.criterion_label)(&change.criterion, lang)),
                escape(from),
                escape(change.to.label(lang))
            ));
        }
        html.push_str("</ul>");
    }
    if meta.bulletin_kind != BulletinKind::News {
        let details = if lang == "fr" { "Détails :" } else { "Details:" };
        html.push_str(&format!("<p>{details} <a href=\"{0}\">{0}</a></p>", escape(ctx.bulletin_url)));
    }
    html.push_str(&markdown_to_html(text.body_markdown));
    if !ctx.hashtags.is_empty() {
        let tags: Vec<String> = ctx
            .hashtags
            .iter()
            .map(|(name, href)| {
                format!("<a href=\"{}\" class=\"mention hashtag\">#<span>{}</span></a>", escape(href), escape(name))
            })
            .collect();
        html.push_str(&format!("<p>{}</p>", tags.join(" ")));
    }
    sanitize_own_html(&html)
}

/// A hashtag from a free name: letters and digits only, lowercase ("Nextcloud Hub" → "nextcloudhub").
pub fn hashtag_name(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric() || *c == '_').flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn maintenance_window_reads_well_in_both_languages() {
        let tz: Tz = "Europe/Paris".parse().unwrap();
        let start = NaiveDate::from_ymd_opt(2030, 3, 12).unwrap().and_hms_opt(20, 0, 0).unwrap();
        let end = start + chrono::Duration::minutes(15);
        assert_eq!(local_window(start, end, tz, "fr"), "mardi 12 mars 2030 21:00–21:15 (Europe/Paris)");
        assert_eq!(local_window(start, end, tz, "en"), "Tuesday 12 March 2030 21:00–21:15 (Europe/Paris)");
        let mut meta = BulletinMeta::news();
        meta.bulletin_kind = BulletinKind::ServiceChange;
        meta.change_type = Some(ChangeType::Maintenance);
        meta.state = Some(ChangeState::Scheduled);
        meta.impact = Some(Impact::Minor);
        meta.service = vec![ServiceRef {
            id: "x".into(),
            name: "Nextcloud".into(),
            software: "Nextcloud".into(),
            url: String::new(),
        }];
        assert_eq!(
            summary_line(&meta, Some(start), Some(end), tz, "fr").unwrap(),
            "Nextcloud — maintenance mardi 12 mars 2030 21:00–21:15 (Europe/Paris), impact mineur. État : planifiée."
        );
    }
}
