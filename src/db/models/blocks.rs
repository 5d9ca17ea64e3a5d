//! Domain blocks.

use crate::db::{schema::domain_blocks, DbConnection, DbResult};
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
    /// True when `url` is on the blocked domain.
    pub fn covers(&self, url: &str) -> bool {
        let Ok(url) = url::Url::parse(url) else { return false };
        let Some(host) = url.host_str() else { return false };
        let host = host.to_lowercase();
        if self.domain.contains(':') {
            let authority = match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            };
            return authority == self.domain;
        }
        host == self.domain || host.ends_with(&format!(".{}", self.domain))
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
}
