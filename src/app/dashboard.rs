//! What the admin's dashboard sums up: bulletins, followers, peers, the delivery queue and the
//! service changes still open.

use crate::{
    db::{
        models::{
            activities::{self as queue, DeliveryState, InboxHealth},
            bulletins::{self, Bulletin},
            followers::{self, FollowState},
            remote,
        },
        DbResult,
    },
    state::AppState,
};

#[derive(Debug, Clone)]
pub struct Overview {
    pub published: i64,
    pub followers: i64,
    pub pending_followers: usize,
    pub following: usize,
    /// Deliveries waiting.
    pub queued: i64,
    pub inboxes: Vec<InboxHealth>,
    /// Incidents and maintenance not over yet.
    pub open_changes: Vec<Bulletin>,
}

pub async fn overview(state: &AppState) -> DbResult<Overview> {
    state
        .db
        .read(|c| {
            Ok(Overview {
                published: bulletins::count_published(c)?,
                followers: followers::count_accepted(c)?,
                pending_followers: followers::list(c, Some(FollowState::Pending))?.len(),
                following: remote::list_following(c)?.len(),
                queued: queue::count_by_status(c, DeliveryState::Pending)?,
                inboxes: queue::health(c)?,
                open_changes: bulletins::open_changes(c)?,
            })
        })
        .await
}
