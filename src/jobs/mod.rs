//! Background jobs: the durable delivery queue's workers.

pub mod delivery;
