//! The readable part of a bulletin: HTML that says, in the reader's language, what changes and
//! when, so a Mastodon user who knows nothing of our extension still reads a complete post.

use super::{
    render::{escape, markdown_to_html, sanitize_own_html},
    vocab::*,
};
use crate::i18n::{fill_in, Catalog, Texts as Words};
use chrono::{Datelike, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;

/// What the text needs to know beyond the bulletin itself.
pub struct RenderContext<'a> {
    pub bulletin_url: &'a str,
    pub timezone: Tz,
    /// (hashtag without `#`, its URL)
    pub hashtags: Vec<(String, String)>,
    /// Criterion id, language → its label, for label updates.
    pub criterion_label: &'a dyn Fn(&str, &str) -> String,
    /// The words around the bulletin's own, taken in each text's language.
    pub words: &'a Catalog,
}

pub struct Texts<'a> {
    pub lang: &'a str,
    pub title: &'a str,
    pub body_markdown: &'a str,
}

const WEEKDAYS: [&str; 7] = [
    "weekday.monday",
    "weekday.tuesday",
    "weekday.wednesday",
    "weekday.thursday",
    "weekday.friday",
    "weekday.saturday",
    "weekday.sunday",
];
const MONTHS: [&str; 12] = [
    "month.january",
    "month.february",
    "month.march",
    "month.april",
    "month.may",
    "month.june",
    "month.july",
    "month.august",
    "month.september",
    "month.october",
    "month.november",
    "month.december",
];

/// The catalogue keys of the days' and months' names, for the catalogue test.
pub const DATE_KEYS: [&str; 19] = [
    WEEKDAYS[0],
    WEEKDAYS[1],
    WEEKDAYS[2],
    WEEKDAYS[3],
    WEEKDAYS[4],
    WEEKDAYS[5],
    WEEKDAYS[6],
    MONTHS[0],
    MONTHS[1],
    MONTHS[2],
    MONTHS[3],
    MONTHS[4],
    MONTHS[5],
    MONTHS[6],
    MONTHS[7],
    MONTHS[8],
    MONTHS[9],
    MONTHS[10],
    MONTHS[11],
];

/// A time of day as the catalogue writes it ("21 h 15", "21 h" on the hour; "21:15").
fn local_time(hour: u32, minute: u32, t: &Words) -> String {
    let values = [("h", hour.to_string()), ("hh", format!("{hour:02}")), ("mm", format!("{minute:02}"))];
    let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if minute == 0 {
        t.fill("dates.time_on_the_hour", &values)
    } else {
        t.fill("dates.time", &values)
    }
}

/// A day in the host's time zone: "mardi 12 mars 2030", "samedi 1er juin 2030".
fn local_day(local: &chrono::DateTime<Tz>, t: &Words) -> String {
    let day = if local.day() == 1 { t.get("dates.first_of_month").to_string() } else { local.day().to_string() };
    t.fill(
        "dates.date",
        &[
            ("weekday", t.get(WEEKDAYS[local.weekday().num_days_from_monday() as usize])),
            ("day", &day),
            ("month", t.get(MONTHS[local.month0() as usize])),
            ("year", &local.year().to_string()),
        ],
    )
}

/// A UTC time shown in the host's time zone, e.g. "mardi 12 mars 2030 à 21 h" / "Tuesday 12 March 2030 21:00".
pub fn local_date(at: NaiveDateTime, tz: Tz, t: &Words) -> String {
    let local = tz.from_utc_datetime(&at);
    t.fill("dates.datetime", &[("date", &local_day(&local, t)), ("time", &local_time(local.hour(), local.minute(), t))])
}

/// A window in the host's time zone, the zone left to the caller (`zone_name`): "mardi 12 mars
/// 2030 de 21 h à 21 h 15", or "du … au …" across days; `true` when it lies within one day.
pub fn local_window(start: NaiveDateTime, end: NaiveDateTime, tz: Tz, t: &Words) -> (String, bool) {
    let (ls, le) = (tz.from_utc_datetime(&start), tz.from_utc_datetime(&end));
    if ls.date_naive() == le.date_naive() {
        let window = t.fill(
            "dates.same_day",
            &[
                ("date", &local_day(&ls, t)),
                ("start", &local_time(ls.hour(), ls.minute(), t)),
                ("end", &local_time(le.hour(), le.minute(), t)),
            ],
        );
        (window, true)
    } else {
        (t.fill("dates.window", &[("start", &local_date(start, tz, t)), ("end", &local_date(end, tz, t))]), false)
    }
}

/// The zones' cities a catalogue names in its own words (`[city]`: London → Londres); other cities
/// keep the tz database's spelling.
pub const NAMED_CITIES: [&str; 26] = [
    "brussels",
    "luxembourg",
    "zurich",
    "monaco",
    "reunion",
    "noumea",
    "martinique",
    "guadeloupe",
    "mayotte",
    "cayenne",
    "tahiti",
    "miquelon",
    "london",
    "vienna",
    "lisbon",
    "athens",
    "warsaw",
    "copenhagen",
    "moscow",
    "bucharest",
    "algiers",
    "mauritius",
    "montreal",
    "kinshasa",
    "casablanca",
    "antananarivo",
];

/// The host's time zone as people say it: "heure de Paris", "heure d'Amsterdam" / "Paris time"
/// (the zone's city, in the reader's words when the catalogue names it, else as the tz database
/// spells it); UTC and the fixed `Etc/GMT±N` zones as their offset ("UTC", "UTC+1").
pub fn zone_name(tz: Tz, t: &Words) -> String {
    let name = tz.name();
    if let Some(offset) = fixed_offset(name) {
        return offset;
    }
    match name.rsplit_once('/') {
        Some((_, city)) => {
            let own = t.lookup(&format!("city.{}", city.to_lowercase())).map(str::to_string);
            let city = own.unwrap_or_else(|| city.replace('_', " "));
            // French elides "de" before a vowel: "heure d'Amsterdam".
            if city.starts_with(|c: char| "AEIOUYÂÉÈÊÎÔÛaeiouy".contains(c)) {
                t.fill("dates.zone_elided", &[("city", &city)])
            } else {
                t.fill("dates.zone", &[("city", &city)])
            }
        }
        None => name.to_string(),
    }
}

/// UTC and the tz database's fixed zones as an offset. POSIX inverts the sign: `Etc/GMT-1` is
/// one hour ahead of UTC, so it reads "UTC+1".
fn fixed_offset(name: &str) -> Option<String> {
    let rest = name.strip_prefix("Etc/").unwrap_or(name);
    match rest {
        "UTC" | "UCT" | "GMT" | "GMT0" | "GMT+0" | "GMT-0" | "Greenwich" | "Universal" | "Zulu" => {
            return Some("UTC".into())
        }
        _ => {}
    }
    let hours = rest.strip_prefix("GMT")?;
    let (sign, digits) = match hours.split_at_checked(1)? {
        ("+", d) => ('-', d),
        ("-", d) => ('+', d),
        _ => return None,
    };
    digits.parse::<u8>().ok().map(|h| format!("UTC{sign}{h}"))
}

/// `text` with its first letter in capitals ("impact majeur" → "Impact majeur").
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn service_names(meta: &BulletinMeta) -> String {
    meta.service.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// The one-line summary of a service change or a label update, in `t`'s language.
pub fn summary_line(
    meta: &BulletinMeta,
    starts: Option<NaiveDateTime>,
    ends: Option<NaiveDateTime>,
    tz: Tz,
    t: &Words,
) -> Option<String> {
    let services = service_names(meta);
    // Optional fragments, each with its own leading separator, or nothing.
    let state = meta.state.map(|s| t.fill("summary_line.state", &[("state", s.label(t))])).unwrap_or_default();
    let status = meta
        .service_status
        .map(|s| t.fill("summary_line.service_status", &[("status", s.label(t))]))
        .unwrap_or_default();
    let impact =
        meta.impact.map(|i| t.fill("summary_line.impact", &[("impact", &capitalised(i.label(t)))])).unwrap_or_default();
    let line = match meta.change_type? {
        ChangeType::Maintenance => {
            let window = match (starts, ends) {
                (Some(s), Some(e)) => {
                    let (window, one_day) = local_window(s, e, tz, t);
                    let values = [("window", window.as_str()), ("zone", &zone_name(tz, t))];
                    if one_day {
                        t.fill("summary_line.window_same_day", &values)
                    } else {
                        t.fill("summary_line.window", &values)
                    }
                }
                _ => String::new(),
            };
            // A maintenance is announced planned: only its later states are worth a sentence.
            let state = meta
                .state
                .filter(|s| *s != ChangeState::Scheduled)
                .map(|s| t.fill("summary_line.maintenance_state", &[("state", s.label(t))]))
                .unwrap_or_default();
            t.fill(
                "summary_line.maintenance",
                &[("services", &services), ("window", &window), ("impact", &impact), ("state", &state)],
            )
        }
        ChangeType::Incident => t.fill(
            "summary_line.incident",
            &[("services", &services), ("impact", &impact), ("status", &status), ("state", &state)],
        ),
        ChangeType::Registration => {
            let what = meta.registration.map(|r| r.label(t)).unwrap_or("");
            t.fill("summary_line.registration", &[("services", &services), ("registration", what)])
        }
        ChangeType::Launch => t.fill("summary_line.launch", &[("services", &services)]),
        ChangeType::Migration => {
            let to = meta.new_url.clone().unwrap_or_default();
            t.fill("summary_line.migration", &[("services", &services), ("url", &to)])
        }
        ChangeType::Closure => t.fill("summary_line.closure", &[("services", &services)]),
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
    let t = ctx.words.texts(lang);
    let mut html = format!("<p><strong>{}</strong></p>", escape(text.title));
    if let Some(line) = summary_line(meta, starts, ends, ctx.timezone, t) {
        html.push_str(&format!("<p>{}</p>", escape(&line)));
    }
    if meta.bulletin_kind == BulletinKind::LabelUpdate && !meta.grade_changes.is_empty() {
        html.push_str("<ul>");
        for change in &meta.grade_changes {
            let from = change.from.map(|g| g.label(t)).unwrap_or(t.get("not_graded"));
            // The catalogue's own text escaped, then the values (escaped too) put in.
            let line = fill_in(
                &escape(t.get("post.grade_change")),
                &[
                    ("criterion", &escape(&(ctx.criterion_label)(&change.criterion, lang))),
                    ("from", &escape(from)),
                    ("to", &escape(change.to.label(t))),
                ],
            );
            html.push_str(&format!("<li>{line}</li>"));
        }
        html.push_str("</ul>");
    }
    if meta.bulletin_kind != BulletinKind::News {
        let details = escape(t.get("post.details"));
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
    fn dates_read_as_before_in_english_and_across_days() {
        let words = Catalog::embedded();
        let (fr, en) = (words.texts("fr"), words.texts("en"));
        let tz: Tz = "Europe/Paris".parse().unwrap();
        // English dates are what chrono's own names gave, every day of a year.
        let first = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap().and_hms_opt(7, 5, 0).unwrap();
        for day in 0..366 {
            let at = first + chrono::Duration::days(day) + chrono::Duration::minutes(day * 7);
            let chrono_text = tz.from_utc_datetime(&at).format("%A %-d %B %Y %H:%M").to_string();
            assert_eq!(local_date(at, tz, en), chrono_text);
        }
        let start = NaiveDate::from_ymd_opt(2030, 3, 12).unwrap().and_hms_opt(20, 0, 0).unwrap();
        let end = start + chrono::Duration::hours(5) + chrono::Duration::minutes(30);
        assert_eq!(
            local_window(start, end, tz, fr),
            ("du mardi 12 mars 2030 à 21 h au mercredi 13 mars 2030 à 2 h 30".to_string(), false)
        );
        assert_eq!(
            local_window(start, end, tz, en),
            ("from Tuesday 12 March 2030 21:00 to Wednesday 13 March 2030 02:30".to_string(), false)
        );
        let first = NaiveDate::from_ymd_opt(2030, 6, 1).unwrap().and_hms_opt(7, 5, 0).unwrap();
        assert_eq!(local_date(first, tz, fr), "samedi 1er juin 2030 à 9 h 05");
        assert_eq!(local_date(first, tz, en), "Saturday 1 June 2030 09:05");
        assert_eq!((zone_name(tz, fr), zone_name(tz, en)), ("heure de Paris".to_string(), "Paris time".to_string()));
        let york: Tz = "America/New_York".parse().unwrap();
        assert_eq!(zone_name(york, fr), "heure de New York");
        assert_eq!(zone_name(chrono_tz::UTC, fr), "UTC");
        let zone = |name: &str, t| zone_name(name.parse().unwrap(), t);
        assert_eq!(zone("Etc/UTC", fr), "UTC");
        assert_eq!((zone("Etc/GMT-1", fr), zone("Etc/GMT+5", en)), ("UTC+1".to_string(), "UTC-5".to_string()));
        assert_eq!(
            (zone("Europe/Amsterdam", fr), zone("Europe/Amsterdam", en)),
            ("heure d’Amsterdam".to_string(), "Amsterdam time".to_string())
        );
        assert_eq!(
            (zone("Europe/London", fr), zone("Africa/Algiers", fr)),
            ("heure de Londres".to_string(), "heure d’Alger".to_string())
        );
        assert_eq!(zone("Indian/Reunion", fr), "heure de La Réunion");
        let brussels: Tz = "Europe/Brussels".parse().unwrap();
        assert_eq!(
            (zone_name(brussels, fr), zone_name(brussels, en)),
            ("heure de Bruxelles".into(), "Brussels time".into())
        );
    }

    #[test]
    fn maintenance_window_reads_well_in_both_languages() {
        let words = Catalog::embedded();
        let (fr, en) = (words.texts("fr"), words.texts("en"));
        let tz: Tz = "Europe/Paris".parse().unwrap();
        let start = NaiveDate::from_ymd_opt(2030, 3, 12).unwrap().and_hms_opt(20, 0, 0).unwrap();
        let end = start + chrono::Duration::minutes(15);
        assert_eq!(local_window(start, end, tz, fr).0, "mardi 12 mars 2030 de 21 h à 21 h 15");
        assert_eq!(local_window(start, end, tz, en).0, "Tuesday 12 March 2030 21:00–21:15");
        let mut meta = BulletinMeta::news();
        meta.bulletin_kind = BulletinKind::ServiceChange;
        meta.change_type = Some(ChangeType::Maintenance);
        meta.state = Some(ChangeState::Scheduled);
        meta.impact = Some(Impact::Major);
        meta.service = vec![ServiceRef {
            id: "x".into(),
            name: "Nextcloud".into(),
            software: "Nextcloud".into(),
            url: String::new(),
        }];
        assert_eq!(
            summary_line(&meta, Some(start), Some(end), tz, fr).unwrap(),
            "Nextcloud — maintenance le mardi 12 mars 2030 de 21 h à 21 h 15 (heure de Paris). Impact majeur."
        );
        assert_eq!(
            summary_line(&meta, Some(start), Some(end), tz, en).unwrap(),
            "Nextcloud — maintenance on Tuesday 12 March 2030 21:00–21:15 (Paris time). Major impact."
        );
        meta.state = Some(ChangeState::Cancelled);
        assert!(summary_line(&meta, Some(start), Some(end), tz, fr)
            .unwrap()
            .ends_with("Impact majeur. Maintenance annulée."));
        meta.change_type = Some(ChangeType::Incident);
        meta.state = Some(ChangeState::Monitoring);
        meta.service_status = Some(ServiceStatus::Degraded);
        assert_eq!(
            summary_line(&meta, None, None, tz, fr).unwrap(),
            "Nextcloud — incident. Impact majeur. État du service\u{a0}: dégradé. État de l’incident\u{a0}: sous surveillance."
        );
    }
}
