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

fn layout(state: &AppState, title: &str, alternate: Option<&str>, body: &str) -> String {
    let alternate = alternate
        .map(|href| format!("<link rel=\"alternate\" type=\"{ACTIVITY_JSON}\" href=\"{}\">", escape(href)))
        .unwrap_or_default();
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — {site}</title>{alternate}</head>\
         <body><header><a href=\"{home}\">{site}</a> <span>{handle}</span></header><main>{body}</main></body></html>",
        lang = escape(state.config.default_language()),
        title = escape(title),
        site = escape(&state.config.account.display_name),
        home = escape(state.urls.host_actor().as_str()),
        handle = escape(&state.config.handle()),
    )
}

fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status).content_type("text/html; charset=utf-8").insert_header(("Vary", "Accept")).body(body)
}

pub async fn home(fed: web::Data<crate::federation::Federation>) -> Result<HttpResponse, ApiError> {
    host_page(state_of(&fed)).await
}

pub async fn host_page(state: &AppState) -> Result<HttpResponse, ApiError> {
    let latest = state.db.read(|c| bulletins::list_published(c, None, 20)).await?;
    let mut body = format!(
        "<h1>{}</h1>{}<h2>Bulletins</h2><ul>",
        escape(&state.config.account.display_name),
        crate::bulletin::render::markdown_to_html(&state.config.account.summary)
    );
    body.push_str(&bulletin_items(state, &latest));
    body.push_str("</ul>");
    let actor = state.urls.host_actor().to_string();
    Ok(html(StatusCode::OK, layout(state, &state.config.account.display_name, Some(&actor), &body)))
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

pub fn bulletin_page(state: &AppState, bulletin: &Bulletin) -> HttpResponse {
    let url = state.urls.bulletin(&bulletin.id).to_string();
    // content_html was sanitised when it was rendered.
    let body = format!(
        "<article lang=\"{}\">{}<footer><time datetime=\"{}\">{}</time></footer></article>",
        escape(&bulletin.lang),
        bulletin.content_html,
        bulletin.published_at.and_utc().to_rfc3339(),
        bulletin.published_at.format("%Y-%m-%d %H:%M UTC")
    );
    html(StatusCode::OK, layout(state, &bulletin.title, Some(&url), &body))
}

pub fn gone_page(state: &AppState) -> HttpResponse {
    html(StatusCode::GONE, layout(state, "Deleted", None, "<p>This bulletin was deleted.</p>"))
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
    Ok(html(StatusCode::OK, layout(&state, &format!("#{tag}"), None, &body)))
}
