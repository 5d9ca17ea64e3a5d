//! Background jobs: the durable delivery queue's workers and the scheduler.

pub mod delivery;
pub mod directory;
pub mod scheduler;
