//! The whole host as rows, for `ronron export --all` / `import --all`: its own structs (the
//! export format, versioned apart from the tables' Rust types), read all at once and inserted all
//! at once. Ids of `followers` and `label_history` are not carried: the database gives new ones
//! in the same order (PostgreSQL sequences stay right).

use crate::db::{
    schema::{
        activities, bulletin_services, bulletin_translations, bulletins, collective_followers, collective_joins,
        collective_members, collective_reshares, domain_blocks, followers, following, label_grades, label_history,
        local_keys, services, settings,
    },
    schema::{email_subscribers, webhooks},
    DbConnection, DbResult,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = bulletins)]
pub struct BulletinRow {
    pub id: String,
    pub kind: String,
    pub lang: String,
    pub title: String,
    pub body_markdown: String,
    pub content_html: String,
    pub in_reply_to: Option<String>,
    pub extra: Option<String>,
    pub created_at: NaiveDateTime,
    pub published_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
    pub change_type: Option<String>,
    pub state: Option<String>,
    pub starts_at: Option<NaiveDateTime>,
    pub ends_at: Option<NaiveDateTime>,
    pub federated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = bulletin_translations)]
pub struct TranslationRow {
    pub bulletin_id: String,
    pub lang: String,
    pub title: String,
    pub body_markdown: String,
    pub content_html: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = bulletin_services)]
pub struct BulletinServiceRow {
    pub bulletin_id: String,
    pub service_slug: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = services)]
pub struct ServiceRow {
    pub slug: String,
    pub name: String,
    pub software: String,
    pub url: String,
    pub description: String,
    pub audience: String,
    pub registration: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub removed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = label_grades)]
pub struct GradeRow {
    pub criterion: String,
    pub grade: String,
    pub comment: Option<String>,
    pub evidence: Option<String>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = label_history)]
pub struct HistoryRow {
    pub criterion: String,
    pub old_grade: Option<String>,
    pub new_grade: String,
    pub comment: Option<String>,
    pub evidence: Option<String>,
    pub bulletin_id: Option<String>,
    pub changed_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = settings)]
pub struct SettingRow {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = followers)]
pub struct FollowerRow {
    pub actor_id: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub status: String,
    pub follow_activity_id: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = following)]
pub struct FollowingRow {
    pub actor_id: String,
    pub inbox: String,
    pub follow_activity_id: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = domain_blocks)]
pub struct BlockRow {
    pub domain: String,
    pub reason: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = activities)]
pub struct ActivityRow {
    pub id: String,
    pub kind: String,
    pub object_id: String,
    pub json: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = local_keys)]
pub struct KeyRow {
    pub kind: String,
    pub private_key_pem: String,
    pub public_key_pem: String,
    pub created_at: NaiveDateTime,
}

/// An email subscriber: personal data, carried so the subscribers move with the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = email_subscribers)]
pub struct SubscriberRow {
    pub id: String,
    pub email: String,
    pub lang: String,
    pub scope: String,
    pub services: String,
    pub token: String,
    pub requested_from: Option<String>,
    pub created_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: String,
    pub url: String,
    pub secret: String,
    pub events: String,
    pub kinds: String,
    pub services: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = collective_members)]
pub struct MemberRow {
    pub actor_id: String,
    pub handle: String,
    pub state: String,
    pub joined_via: String,
    pub join_activity_id: Option<String>,
    pub since: NaiveDateTime,
    pub approved_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = collective_followers)]
pub struct GroupFollowerRow {
    pub actor_id: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub status: String,
    pub follow_activity_id: String,
    pub is_relay: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = collective_reshares)]
pub struct ReshareRow {
    pub object_id: String,
    pub member_actor_id: String,
    pub announce_id: String,
    pub created_at: NaiveDateTime,
    pub undone_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = collective_joins)]
pub struct JoinRow {
    pub group_actor_id: String,
    pub handle: String,
    pub join_activity_id: String,
    pub state: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Everything the host owns, table by table (remote posts, caches, the delivery queue, sessions and
/// tokens are not: they are refetched, rebuilt or made again).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tables {
    pub bulletins: Vec<BulletinRow>,
    pub bulletin_translations: Vec<TranslationRow>,
    pub bulletin_services: Vec<BulletinServiceRow>,
    pub services: Vec<ServiceRow>,
    pub label_grades: Vec<GradeRow>,
    pub label_history: Vec<HistoryRow>,
    pub settings: Vec<SettingRow>,
    pub followers: Vec<FollowerRow>,
    pub following: Vec<FollowingRow>,
    pub domain_blocks: Vec<BlockRow>,
    /// The activities we sent (their ids are in peers' databases and in our outbox).
    pub activities: Vec<ActivityRow>,
    /// Email subscribers (their addresses are personal data: the export is then confidential).
    /// Absent from exports made before subscriptions existed.
    #[serde(default)]
    pub email_subscribers: Vec<SubscriberRow>,
    /// Webhooks with their secrets (the queue of what is sent to either is not carried).
    #[serde(default)]
    pub webhooks: Vec<WebhookRow>,
    /// The collective role (absent from exports made before it existed).
    #[serde(default)]
    pub collective_members: Vec<MemberRow>,
    #[serde(default)]
    pub collective_followers: Vec<GroupFollowerRow>,
    #[serde(default)]
    pub collective_reshares: Vec<ReshareRow>,
    #[serde(default)]
    pub collective_joins: Vec<JoinRow>,
}

/// Runs the reads of `f` on one snapshot of the database: a read transaction, REPEATABLE READ on
/// PostgreSQL (its default gives each statement its own snapshot); on SQLite in WAL mode a
/// transaction reads one snapshot from its first read.
pub fn in_one_snapshot<T>(c: &mut DbConnection, f: impl FnOnce(&mut DbConnection) -> DbResult<T>) -> DbResult<T> {
    use diesel::Connection;
    c.transaction(|c| {
        if matches!(c, DbConnection::Postgres(_)) {
            diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(c)?;
        }
        f(c)
    })
}

pub fn read_all(c: &mut DbConnection) -> DbResult<Tables> {
    Ok(Tables {
        bulletins: bulletins::table
            .order((bulletins::created_at, bulletins::id))
            .select(BulletinRow::as_select())
            .load(c)?,
        bulletin_translations: bulletin_translations::table
            .order((bulletin_translations::bulletin_id, bulletin_translations::lang))
            .select(TranslationRow::as_select())
            .load(c)?,
        bulletin_services: bulletin_services::table
            .order((bulletin_services::bulletin_id, bulletin_services::service_slug))
            .select(BulletinServiceRow::as_select())
            .load(c)?,
        services: services::table.order(services::slug).select(ServiceRow::as_select()).load(c)?,
        label_grades: label_grades::table.order(label_grades::criterion).select(GradeRow::as_select()).load(c)?,
        label_history: label_history::table.order(label_history::id).select(HistoryRow::as_select()).load(c)?,
        settings: settings::table.order(settings::key).select(SettingRow::as_select()).load(c)?,
        followers: followers::table.order(followers::id).select(FollowerRow::as_select()).load(c)?,
        following: following::table.order(following::actor_id).select(FollowingRow::as_select()).load(c)?,
        domain_blocks: domain_blocks::table.order(domain_blocks::domain).select(BlockRow::as_select()).load(c)?,
        activities: activities::table
            .order((activities::created_at, activities::id))
            .select(ActivityRow::as_select())
            .load(c)?,
        email_subscribers: email_subscribers::table
            .order((email_subscribers::created_at, email_subscribers::id))
            .select(SubscriberRow::as_select())
            .load(c)?,
        webhooks: webhooks::table
            .order((webhooks::created_at, webhooks::id))
            .select(WebhookRow::as_select())
            .load(c)?,
        collective_members: collective_members::table
            .order(collective_members::actor_id)
            .select(MemberRow::as_select())
            .load(c)?,
        collective_followers: collective_followers::table
            .order(collective_followers::actor_id)
            .select(GroupFollowerRow::as_select())
            .load(c)?,
        collective_reshares: collective_reshares::table
            .order(collective_reshares::object_id)
            .select(ReshareRow::as_select())
            .load(c)?,
        collective_joins: collective_joins::table
            .order(collective_joins::group_actor_id)
            .select(JoinRow::as_select())
            .load(c)?,
    })
}

/// The first table holding something the host made (settings and keys do not count: a fresh
/// instance has them), or None when the database is fresh.
pub fn first_non_empty(c: &mut DbConnection) -> DbResult<Option<&'static str>> {
    let counts: [(&'static str, i64); 16] = [
        ("bulletins", bulletins::table.count().get_result(c)?),
        ("services", services::table.count().get_result(c)?),
        ("label_grades", label_grades::table.count().get_result(c)?),
        ("label_history", label_history::table.count().get_result(c)?),
        ("followers", followers::table.count().get_result(c)?),
        ("following", following::table.count().get_result(c)?),
        ("domain_blocks", domain_blocks::table.count().get_result(c)?),
        ("activities", activities::table.count().get_result(c)?),
        ("bulletin_translations", bulletin_translations::table.count().get_result(c)?),
        ("bulletin_services", bulletin_services::table.count().get_result(c)?),
        ("email_subscribers", email_subscribers::table.count().get_result(c)?),
        ("webhooks", webhooks::table.count().get_result(c)?),
        ("collective_members", collective_members::table.count().get_result(c)?),
        ("collective_followers", collective_followers::table.count().get_result(c)?),
        ("collective_reshares", collective_reshares::table.count().get_result(c)?),
        ("collective_joins", collective_joins::table.count().get_result(c)?),
    ];
    Ok(counts.into_iter().find(|(_, n)| *n > 0).map(|(name, _)| name))
}

/// Inserts every row (the caller's transaction makes it all or nothing). Settings replace the
/// fresh instance's own.
pub fn insert_all(c: &mut DbConnection, t: &Tables) -> DbResult<()> {
    // One row at a time: SQLite limits the number of bound values per statement.
    for row in &t.services {
        diesel::insert_into(services::table).values(row).execute(c)?;
    }
    for row in &t.bulletins {
        diesel::insert_into(bulletins::table).values(row).execute(c)?;
    }
    for row in &t.bulletin_translations {
        diesel::insert_into(bulletin_translations::table).values(row).execute(c)?;
    }
    for row in &t.bulletin_services {
        diesel::insert_into(bulletin_services::table).values(row).execute(c)?;
    }
    for row in &t.label_grades {
        diesel::insert_into(label_grades::table).values(row).execute(c)?;
    }
    for row in &t.label_history {
        diesel::insert_into(label_history::table).values(row).execute(c)?;
    }
    for row in &t.settings {
        diesel::delete(settings::table.find(&row.key)).execute(c)?;
        diesel::insert_into(settings::table).values(row).execute(c)?;
    }
    for row in &t.followers {
        diesel::insert_into(followers::table).values(row).execute(c)?;
    }
    for row in &t.following {
        diesel::insert_into(following::table).values(row).execute(c)?;
    }
    for row in &t.domain_blocks {
        diesel::insert_into(domain_blocks::table).values(row).execute(c)?;
    }
    for row in &t.activities {
        diesel::insert_into(activities::table).values(row).execute(c)?;
    }
    for row in &t.email_subscribers {
        diesel::insert_into(email_subscribers::table).values(row).execute(c)?;
    }
    for row in &t.webhooks {
        diesel::insert_into(webhooks::table).values(row).execute(c)?;
    }
    for row in &t.collective_members {
        diesel::insert_into(collective_members::table).values(row).execute(c)?;
    }
    for row in &t.collective_followers {
        diesel::insert_into(collective_followers::table).values(row).execute(c)?;
    }
    for row in &t.collective_reshares {
        diesel::insert_into(collective_reshares::table).values(row).execute(c)?;
    }
    for row in &t.collective_joins {
        diesel::insert_into(collective_joins::table).values(row).execute(c)?;
    }
    Ok(())
}

pub fn key(c: &mut DbConnection, kind: &str) -> DbResult<Option<KeyRow>> {
    Ok(local_keys::table.find(kind).select(KeyRow::as_select()).first(c).optional()?)
}

/// Replaces the stored key of `row.kind` (the fresh instance made its own at start).
pub fn put_key(c: &mut DbConnection, row: &KeyRow) -> DbResult<()> {
    diesel::delete(local_keys::table.find(&row.kind)).execute(c)?;
    diesel::insert_into(local_keys::table).values(row).execute(c)?;
    Ok(())
}

/// Sets when the key of `kind` was made (the actor's `published` date), keeping the key.
pub fn set_key_created(c: &mut DbConnection, kind: &str, at: NaiveDateTime) -> DbResult<()> {
    diesel::update(local_keys::table.find(kind)).set(local_keys::created_at.eq(at)).execute(c)?;
    Ok(())
}
