//! Ronron: a federated bulletin server for small ethical hosting providers.
//!
//! Layers, from the outside in: the doors (`cli`, `web`, `demo`) parse, call one use-case of `app`
//! and render; `app` holds every use-case and calls `bulletin` (rules without I/O), `federation`
//! (documents: build, sign, send, receive) and `db` (storage); `jobs` runs the loops. `urls`
//! builds every URL; `config`, `state` and `clock` are passed explicitly everywhere. The map is
//! docs/ARCHITECTURE.md.

pub mod app;
pub mod bulletin;
pub mod chatonsinfos;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod federation;
pub mod i18n;
pub mod jobs;
pub mod metrics;
pub mod page_cache;
pub mod refusal;
pub mod startup;
pub mod state;
pub mod urls;
pub mod web;

#[cfg(test)]
mod architecture_doc;
#[cfg(test)]
mod module_cycles;
