//! The integration test binary: real instances on loopback ports, talking over HTTP.

mod admin_api;
mod block_spellings;
mod browser;
mod bulletin_kinds;
mod cli;
mod control_chars;
mod demo;
mod durability;
mod federation;
mod feeds;
mod fixtures;
mod golden;
mod helpers;
mod http;
mod http_signatures;
mod interop;
mod limits;
mod pages;
mod peers;
mod public_documents;
