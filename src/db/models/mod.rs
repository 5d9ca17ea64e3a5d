//! Rows and the plain diesel functions that read and write them, one file per concern.

pub mod activities;
pub mod admins;
pub mod blocks;
pub mod bulletins;
pub mod directory;
pub mod followers;
pub mod keys;
pub mod label;
pub mod remote;
pub mod services;
pub mod settings;
pub mod states;
pub mod timeline;
pub mod tokens;

use chrono::{NaiveDateTime, Utc};

/// The current time as stored: UTC without a zone, bound explicitly (never the database's `now()`).
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}
