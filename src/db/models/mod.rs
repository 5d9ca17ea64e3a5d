//! Rows and the plain diesel functions that read and write them, one file per concern.

pub mod activities;
pub mod admins;
pub mod archive;
pub mod blocks;
pub mod bulletins;
pub mod collective;
pub mod directory;
pub mod followers;
pub mod keys;
pub mod label;
pub mod queue_figures;
pub mod remote;
pub mod services;
pub mod settings;
pub mod signature_schemes;
pub mod states;
pub mod timeline;
pub mod timeline_index;
pub mod tokens;
// Subscribers outside the fediverse (issue 14, part 4).
pub mod notify;

// There is no `now()` here: times are bound explicitly (never the database's `now()`), and every
// caller reads them from the application's `Clock`.
