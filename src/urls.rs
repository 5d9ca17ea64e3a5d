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
    pub const INSTANCE_ACTOR_FEATURED: &str = "/actor/featured";
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
    /// Uploaded files (the logos), by their content-addressed name.
    pub const MEDIA: &str = "/media/{file}";
    /// The web admin; every page of it is under this prefix.
    pub const ADMIN: &str = "/admin";
    pub const ACCOUNT_FEED_RSS: &str = "/u/{name}/feed.rss";
    pub const ACCOUNT_MAINTENANCE_CALENDAR: &str = "/u/{name}/maintenance.ics";
    pub const TIMELINE_ATOM: &str = "/timeline.atom";
    pub const TIMELINE_RSS: &str = "/timeline.rss";
    pub const FOLLOWING_OPML: &str = "/following.opml";
    /// The collective role's pages and feeds (404 when the role is off).
    pub const COLLECTIVE_STATUS: &str = "/collective";
    pub const COLLECTIVE_MEMBERS: &str = "/collective/members";
    pub const COLLECTIVE_LABELS: &str = "/collective/labels";
    pub const COLLECTIVE_FEED: &str = "/collective/feed.atom";
    pub const COLLECTIVE_FEED_RSS: &str = "/collective/feed.rss";
    pub const COLLECTIVE_MAINTENANCE_CALENDAR: &str = "/collective/maintenance.ics";
    /// Liveness, readiness and Prometheus metrics, for the machines that watch the instance.
    pub const HEALTHZ: &str = "/healthz";
    pub const READYZ: &str = "/readyz";
    pub const METRICS: &str = "/metrics";
    /// The JSON admin API: every route in [`admin`] is under this prefix and needs a bearer token.
    pub const ADMIN_API: &str = "/api/v1/admin";
    /// ChatonsInfos files (stats.chatons.org's crawler reads them).
    pub const CHATONSINFOS_ORGANIZATION: &str = "/chatonsinfos/organization.properties";
    pub const CHATONSINFOS_SERVICE: &str = "/chatonsinfos/services/{slug}.properties";
    /// The collective's federation file: `subs.*` pointing at each member's organisation file.
    pub const CHATONSINFOS_FEDERATION: &str = "/chatonsinfos/federation.properties";
    /// Email subscriptions: the form posts here; each subscription's links carry its secret.
    pub const SUBSCRIPTIONS: &str = "/subscriptions";
    pub const SUBSCRIPTION_CONFIRM: &str = "/subscriptions/{token}/confirm";
    pub const SUBSCRIPTION_UNSUBSCRIBE: &str = "/subscriptions/{token}/unsubscribe";
    /// The collective's roster as a collection on its Group actor.
    pub const ACCOUNT_MEMBERS: &str = "/u/{name}/members";

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
        /// The host's logo: PUT the image as the body, DELETE to remove it.
        pub const PROFILE_LOGO: &str = "/profile/logo";
        /// The collective's logo, the same way.
        pub const COLLECTIVE_LOGO: &str = "/collective/logo";
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
        pub const SUBSCRIBERS: &str = "/subscribers";
        pub const SUBSCRIBER: &str = "/subscribers/{id}";
        pub const WEBHOOKS: &str = "/webhooks";
        pub const WEBHOOK: &str = "/webhooks/{id}";
        pub const WEBHOOK_DELIVERIES: &str = "/webhooks/{id}/deliveries";
        /// The collective role: the roster (GET, POST adds or approves, DELETE ?member= removes);
        /// the collectives this host asked to join; the Group's followers and relay subscribers.
        pub const MEMBERS: &str = "/members";
        pub const COLLECTIVE_JOINS: &str = "/collective/joins";
        pub const COLLECTIVE_FOLLOWERS: &str = "/collective/followers";
    }
}

#[derive(Clone, Debug)]
pub struct Urls {
    base: String,
    account: String,
    /// The collective's Group name (`collectif` when the role is off, for URLs never served).
    group: String,
}

impl Urls {
    pub fn new(config: &Config) -> Self {
        Self {
            base: format!("{}://{}", config.scheme(), config.instance.domain),
            account: config.account.name.clone(),
            group: config.collective_account().unwrap_or("collectif").to_string(),
        }
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
    pub fn chatonsinfos_organization(&self) -> Url {
        self.url(routes::CHATONSINFOS_ORGANIZATION)
    }
    pub fn chatonsinfos_federation(&self) -> Url {
        self.url(routes::CHATONSINFOS_FEDERATION)
    }
    pub fn chatonsinfos_service(&self, slug: &str) -> Url {
        self.url(&routes::CHATONSINFOS_SERVICE.replace("{slug}", slug))
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
    pub fn instance_featured(&self) -> Url {
        self.url(routes::INSTANCE_ACTOR_FEATURED)
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
    pub fn collective_status(&self) -> Url {
        self.url(routes::COLLECTIVE_STATUS)
    }
    pub fn collective_members(&self) -> Url {
        self.url(routes::COLLECTIVE_MEMBERS)
    }
    pub fn collective_labels(&self) -> Url {
        self.url(routes::COLLECTIVE_LABELS)
    }
    pub fn collective_feed(&self) -> Url {
        self.url(routes::COLLECTIVE_FEED)
    }
    pub fn collective_feed_rss(&self) -> Url {
        self.url(routes::COLLECTIVE_FEED_RSS)
    }
    pub fn collective_maintenance_calendar(&self) -> Url {
        self.url(routes::COLLECTIVE_MAINTENANCE_CALENDAR)
    }
    /// The federated timeline, members of the collective only.
    pub fn collective_timeline(&self) -> Url {
        let mut url = self.timeline_page();
        url.query_pairs_mut().append_pair("members", "true");
        url
    }
    /// The directory, members of the collective only.
    pub fn collective_directory(&self) -> Url {
        let mut url = self.directory_page();
        url.query_pairs_mut().append_pair("members", "true");
        url
    }
    /// The federated timeline of one server (`peer=` filter).
    pub fn timeline_of_peer(&self, domain: &str) -> Url {
        let mut url = self.timeline_page();
        url.query_pairs_mut().append_pair("peer", domain);
        url
    }
    pub fn asset(&self, file: &str) -> Url {
        self.url(&format!("/assets/{file}"))
    }
    /// An uploaded file (`app::media`), by its stored name.
    pub fn media(&self, file: &str) -> Url {
        self.url(&format!("/media/{file}"))
    }
    /// The stored name of one of our media URLs; `None` for any other URL.
    pub fn media_file_of<'a>(&self, url: &'a str) -> Option<&'a str> {
        url.strip_prefix(&self.base)?.strip_prefix("/media/").filter(|f| !f.is_empty() && !f.contains('/'))
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
    pub fn admin_webhook(&self, id: &str) -> Url {
        self.admin_api(routes::admin::WEBHOOK, id)
    }
    /// Where the subscription form posts.
    pub fn subscriptions(&self) -> Url {
        self.url(routes::SUBSCRIPTIONS)
    }
    /// The double opt-in link of a subscription.
    pub fn subscription_confirm(&self, token: &str) -> Url {
        self.url(&format!("{}/{token}/confirm", routes::SUBSCRIPTIONS))
    }
    /// The unsubscribe link of every email (also its RFC 8058 one-click POST target).
    pub fn subscription_unsubscribe(&self, token: &str) -> Url {
        self.url(&format!("{}/{token}/unsubscribe", routes::SUBSCRIPTIONS))
    }

    /// The collective's Group actor and its collections.
    pub fn group_actor(&self) -> Url {
        self.url(&format!("/u/{}", self.group))
    }
    pub fn group_key_id(&self) -> String {
        format!("{}#main-key", self.group_actor())
    }
    pub fn group_inbox(&self) -> Url {
        self.url(&format!("/u/{}/inbox", self.group))
    }
    pub fn group_outbox(&self) -> Url {
        self.url(&format!("/u/{}/outbox", self.group))
    }
    pub fn group_followers(&self) -> Url {
        self.url(&format!("/u/{}/followers", self.group))
    }
    pub fn group_following(&self) -> Url {
        self.url(&format!("/u/{}/following", self.group))
    }
    pub fn group_members(&self) -> Url {
        self.url(&format!("/u/{}/members", self.group))
    }
    /// The web admin's roster page.
    pub fn admin_members(&self) -> Url {
        self.admin("members")
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

/// A host name as every comparison sees it (blocks, "same host" checks, deliveries): lower case,
/// ASCII (IDNA: `bücher.example` is `xn--bcher-kva.example`), without the trailing dot that names
/// the same host in DNS (`example.org.`). None when it is not a host name.
pub fn normal_host(host: &str) -> Option<String> {
    let host = host.trim().trim_end_matches('.');
    if host.is_empty() {
        return None;
    }
    let host = match url::Host::parse(host).ok()? {
        // IDNA maps some full stops (`。`) to `.`: strip again once it is ASCII.
        url::Host::Domain(domain) => domain.trim_end_matches('.').to_string(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => format!("[{ip}]"),
    };
    (!host.is_empty()).then_some(host)
}

/// A server: its normalised host name (see [`normal_host`]) and its port, kept apart; no port
/// when it is the scheme's default (80, 443).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    pub host: String,
    pub port: Option<u16>,
}

impl Authority {
    /// The server of a URL.
    pub fn of_url(url: &Url) -> Option<Authority> {
        let host = normal_host(url.host_str()?)?;
        Some(Authority { host, port: url.port().filter(|p| ![80, 443].contains(p)) })
    }

    /// The server of a URL given as text; None when it is not a URL with a host.
    pub fn of(url: &str) -> Option<Authority> {
        Authority::of_url(&Url::parse(url).ok()?)
    }

    /// A server typed as `host` or `host:port` (a block, a filter), or as a URL with nothing after
    /// its host.
    pub fn parse(typed: &str) -> Option<Authority> {
        let typed = typed.trim();
        let bare = typed.strip_prefix("https://").or_else(|| typed.strip_prefix("http://")).unwrap_or(typed);
        let bare = bare.strip_suffix('/').unwrap_or(bare);
        if bare.is_empty() || bare.contains(['/', '?', '#', '@', '\\']) {
            return None;
        }
        let url = Url::parse(&format!("http://{bare}/")).ok()?;
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return None;
        }
        Authority::of_url(&url)
    }

    /// True when this server is `host` or one of its subdomains (any port).
    pub fn is_within(&self, host: &str) -> bool {
        self.host == host || self.host.strip_suffix(host).is_some_and(|rest| rest.ends_with('.'))
    }
}

impl std::fmt::Display for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

/// host[:port] of a URL, normalised (see [`Authority`]); empty when it has none. Two URLs are on
/// the same server when their `domain_of` are equal.
pub fn domain_of(url: &str) -> String {
    Authority::of(url).map(|a| a.to_string()).unwrap_or_default()
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
        assert_eq!(urls.collective_timeline().as_str(), "http://localhost:8080/timeline?members=true");
        assert_eq!(urls.collective_maintenance_calendar().as_str(), "http://localhost:8080/collective/maintenance.ics");
    }

    #[test]
    fn host_names_are_normalised_in_one_way() {
        for spelling in ["example.org", "Example.ORG", "example.org.", "EXAMPLE.org..", " example.org "] {
            assert_eq!(normal_host(spelling).as_deref(), Some("example.org"), "{spelling}");
        }
        assert_eq!(normal_host("bücher.example").as_deref(), Some("xn--bcher-kva.example"));
        assert_eq!(normal_host("BÜCHER.example.").as_deref(), Some("xn--bcher-kva.example"));
        assert_eq!(normal_host("xn--bcher-kva.example").as_deref(), Some("xn--bcher-kva.example"));
        assert_eq!(
            normal_host("bücher。example。").as_deref(),
            Some("xn--bcher-kva.example"),
            "ideographic full stops"
        );
        assert_eq!(normal_host("127.0.0.1.").as_deref(), Some("127.0.0.1"));
        assert_eq!(normal_host("[::1]").as_deref(), Some("[::1]"));
        for not_a_host in ["", ".", "..", "a b.example", "exa<mple.org"] {
            assert_eq!(normal_host(not_a_host), None, "{not_a_host:?}");
        }
    }

    #[test]
    fn a_server_is_its_normal_host_and_its_port_kept_apart() {
        let same = |a: &str, b: &str| assert_eq!(domain_of(a), domain_of(b), "{a} vs {b}");
        same("https://example.org/u/x", "https://EXAMPLE.org./inbox");
        same("https://bücher.example/u/x", "https://xn--bcher-kva.example/u/y");
        same("https://example.org:443/u/x", "https://example.org/u/x");
        assert_eq!(domain_of("http://Localhost.:4000/inbox"), "localhost:4000");
        assert_ne!(domain_of("http://localhost:4000/"), domain_of("http://localhost:4001/"));
        assert_eq!(domain_of("not a url"), "");

        let parsed = |typed: &str| Authority::parse(typed).map(|a| a.to_string());
        assert_eq!(parsed("Bad.Example.").as_deref(), Some("bad.example"));
        assert_eq!(parsed("https://bücher.example/").as_deref(), Some("xn--bcher-kva.example"));
        assert_eq!(parsed("localhost.:4000").as_deref(), Some("localhost:4000"));
        assert_eq!(parsed("bad.example:443").as_deref(), Some("bad.example"));
        assert_eq!(parsed("bad.example:80").as_deref(), Some("bad.example"));
        for not_a_server in ["", "https://", "bad.example/path", "me@bad.example", "bad.example?x", "bad.example:99999"]
        {
            assert_eq!(parsed(not_a_server), None, "{not_a_server:?}");
        }

        let server = Authority::parse("social.bad.example").unwrap();
        assert!(server.is_within("bad.example") && server.is_within("social.bad.example"));
        assert!(!server.is_within("ad.example") && !server.is_within("example.bad"));
    }
}
