//! Minimal server-rendered pages so that every public URL is readable in a browser.

use super::error::ApiError;
use super::state_of;
use crate::{
    bulletin::render::escape,
    db::models::bulletins::{self, Bulletin},
    federation::protocol::ACTIVITY_JSON,
    state::AppState,
};
use actix_web::{http::StatusCode, web, HttpResponse};

/// The page frame; `head` holds extra `<head>` elements (alternate link, OpenGraph).
fn layout(state: &AppState, site: &str, title: &str, head: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — {site}</title>{head}</head>\
         <body><header><a href=\"{home}\">{site}</a> <span>{handle}</span></header><main>{body}</main></body></html>",
        lang = escape(state.config.default_language()),
        title = escape(title),
        site = escape(site),
        home = escape(state.urls.host_actor().as_str()),
        handle = escape(&state.config.handle()),
    )
}

fn alternate_link(href: &str) -> String {
    format!("<link rel=\"alternate\" type=\"{ACTIVITY_JSON}\" href=\"{}\">", escape(href))
}

/// The display name as published (configuration plus `ronron profile set`).
async fn site_name(state: &AppState) -> Result<String, ApiError> {
    Ok(crate::profile::effective(state).await?.display_name)
}

fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status).content_type("text/html; charset=utf-8").insert_header(("Vary", "Accept")).body(body)
}

pub async fn home(fed: web::Data<crate::federation::Federation>) -> Result<HttpResponse, ApiError> {
    host_page(state_of(&fed)).await
}

pub async fn host_page(state: &AppState) -> Result<HttpResponse, ApiError> {
    let latest = state.db.read(|c| bulletins::list_published(c, None, 20)).await?;
    let profile = crate::profile::effective(state).await?;
    let mut body = format!(
        "<h1>{}</h1>{}<h2>Bulletins</h2><ul>",
        escape(&profile.display_name),
        crate::bulletin::render::markdown_to_html(&profile.summary)
    );
    body.push_str(&bulletin_items(state, &latest));
    body.push_str("</ul>");
    let head = alternate_link(state.urls.host_actor().as_str());
    Ok(html(StatusCode::OK, layout(state, &profile.display_name, &profile.display_name, &head, &body)))
}

/// `<li>` items linking to bulletins, with their dates.
fn bulletin_items(state: &AppState, list: &[Bulletin]) -> String {
    list.iter()
        .map(|b| {
            format!(
                "<li><a href=\"{}\">{}</a> <time datetime=\"{}\">{}</time></li>",
                escape(state.urls.bulletin(&b.id).as_str()),
                escape(&b.title),
                b.published_at.and_utc().to_rfc3339(),
                b.published_at.format("%Y-%m-%d %H:%M UTC")
            )
        })
        .collect()
}

/// A bulletin's page, with OpenGraph tags for the preview card Mastodon builds from its link.
pub async fn bulletin_page(state: &AppState, bulletin: &Bulletin) -> Result<HttpResponse, ApiError> {
    let site = site_name(state).await?;
    let url = state.urls.bulletin(&bulletin.id).to_string();
    let description: String = bulletin.body_markdown.chars().take(200).collect();
    let head = format!(
        "{}<meta property=\"og:type\" content=\"article\"><meta property=\"og:title\" content=\"{}\">\
         <meta property=\"og:description\" content=\"{}\"><meta property=\"og:url\" content=\"{}\">\
         <meta property=\"og:site_name\" content=\"{}\"><meta property=\"og:locale\" content=\"{}\">",
        alternate_link(&url),
        escape(&bulletin.title),
        escape(description.trim()),
        escape(&url),
        escape(&site),
        escape(&bulletin.lang),
    );
    // content_html was sanitised when it was rendered.
    let body = format!(
        "<article lang=\"{}\">{}<footer><time datetime=\"{}\">{}</time></footer></article>",
        escape(&bulletin.lang),
        bulletin.content_html,
        bulletin.published_at.and_utc().to_rfc3339(),
        bulletin.published_at.format("%Y-%m-%d %H:%M UTC")
    );
    Ok(html(StatusCode::OK, layout(state, &site, &bulletin.title, &head, &body)))
}

pub async fn gone_page(state: &AppState) -> Result<HttpResponse, ApiError> {
    let site = site_name(state).await?;
    Ok(html(StatusCode::GONE, layout(state, &site, "Deleted", "", "<p>This bulletin was deleted.</p>")))
}

/// Bulletins carrying a hashtag (the `href` of our `Hashtag` tags). Scans the latest bulletins,
/// which is plenty for one host's volume.
pub async fn tag_page(
    fed: web::Data<crate::federation::Federation>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let state = super::state_of(&fed).clone();
    let tag = name.into_inner().to_lowercase();
    let st = state.clone();
    let wanted = tag.clone();
    let tagged: Vec<Bulletin> = state
        .db
        .read(move |c| bulletins::list_published(c, None, 500))
        .await?
        .into_iter()
        .filter(|b| crate::federation::publish::hashtags(&st, &b.meta()).iter().any(|(n, _)| *n == wanted))
        .collect();
    let mut body = format!("<h1>#{}</h1><ul>", escape(&tag));
    body.push_str(&bulletin_items(&state, &tagged));
    body.push_str("</ul>");
    if tagged.is_empty() {
        body.push_str("<p>No bulletin carries this hashtag.</p>");
    }
    let site = site_name(&state).await?;
    Ok(html(StatusCode::OK, layout(&state, &site, &format!("#{tag}"), "", &body)))
}
