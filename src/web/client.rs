//! Who is at the other end of a request: the client's address and whether it reached us over
//! https. The TCP peer tells, unless it is one of `server.trusted_proxies`: then
//! `X-Forwarded-For` is walked from the right, skipping trusted proxies, to the first address
//! that is not one (as nginx's `real_ip_recursive` and Rails' `remote_ip` do), and
//! `X-Forwarded-Proto` tells the scheme. An untrusted peer's forwarded headers are ignored.

use crate::config::Config;
use actix_web::HttpRequest;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address; `None` only when the connection has no peer address.
    pub ip: Option<IpAddr>,
    /// The client reached us over https (decides the cookies' `Secure` flag).
    pub https: bool,
}

impl ClientInfo {
    pub fn from_request(req: &HttpRequest, config: &Config) -> ClientInfo {
        let values = |name: &str| -> Vec<String> {
            req.headers().get_all(name).filter_map(|v| v.to_str().ok()).map(str::to_string).collect()
        };
        Self::resolve(
            req.peer_addr().map(|a| a.ip()),
            &values("x-forwarded-for"),
            &values("x-forwarded-proto"),
            &config.trusted_proxies(),
            config.scheme() == "https",
        )
    }

    /// The request carries `X-Forwarded-For` from a peer that is not a trusted proxy (so it was
    /// ignored): behind a proxy missing from `server.trusted_proxies`, every client looks alike.
    pub fn forwarding_ignored(req: &HttpRequest, config: &Config) -> bool {
        let trusted = config.trusted_proxies();
        req.headers().contains_key("x-forwarded-for")
            && req.peer_addr().is_some_and(|a| !trusted.iter().any(|net| net.contains(&a.ip().to_canonical())))
    }

    /// The pure part of [`ClientInfo::from_request`]: `forwarded_for` and `forwarded_proto` are the
    /// header values in the order received, `default_https` what the configured scheme says.
    pub fn resolve(
        peer: Option<IpAddr>,
        forwarded_for: &[String],
        forwarded_proto: &[String],
        trusted: &[IpNet],
        default_https: bool,
    ) -> ClientInfo {
        let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
        let Some(peer) = peer.map(|ip| ip.to_canonical()) else {
            return ClientInfo { ip: None, https: default_https };
        };
        if !is_trusted(&peer) {
            return ClientInfo { ip: Some(peer), https: default_https };
        }
        let mut client = peer;
        let hops: Vec<&str> =
            forwarded_for.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|h| !h.is_empty()).collect();
        for hop in hops.iter().rev() {
            if !is_trusted(&client) {
                break;
            }
            // What a trusted proxy wrote is believed; an entry that is not an address ends the
            // walk at the proxy that handed it over.
            match parse_hop(hop) {
                Some(ip) => client = ip,
                None => break,
            }
        }
        // The first value is the one the outermost proxy, the one facing the client, set.
        let proto = forwarded_proto.iter().flat_map(|v| v.split(',')).map(str::trim).find(|p| !p.is_empty());
        let https = match proto {
            Some(p) if p.eq_ignore_ascii_case("https") => true,
            Some(p) if p.eq_ignore_ascii_case("http") => false,
            _ => default_https,
        };
        ClientInfo { ip: Some(client), https }
    }
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| crate::config::parse_proxy(n).unwrap()).collect()
    }

    fn resolve(peer: &str, xff: &[&str], proto: &[&str], trusted: &[&str]) -> ClientInfo {
        let strings = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        ClientInfo::resolve(Some(peer.parse().unwrap()), &strings(xff), &strings(proto), &nets(trusted), false)
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let info = resolve("203.0.113.9", &["198.51.100.1"], &["https"], &[]);
        assert_eq!(info, ClientInfo { ip: ip("203.0.113.9"), https: false });
        let info = resolve("203.0.113.9", &["198.51.100.1"], &["https"], &["127.0.0.1/32"]);
        assert_eq!(info, ClientInfo { ip: ip("203.0.113.9"), https: false });
    }

    #[test]
    fn forwarded_for_is_walked_from_the_right_past_trusted_proxies() {
        let trusted = ["127.0.0.1", "10.0.0.0/8"];
        // A spoofed first entry is left of the address our proxies saw: it is never reached.
        let info = resolve("127.0.0.1", &["6.6.6.6, 198.51.100.7, 10.1.2.3"], &[], &trusted);
        assert_eq!(info.ip, ip("198.51.100.7"));
        // Two header lines count as one list, in order.
        let info = resolve("127.0.0.1", &["6.6.6.6", "198.51.100.7"], &[], &trusted);
        assert_eq!(info.ip, ip("198.51.100.7"));
        // Every hop trusted: the leftmost one.
        let info = resolve("127.0.0.1", &["10.9.9.9, 10.1.2.3"], &[], &trusted);
        assert_eq!(info.ip, ip("10.9.9.9"));
        // No header: the proxy itself.
        assert_eq!(resolve("127.0.0.1", &[], &[], &trusted).ip, ip("127.0.0.1"));
        // Garbage stops the walk where it was handed over.
        let info = resolve("127.0.0.1", &["198.51.100.7, not-an-ip, 10.1.2.3"], &[], &trusted);
        assert_eq!(info.ip, ip("10.1.2.3"));
        // Ports, brackets and IPv4-mapped IPv6 addresses.
        assert_eq!(resolve("127.0.0.1", &["198.51.100.7:4711"], &[], &trusted).ip, ip("198.51.100.7"));
        assert_eq!(resolve("127.0.0.1", &["[2001:db8::1]:443"], &[], &trusted).ip, ip("2001:db8::1"));
        assert_eq!(resolve("::ffff:127.0.0.1", &["2001:db8::2"], &[], &trusted).ip, ip("2001:db8::2"));
    }

    #[test]
    fn forwarded_proto_counts_only_from_a_trusted_peer() {
        let trusted = ["127.0.0.1"];
        assert!(resolve("127.0.0.1", &[], &["https"], &trusted).https);
        assert!(resolve("127.0.0.1", &[], &["HTTPS, http"], &trusted).https);
        assert!(!resolve("127.0.0.1", &[], &["http"], &trusted).https);
        assert!(!resolve("127.0.0.1", &[], &["gopher"], &trusted).https, "unknown: the configured default");
        assert!(!resolve("192.0.2.1", &[], &["https"], &trusted).https);
        let default_https = ClientInfo::resolve(ip("127.0.0.1"), &[], &[], &nets(&trusted), true);
        assert!(default_https.https);
    }
}
