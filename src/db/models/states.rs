//! The states a follow and a delivery go through: enums in Rust, lower-case text in the database
//! (the same column type on SQLite and PostgreSQL, readable with `psql` or `sqlite3`).

use diesel::{
    backend::Backend,
    deserialize::{self, FromSql, FromSqlRow},
    expression::AsExpression,
    serialize::{self, Output, ToSql},
    sql_types::Text,
};
use serde::Serialize;

/// A follow, either way: one of our followers, or an account we follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "snake_case")]
pub enum FollowState {
    /// Asked, not answered yet (or waiting for the admin's approval).
    Pending,
    Accepted,
    /// Refused, or removed by the other side.
    Rejected,
}

impl FollowState {
    pub const ALL: [FollowState; 3] = [FollowState::Pending, FollowState::Accepted, FollowState::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            FollowState::Pending => "pending",
            FollowState::Accepted => "accepted",
            FollowState::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<FollowState> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A delivery of one activity to one inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its turn, or for its next attempt.
    Pending,
    Delivered,
    /// Given up: refused for good by the receiver, or its server was blocked.
    Failed,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 3] = [DeliveryState::Pending, DeliveryState::Delivered, DeliveryState::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryState> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

// The text conversions, the same for both enums and both backends.
macro_rules! text_state {
    ($state:ty) => {
        impl std::fmt::Display for $state {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl<DB: Backend> ToSql<Text, DB> for $state
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $state
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let text = String::from_sql(bytes)?;
                <$state>::parse(&text).ok_or_else(|| format!("`{text}` is not a {}", stringify!($state)).into())
            }
        }
    };
}

text_state!(FollowState);
text_state!(DeliveryState);
text_state!(JoinState);

/// On the member side, where a request to join a collective stands. The first three are the
/// states a request had before leaving existed, under the same words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "snake_case")]
pub enum JoinState {
    /// Asked, not answered yet.
    Pending,
    /// On the collective's roster.
    Accepted,
    /// Refused before ever being accepted.
    Rejected,
    /// Taken off the roster by the collective (a `Reject{Join}` after its `Accept`).
    Removed,
    /// This host left (`Undo{Join}`).
    Left,
}

impl JoinState {
    pub const ALL: [JoinState; 5] =
        [JoinState::Pending, JoinState::Accepted, JoinState::Rejected, JoinState::Removed, JoinState::Left];

    pub fn as_str(self) -> &'static str {
        match self {
            JoinState::Pending => "pending",
            JoinState::Accepted => "accepted",
            JoinState::Rejected => "rejected",
            JoinState::Removed => "removed",
            JoinState::Left => "left",
        }
    }

    pub fn parse(text: &str) -> Option<JoinState> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A host on the collective's roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "snake_case")]
pub enum MemberState {
    /// Asked to join; waits for the collective admin's approval. Nothing of it is re-shared.
    Pending,
    /// On the roster: its public bulletins are re-shared.
    Approved,
}

impl MemberState {
    pub const ALL: [MemberState; 2] = [MemberState::Pending, MemberState::Approved];

    pub fn as_str(self) -> &'static str {
        match self {
            MemberState::Pending => "pending",
            MemberState::Approved => "approved",
        }
    }

    pub fn parse(text: &str) -> Option<MemberState> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// How a host came onto the roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "snake_case")]
pub enum JoinedVia {
    /// The collective's admin added it (`ronron members add`).
    Added,
    /// The host asked (`ronron collective join`: a Follow and a Join to the Group).
    Request,
}

impl JoinedVia {
    pub const ALL: [JoinedVia; 2] = [JoinedVia::Added, JoinedVia::Request];

    pub fn as_str(self) -> &'static str {
        match self {
            JoinedVia::Added => "added",
            JoinedVia::Request => "request",
        }
    }

    pub fn parse(text: &str) -> Option<JoinedVia> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

text_state!(MemberState);
text_state!(JoinedVia);
