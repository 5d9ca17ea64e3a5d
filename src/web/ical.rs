//! iCalendar (RFC 5545) of the host's maintenance windows, for members to subscribe to in their
//! calendar app. The `icalendar` crate escapes text values and folds lines at 75 octets.

use super::{error::ApiError, feeds, state_of};
use crate::{
    app::bulletins::{self, Bulletin},
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
    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", format!("-//Ronron//Ronron {}//EN", env!("CARGO_PKG_VERSION")).as_str()))
        .append_property(("CALSCALE", "GREGORIAN"))
        .name(&format!("{} — maintenance", profile.display_name))
        .append_property(("SOURCE", state.urls.host_maintenance_calendar().as_str()));
    for (b, updates) in &windows {
        if let Some(event) = event(&state, b, *updates) {
            calendar.push(event);
        }
    }
    // RFC 5545 text holds no control character but tab (line breaks are escaped as `\n`).
    Ok(feeds::feed_response("text/calendar", render::strip_forbidden(&calendar.done().to_string())))
}
