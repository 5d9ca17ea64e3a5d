//! Domain blocks.

use crate::{
    db::{schema::domain_blocks, DbConnection, DbResult},
    urls::Authority,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
#[diesel(table_name = domain_blocks)]
pub struct DomainBlock {
    /// A host name (blocks it and its subdomains, any port) or `host:port` (that one only).
    pub domain: String,
    pub reason: Option<String>,
    pub created_at: NaiveDateTime,
}

impl DomainBlock {
    /// True when `url` is on the blocked domain, however either is spelled (case, IDNA, trailing
    /// dot: both are compared as [`Authority`]s).
    pub fn covers(&self, url: &str) -> bool {
        let (Some(server), Some(blocked)) = (Authority::of(url), Authority::parse(&self.domain)) else {
            return false;
        };
        match blocked.port {
            Some(_) => server == blocked,
            None => server.is_within(&blocked.host),
        }
    }
}

pub fn list(conn: &mut DbConnection) -> DbResult<Vec<DomainBlock>> {
    Ok(domain_blocks::table.order(domain_blocks::domain).select(DomainBlock::as_select()).load(conn)?)
}

pub fn insert(conn: &mut DbConnection, block: &DomainBlock) -> DbResult<bool> {
    if domain_blocks::table.find(&block.domain).count().get_result::<i64>(conn)? > 0 {
        return Ok(false);
    }
    diesel::insert_into(domain_blocks::table).values(block).execute(conn)?;
    Ok(true)
}

pub fn delete(conn: &mut DbConnection, domain: &str) -> DbResult<bool> {
    Ok(diesel::delete(domain_blocks::table.find(domain)).execute(conn)? > 0)
}

/// The block covering any of `urls`, if one does.
pub fn covering(conn: &mut DbConnection, urls: &[String]) -> DbResult<Option<DomainBlock>> {
    Ok(list(conn)?.into_iter().find(|b| urls.iter().any(|u| b.covers(u))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_covers_subdomains_or_one_port() {
        let block =
            |d: &str| DomainBlock { domain: d.into(), reason: None, created_at: chrono::NaiveDateTime::default() };
        assert!(block("bad.example").covers("https://bad.example/u/x"));
        assert!(block("bad.example").covers("https://social.bad.example/u/x"));
        assert!(!block("bad.example").covers("https://notbad.example/u/x"));
        assert!(block("localhost:4000").covers("http://localhost:4000/inbox"));
        assert!(!block("localhost:4000").covers("http://localhost:4001/inbox"));
    }

    #[test]
    fn a_block_covers_every_spelling_of_its_hosts() {
        let block =
            |d: &str| DomainBlock { domain: d.into(), reason: None, created_at: chrono::NaiveDateTime::default() };
        for url in [
            "https://example.org./u/x",
            "https://EXAMPLE.org/u/x",
            "https://social.example.org./inbox",
            "https://Social.Example.Org../inbox",
            "https://example.org:443/u/x",
        ] {
            assert!(block("example.org").covers(url), "{url}");
        }
        assert!(!block("example.org").covers("https://example.org.evil/u/x"));
        // A block typed in Unicode and URLs in punycode, and the reverse; also a block stored
        // before blocks were normalised.
        assert!(block("xn--bcher-kva.example").covers("https://bücher.example/u/x"));
        assert!(block("xn--bcher-kva.example").covers("https://xn--bcher-kva.example/u/x"));
        assert!(block("bücher.example").covers("https://xn--bcher-kva.example/u/x"));
        assert!(block("Bücher.Example.").covers("https://shop.xn--bcher-kva.example./u/x"));
        assert!(block("localhost:4000").covers("http://LOCALHOST.:4000/inbox"));
        assert!(!block("localhost:4000").covers("http://localhost.:4001/inbox"));
    }
}
