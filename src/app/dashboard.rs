//! What the admin's dashboard sums up: bulletins, followers, peers, the delivery queue and the
//! service changes still open.

use crate::{
    bulletin::{phase_of, Phase},
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
    /// Incidents not resolved and maintenance inside its window, at the clock's now.
    pub ongoing: Vec<Bulletin>,
    /// Maintenance whose window has not opened, soonest first.
    pub upcoming: Vec<Bulletin>,
}

pub async fn overview(state: &AppState) -> DbResult<Overview> {
    let now = state.clock.now();
    state
        .db
        .read(move |c| {
            let (mut ongoing, mut upcoming) = (Vec::new(), Vec::new());
            for b in bulletins::open_changes(c)? {
                match phase_of(&b, now) {
                    Phase::Ongoing => ongoing.push(b),
                    Phase::Upcoming => upcoming.push(b),
                    Phase::Over => {}
                }
            }
            upcoming.sort_by_key(|b| b.starts_at);
            Ok(Overview {
                published: bulletins::count_published(c)?,
                followers: followers::count_accepted(c)?,
                pending_followers: followers::list(c, Some(FollowState::Pending))?.len(),
                following: remote::list_following(c)?.len(),
                queued: queue::count_by_status(c, DeliveryState::Pending)?,
                inboxes: queue::health(c)?,
                ongoing,
                upcoming,
            })
        })
        .await
}
