//! WebFinger, host-meta and NodeInfo.

use super::error::ApiError;
use super::state_of;
use crate::{
    config::Config,
    federation::{
        protocol::{WebfingerDoc, WebfingerLink, ACTIVITY_JSON},
        Federation,
    },
    urls::Urls,
};
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
pub struct WebfingerQuery {
    resource: Option<String>,
}

pub async fn webfinger(
    fed: web::Data<Federation>,
    query: web::Query<WebfingerQuery>,
) -> Result<HttpResponse, ApiError> {
    let state = state_of(&fed);
    let resource =
        query.resource.as_deref().ok_or_else(|| ApiError::bad_request("the `resource` parameter is required"))?;
    let doc = webfinger_doc(&state.config, &state.urls, resource).ok_or_else(|| {
        ApiError::new(actix_web::http::StatusCode::NOT_FOUND, format!("no account `{resource}` on this server"))
    })?;
    Ok(HttpResponse::Ok()
        .content_type("application/jrd+json; charset=utf-8")
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .json(doc))
}

/// The JRD answering a WebFinger `resource`, or None when it names no account of ours: the host
/// account, the instance actor or the collective's Group, by `acct:` handle (the `acct:` and a leading `@` optional, case
/// ignored, as Mastodon treats them) or by actor URL.
pub fn webfinger_doc(config: &Config, urls: &Urls, resource: &str) -> Option<WebfingerDoc> {
    let domain = &config.instance.domain;
    let host = urls.host_actor().to_string();
    let instance = urls.instance_actor().to_string();
    let account = format!("acct:{}@{}", config.account.name, domain);
    let instance_acct = format!("acct:{}@{}", config.instance_actor_name(), domain);
    let wanted = resource.trim();
    let wanted_acct = if wanted.starts_with("http") {
        wanted.to_string()
    } else {
        format!("acct:{}", wanted.trim_start_matches("acct:").trim_start_matches('@').to_lowercase())
    };
    let (subject, actor, profile) = if wanted_acct == account || wanted == host {
        (account, host.clone(), Some(host))
    } else if wanted_acct == instance_acct || wanted == instance {
        (instance_acct, instance, None)
    } else if let Some(group_name) = config.collective_account() {
        // The collective's Group, when the role is on.
        let group = urls.group_actor().to_string();
        let group_acct = format!("acct:{group_name}@{domain}");
        if wanted_acct != group_acct && wanted != group {
            return None;
        }
        (group_acct, group.clone(), Some(group))
    } else {
        return None;
    };
    let mut links = vec![WebfingerLink {
        rel: "self".into(),
        kind: Some(ACTIVITY_JSON.into()),
        href: Some(actor.clone()),
        template: None,
    }];
    if let Some(page) = profile {
        links.insert(
            0,
            WebfingerLink {
                rel: "http://webfinger.net/rel/profile-page".into(),
                kind: Some("text/html".into()),
                href: Some(page),
                template: None,
            },
        );
    }
    Some(WebfingerDoc { subject, aliases: vec![actor], links })
}

pub async fn host_meta(fed: web::Data<Federation>) -> HttpResponse {
    let template = crate::bulletin::render::escape(&state_of(&fed).urls.webfinger_template());
    HttpResponse::Ok().content_type("application/xrd+xml; charset=utf-8").body(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
         <Link rel=\"lrdd\" template=\"{template}\"/>\n</XRD>\n"
    ))
}

pub async fn nodeinfo_links(fed: web::Data<Federation>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": state_of(&fed).urls.nodeinfo()}]
    }))
}

pub async fn nodeinfo(fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    let state = state_of(&fed);
    let posts = crate::federation::collections::published_count(state).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"")
        .json(json!({
            "version": "2.1",
            "software": {"name": "ronron", "version": env!("CARGO_PKG_VERSION")},
            "protocols": ["activitypub"],
            "services": {"inbound": [], "outbound": []},
            "openRegistrations": false,
            "usage": {"users": {"total": 1, "activeMonth": 1, "activeHalfyear": 1}, "localPosts": posts},
            "metadata": {"nodeName": crate::app::profile::effective(state).await?.display_name}
        })))
}
