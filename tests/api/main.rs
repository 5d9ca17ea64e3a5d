//! The integration test binary: real instances on loopback ports, talking over HTTP.

mod bulletin_kinds;
mod cli;
mod demo;
mod durability;
mod federation;
mod fixtures;
mod golden;
mod helpers;
mod http_signatures;
mod interop;
mod peers;
mod public_documents;
