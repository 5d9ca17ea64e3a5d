//! The one error of the use-cases. It names the field at fault in neutral words (`title`,
//! `publish-at`, `handle`: no `--` of the command line, no JSON pointer); each door maps it once:
//! the CLI to `--field: reason`, the web admin to a form error, the JSON API to a 4xx.

use crate::{
    bulletin::BulletinError,
    db::DbError,
    federation::FederationError,
    refusal::{Kind, Reason, Refusal},
};
use std::borrow::Cow;

pub type Field = Cow<'static, str>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A value that was understood but is refused.
    #[error("{field}: {reason}")]
    Invalid { field: Field, reason: String },
    /// Every field of a form that is refused, at once, each with its typed reason.
    #[error("{}", crate::refusal::joined(.0))]
    Fields(Vec<Refusal>),
    /// What is acted on exists, but its state refuses the action (a deleted bulletin, an incident
    /// already resolved, a server that is blocked, a name already taken).
    #[error("{}{reason}", field.as_ref().map(|f| format!("{f}: ")).unwrap_or_default())]
    Conflict { field: Option<Field>, reason: Reason },
    /// What is acted on does not exist; the reason says what was looked for.
    #[error("{0}")]
    NotFound(Reason),
    /// Another server could not be reached, or answered something we cannot use.
    #[error("{}{reason}", field.as_ref().map(|f| format!("{f}: ")).unwrap_or_default())]
    Unreachable { field: Option<Field>, reason: String },
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many failed logins; try again in {minutes} minutes")]
    Throttled { minutes: i64 },
    #[error(transparent)]
    Db(#[from] DbError),
    /// A failure that is ours, not the caller's; the doors log it and answer 500.
    #[error("{0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn invalid(field: impl Into<Field>, reason: impl Into<String>) -> AppError {
        AppError::Invalid { field: field.into(), reason: reason.into() }
    }

    pub fn conflict(field: impl Into<Field>, reason: impl Into<Reason>) -> AppError {
        AppError::Conflict { field: Some(field.into()), reason: reason.into() }
    }

    /// A typed refusal of one field's value (422), worded by each door in its reader's language.
    pub fn refused(field: impl Into<Field>, kind: Kind, values: &[(&'static str, &str)]) -> AppError {
        AppError::Fields(vec![Refusal::new(field, kind, values)])
    }

    /// A typed conflict about `field` (409): the state of what is acted on refuses the action.
    pub fn conflicting(field: impl Into<Field>, kind: Kind, values: &[(&'static str, &str)]) -> AppError {
        AppError::Conflict { field: Some(field.into()), reason: Reason::new(kind, values) }
    }

    /// A typed conflict about no field in particular (409).
    pub fn state_refuses(kind: Kind, values: &[(&'static str, &str)]) -> AppError {
        AppError::Conflict { field: None, reason: Reason::new(kind, values) }
    }

    /// Nothing of `kind` (`Kind::NoFollower`…) has the id `id`.
    pub fn no_such(kind: Kind, id: impl std::fmt::Display) -> AppError {
        AppError::NotFound(Reason::new(kind, &[("value", &id.to_string())]))
    }

    /// The field at fault, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } => Some(field),
            AppError::Fields(refusals) => refusals.first().map(|r| r.field.as_ref()),
            AppError::Conflict { field, .. } | AppError::Unreachable { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// The same error, blamed on `field` (a door whose input names it differently).
    pub fn about(self, field: impl Into<Field>) -> AppError {
        let field = field.into();
        match self {
            AppError::Invalid { reason, .. } => AppError::Invalid { field, reason },
            AppError::Fields(refusals) => AppError::Fields(
                refusals.into_iter().map(|r| Refusal { field: field.clone(), reason: r.reason }).collect(),
            ),
            AppError::Conflict { reason, .. } => AppError::Conflict { field: Some(field), reason },
            AppError::Unreachable { reason, .. } => AppError::Unreachable { field: Some(field), reason },
            other => other,
        }
    }

    /// The reason without the field, as a form shows it next to the field.
    pub fn reason(&self) -> String {
        match self {
            AppError::Invalid { reason, .. } | AppError::Unreachable { reason, .. } => reason.clone(),
            AppError::Conflict { reason, .. } => reason.to_string(),
            AppError::Fields(refusals) => refusals.iter().map(|r| r.reason.to_string()).collect::<Vec<_>>().join("; "),
            other => other.to_string(),
        }
    }

    /// The fields refused, each with its reason, when the caller can fix them (a refused value,
    /// or a conflict that names its field); empty otherwise.
    pub fn refusals(&self) -> Vec<Refusal> {
        match self {
            AppError::Fields(refusals) => refusals.clone(),
            AppError::Invalid { field, reason } => {
                vec![Refusal { field: field.clone(), reason: Reason::Text(reason.clone()) }]
            }
            AppError::Conflict { field: Some(field), reason } => {
                vec![Refusal { field: field.clone(), reason: reason.clone() }]
            }
            _ => vec![],
        }
    }
}

impl From<BulletinError> for AppError {
    fn from(e: BulletinError) -> Self {
        match e {
            // `id` names the bulletin acted on: its state refuses (not an incident, already
            // resolved, a maintenance already over…), not the input.
            BulletinError::Invalid { field: "id", reason } => AppError::conflict("id", reason),
            BulletinError::Conflict(refusal) => {
                AppError::Conflict { field: Some(refusal.field), reason: refusal.reason }
            }
            BulletinError::Invalid { field, reason } => AppError::invalid(field, reason),
            BulletinError::Fields(refusals) => AppError::Fields(refusals),
            BulletinError::NotFound(id) => AppError::no_such(Kind::NoBulletin, id),
            BulletinError::Deleted(id) => AppError::state_refuses(Kind::Deleted, &[("value", &id)]),
        }
    }
}

impl From<FederationError> for AppError {
    fn from(e: FederationError) -> Self {
        match e {
            FederationError::Db(e) => AppError::Db(e),
            FederationError::Bulletin(b) => b.into(),
            FederationError::BadRequest(reason) => AppError::Unreachable { field: None, reason },
            FederationError::Fetch { url, reason } => {
                AppError::Unreachable { field: None, reason: format!("cannot fetch {url}: {reason}") }
            }
            FederationError::Forbidden(reason) => AppError::Conflict { field: None, reason: reason.into() },
            FederationError::NotFound => AppError::NotFound("not found".into()),
            other => AppError::Internal(other.to_string()),
        }
    }
}
