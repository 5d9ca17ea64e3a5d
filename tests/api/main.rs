//! The integration test binary: real instances on loopback ports, talking over HTTP.

mod admin_api;
mod archive;
mod block_spellings;
mod browser;
mod bulletin_kinds;
mod cli;
mod control_chars;
mod crash;
mod demo;
mod durability;
mod faults;
mod federation;
mod feeds;
mod fixtures;
mod golden;
mod helpers;
mod hostile;
mod http;
mod http_signatures;
mod interop;
mod login_throttle;
mod moving;
mod pages;
mod peers;
mod precise_errors;
mod public_documents;
