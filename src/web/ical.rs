//! iCalendar (RFC 5545) of the host's maintenance windows, for members to subscribe to in their
//! calendar app. The `icalendar` crate escapes text values and folds lines at 75 octets.

use super::{error::ApiError, feeds, state_of};
use crate::{
    app::{
        bulletins::{self, Bulletin},
        collective_pages::{self, MemberChange},
    },
    bulletin::{render, vocab::ChangeState},
    federation::Federation,
    state::AppState,
};
use actix_web::{web, HttpResponse};
use chrono::{Duration, NaiveDateTime, Utc};
use icalendar::{Calendar, Class, Component, Event, EventLike, EventStatus};

/// Windows that ended longer ago than this are left out: a calendar of what matters now.
const KEEP_PAST_DAYS: i64 = 90;

fn utc(at: NaiveDateTime) -> chrono::DateTime<Utc> {
    at.and_utc()
}

/// One window as a VEVENT; `updates` is how many Updates its Note had (its SEQUENCE).
fn event(state: &AppState, b: &Bulletin, updates: i64) -> Option<Event> {
    let (starts, ends) = (b.starts_at?, b.ends_at?);
    let meta = b.meta();
    let url = state.urls.bulletin(&b.id).to_string();
    let mut event = Event::new();
    event
        .uid(&url)
        // Without a METHOD, DTSTAMP is when the event's information last changed.
        .timestamp(utc(b.updated_at.unwrap_or(b.published_at)))
        .created(utc(b.published_at))
        .last_modified(utc(b.updated_at.unwrap_or(b.published_at)))
        .starts(utc(starts))
        .ends(utc(ends))
        .summary(&b.title)
        .url(&url)
        .sequence(u32::try_from(updates).unwrap_or(u32::MAX))
        .class(Class::Public)
        .status(if meta.state == Some(ChangeState::Cancelled) {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        });
    let description = render::plain_text(&render::markdown_to_html(&b.body_markdown));
    if !description.is_empty() {
        event.description(&description);
    }
    if !meta.service.is_empty() {
        event.categories(meta.service.iter().map(|s| s.name.as_str()));
    }
    Some(event.done())
}

/// GET /u/{name}/maintenance.ics — maintenance windows scheduled, in progress, or over for less
/// than 90 days; cancelled ones stay listed as cancelled so subscribed calendars drop them.
pub async fn maintenance_calendar(
    fed: web::Data<Federation>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let state = state_of(&fed).clone();
    if *name != state.config.account.name {
        return Err(ApiError::not_found(&format!("account `{name}`")));
    }
    let ends_after = state.clock.now() - Duration::days(KEEP_PAST_DAYS);
    let windows = bulletins::maintenance_windows(&state, ends_after).await?;
    let profile = crate::app::profile::effective(&state).await?;
    // Calendar apps show this name; it is in the host's first language, as the feeds' titles are.
    let t = state.texts.texts(state.config.default_language());
    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", format!("-//Ronron//Ronron {}//EN", env!("CARGO_PKG_VERSION")).as_str()))
        .append_property(("CALSCALE", "GREGORIAN"))
        .name(&t.fill("feed.calendar_title", &[("host", &profile.display_name)]))
        .append_property(("SOURCE", state.urls.host_maintenance_calendar().as_str()));
    for (b, updates) in &windows {
        if let Some(event) = event(&state, b, *updates) {
            calendar.push(event);
        }
    }
    // RFC 5545 text holds no control character but tab (line breaks are escaped as `\n`).
    Ok(feeds::feed_response("text/calendar", render::strip_forbidden(&calendar.done().to_string())))
}

/// A member's window as a VEVENT, named after the member.
fn member_event(w: &MemberChange) -> Option<Event> {
    let (starts, ends) = (w.starts_at?, w.ends_at?);
    let mut event = Event::new();
    event
        .uid(&w.id)
        .timestamp(utc(w.updated))
        .created(utc(w.published))
        .last_modified(utc(w.updated))
        .starts(utc(starts))
        .ends(utc(ends))
        .summary(&format!("{} — {}", w.member_name, w.title))
        // Each Update of the member's Note is newer: its age in minutes only grows, as SEQUENCE must.
        .sequence(u32::try_from((w.updated - w.published).num_minutes().max(0)).unwrap_or(u32::MAX))
        .class(Class::Public)
        .status(if w.state == Some(ChangeState::Cancelled) { EventStatus::Cancelled } else { EventStatus::Confirmed });
    if let Some(url) = &w.url {
        event.url(url);
    }
    if !w.text.is_empty() {
        event.description(&w.text);
    }
    if !w.services.is_empty() {
        event.categories(w.services.iter().map(String::as_str));
    }
    Some(event.done())
}

/// GET /collective/maintenance.ics — every member's maintenance windows (the same span as a
/// host's calendar); 404 when the collective role is off.
pub async fn collective_calendar(fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    let state = state_of(&fed).clone();
    let ends_after = state.clock.now() - Duration::days(KEEP_PAST_DAYS);
    let windows = collective_pages::maintenance_windows(&state, ends_after).await?;
    let name = state.config.collective.as_ref().map(|c| c.display_name.clone()).unwrap_or_default();
    let t = state.texts.texts(state.config.default_language());
    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", format!("-//Ronron//Ronron {}//EN", env!("CARGO_PKG_VERSION")).as_str()))
        .append_property(("CALSCALE", "GREGORIAN"))
        .name(&t.fill("feed.calendar_title", &[("host", &name)]))
        .append_property(("SOURCE", state.urls.collective_maintenance_calendar().as_str()));
    for w in &windows {
        if let Some(event) = member_event(w) {
            calendar.push(event);
        }
    }
    Ok(feeds::feed_response("text/calendar", render::strip_forbidden(&calendar.done().to_string())))
}
