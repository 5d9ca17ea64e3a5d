//! Ronron: a federated bulletin server for small ethical hosting providers.
//!
//! Layers, from the outside in: `cli` and `web` (HTTP) call `federation` (ActivityPub in and out)
//! and `bulletin` (domain rules); `jobs` sends queued deliveries; `db` stores everything; `urls`
//! builds every URL; `config` and `state` are passed explicitly everywhere.

pub mod app;
pub mod bulletin;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod federation;
pub mod i18n;
pub mod jobs;
pub mod startup;
pub mod state;
pub mod urls;
pub mod web;

#[cfg(test)]
mod module_cycles;
