//! The one place that builds every URL Ronron publishes. Handlers and activities never format paths.

use crate::config::Config;
use url::Url;

/// Route patterns, shared by the router and the builders below so the two cannot drift.
pub mod routes {
    pub const WEBFINGER: &str = "/.well-known/webfinger";
    pub const HOST_META: &str = "/.well-known/host-meta";
    pub const NODEINFO_WELL_KNOWN: &str = "/.well-known/nodeinfo";
    pub const NODEINFO: &str = "/nodeinfo/2.1";
    pub const SHARED_INBOX: &str = "/inbox";
    pub const INSTANCE_ACTOR: &str = "/actor";
    pub const INSTANCE_ACTOR_INBOX: &str = "/actor/inbox";
    pub const ACCOUNT: &str = "/u/{name}";
    pub const ACCOUNT_INBOX: &str = "/u/{name}/inbox";
    pub const ACCOUNT_OUTBOX: &str = "/u/{name}/outbox";
    pub const ACCOUNT_FOLLOWERS: &str = "/u/{name}/followers";
    pub const ACCOUNT_FOLLOWING: &str = "/u/{name}/following";
    pub const ACCOUNT_FEATURED: &str = "/u/{name}/featured";
    pub const BULLETIN: &str = "/b/{id}";
    pub const ACTIVITY: &str = "/activities/{id}";
    pub const ACCOUNT_SERVICES: &str = "/u/{name}/services";
    pub const ACCOUNT_LABEL: &str = "/u/{name}/label";
    pub const SERVICE: &str = "/services/{slug}";
    pub const TAG: &str = "/tags/{name}";
    pub const API_TIMELINE: &str = "/api/v1/timeline";
    pub const ACCOUNT_FEED: &str = "/u/{name}/feed.atom";
    pub const API_DIRECTORY: &str = "/api/v1/directory";
    pub const STATUS_PAGE: &str = "/status";
    pub const TIMELINE_PAGE: &str = "/timeline";
    pub const DIRECTORY_PAGE: &str = "/directory";
    pub const ASSET: &str = "/assets/{file}";
    /// The web admin; every page of it is under this prefix.
    pub const ADMIN: &str = "/admin";
    pub const ACCOUNT_FEED_RSS: &str = "/u/{name}/feed.rss";
    pub const ACCOUNT_MAINTENANCE_CALENDAR: &str = "/u/{name}/maintenance.ics";
    pub const TIMELINE_ATOM: &str = "/timeline.atom";
    pub const TIMELINE_RSS: &str = "/timeline.rss";
    pub const FOLLOWING_OPML: &str = "/following.opml";
    /// The JSON admin API: every route in [`admin`] is under this prefix and needs a bearer token.
    pub const ADMIN_API: &str = "/api/v1/admin";

    /// Admin API routes, relative to [`ADMIN_API`].
    pub mod admin {
        pub const BULLETINS: &str = "/bulletins";
        pub const BULLETIN: &str = "/bulletins/{id}";
        pub const BULLETIN_FOLLOW_UPS: &str = "/bulletins/{id}/follow-ups";
        pub const BULLETIN_RESCHEDULE: &str = "/bulletins/{id}/reschedule";
        pub const BULLETIN_CANCEL: &str = "/bulletins/{id}/cancel";
        pub const SERVICES: &str = "/services";
        pub const SERVICE: &str = "/services/{slug}";
        pub const LABEL: &str = "/label";
        pub const LABEL_CRITERION: &str = "/label/{criterion}";
        pub const PROFILE: &str = "/profile";
        pub const FOLLOWERS: &str = "/followers";
        pub const FOLLOWER: &str = "/followers/{id}";
        pub const FOLLOWER_APPROVE: &str = "/followers/{id}/approve";
        pub const FOLLOWING: &str = "/following";
        pub const BLOCKS: &str = "/blocks";
        pub const BLOCK: &str = "/blocks/{domain}";
        pub const DELIVERIES: &str = "/deliveries";
        pub const DELIVERIES_RETRY: &str = "/deliveries/retry";
        pub const TOKENS: &str = "/tokens";
        pub const TOKEN: &str = "/tokens/{id}";
    }
}

#[derive(Clone, Debug)]
pub struct Urls {
    base: String,
    account: String,
}

impl Urls {
    pub fn new(config: &Config) -> Self {
        Self { base: format!("{}://{}", config.scheme(), config.instance.domain), account: config.account.name.clone() }
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}{}", self.base, path)).expect("base URL and paths are validated")
    }

    pub fn base(&self) -> Url {
        self.url("/")
    }
    pub fn host_actor(&self) -> Url {
        self.url(&format!("/u/{}", self.account))
    }
    pub fn host_key_id(&self) -> String {
        format!("{}#main-key", self.host_actor())
    }
    pub fn host_inbox(&self) -> Url {
        self.url(&format!("/u/{}/inbox", self.account))
    }
    pub fn host_outbox(&self) -> Url {
        self.url(&format!("/u/{}/outbox", self.account))
    }
    pub fn host_outbox_page(&self, before: Option<&str>) -> Url {
        let mut url = self.host_outbox();
        match before {
            Some(cursor) => url.query_pairs_mut().append_pair("page", "true").append_pair("before", cursor),
            None => url.query_pairs_mut().append_pair("page", "true"),
        };
        url
    }
    pub fn host_followers(&self) -> Url {
        self.url(&format!("/u/{}/followers", self.account))
    }
    pub fn host_following(&self) -> Url {
        self.url(&format!("/u/{}/following", self.account))
    }
    pub fn host_featured(&self) -> Url {
        self.url(&format!("/u/{}/featured", self.account))
    }
    pub fn host_feed(&self) -> Url {
        self.url(&format!("/u/{}/feed.atom", self.account))
    }
    pub fn host_feed_rss(&self) -> Url {
        self.url(&format!("/u/{}/feed.rss", self.account))
    }
    pub fn host_maintenance_calendar(&self) -> Url {
        self.url(&format!("/u/{}/maintenance.ics", self.account))
    }
    pub fn timeline_atom(&self) -> Url {
        self.url(routes::TIMELINE_ATOM)
    }
    pub fn timeline_rss(&self) -> Url {
        self.url(routes::TIMELINE_RSS)
    }
    pub fn following_opml(&self) -> Url {
        self.url(routes::FOLLOWING_OPML)
    }
    pub fn host_services(&self) -> Url {
        self.url(&format!("/u/{}/services", self.account))
    }
    pub fn host_label(&self) -> Url {
        self.url(&format!("/u/{}/label", self.account))
    }
    pub fn service(&self, slug: &str) -> Url {
        self.url(&format!("/services/{slug}"))
    }
    pub fn shared_inbox(&self) -> Url {
        self.url(routes::SHARED_INBOX)
    }
    pub fn instance_actor(&self) -> Url {
        self.url(routes::INSTANCE_ACTOR)
    }
    pub fn instance_key_id(&self) -> String {
        format!("{}#main-key", self.instance_actor())
    }
    pub fn instance_inbox(&self) -> Url {
        self.url(routes::INSTANCE_ACTOR_INBOX)
    }
    pub fn bulletin(&self, id: &str) -> Url {
        self.url(&format!("/b/{id}"))
    }
    pub fn activity(&self, id: &str) -> Url {
        self.url(&format!("/activities/{id}"))
    }
    pub fn nodeinfo(&self) -> Url {
        self.url(routes::NODEINFO)
    }
    pub fn webfinger_template(&self) -> String {
        format!("{}{}?resource={{uri}}", self.base, routes::WEBFINGER)
    }
    pub fn tag(&self, name: &str) -> Url {
        self.url(&format!("/tags/{name}"))
    }

    pub fn status_page(&self) -> Url {
        self.url(routes::STATUS_PAGE)
    }
    pub fn timeline_page(&self) -> Url {
        self.url(routes::TIMELINE_PAGE)
    }
    pub fn directory_page(&self) -> Url {
        self.url(routes::DIRECTORY_PAGE)
    }
    pub fn asset(&self, file: &str) -> Url {
        self.url(&format!("/assets/{file}"))
    }
    /// An admin page: `admin("")` is the dashboard, `admin("bulletins/abc")` a bulletin's page.
    pub fn admin(&self, path: &str) -> Url {
        if path.is_empty() {
            self.url(routes::ADMIN)
        } else {
            self.url(&format!("{}/{path}", routes::ADMIN))
        }
    }
    /// An admin API route (from [`routes::admin`]) with its one `{…}` parameter filled in.
    fn admin_api(&self, route: &str, param: &str) -> Url {
        let path = match (route.find('{'), route.find('}')) {
            (Some(start), Some(end)) => format!("{}{}{}", &route[..start], param, &route[end + 1..]),
            _ => route.to_string(),
        };
        self.url(&format!("{}{path}", routes::ADMIN_API))
    }
    /// A bulletin in the admin API (the `Location` of a new one).
    pub fn admin_bulletin(&self, id: &str) -> Url {
        self.admin_api(routes::admin::BULLETIN, id)
    }
    pub fn admin_token(&self, id: i64) -> Url {
        self.admin_api(routes::admin::TOKEN, &id.to_string())
    }

    /// The bulletin id if `url` is one of our bulletin URLs.
    pub fn bulletin_id_of(&self, url: &str) -> Option<String> {
        let prefix = format!("{}/b/", self.base);
        url.strip_prefix(&prefix).filter(|id| !id.is_empty() && !id.contains('/')).map(str::to_string)
    }

    pub fn is_local(&self, url: &Url) -> bool {
        url.as_str().starts_with(&format!("{}/", self.base))
    }
}

/// host[:port] of a URL.
pub fn domain_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            })
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_urls_on_the_configured_domain() {
        let urls = Urls::new(&Config::default());
        assert_eq!(urls.host_actor().as_str(), "http://localhost:8080/u/bulletin");
        assert_eq!(urls.host_key_id(), "http://localhost:8080/u/bulletin#main-key");
        assert_eq!(urls.bulletin_id_of("http://localhost:8080/b/abc"), Some("abc".into()));
        assert_eq!(urls.bulletin_id_of("http://elsewhere/b/abc"), None);
        assert_eq!(urls.host_outbox_page(None).as_str(), "http://localhost:8080/u/bulletin/outbox?page=true");
        assert_eq!(urls.host_feed_rss().as_str(), "http://localhost:8080/u/bulletin/feed.rss");
        assert_eq!(urls.host_maintenance_calendar().as_str(), "http://localhost:8080/u/bulletin/maintenance.ics");
        assert_eq!(urls.timeline_rss().as_str(), "http://localhost:8080/timeline.rss");
        assert_eq!(urls.admin_bulletin("abc").as_str(), "http://localhost:8080/api/v1/admin/bulletins/abc");
        assert_eq!(urls.admin_token(7).as_str(), "http://localhost:8080/api/v1/admin/tokens/7");
    }
}
