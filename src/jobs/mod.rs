//! Background jobs: the durable delivery queue's workers, the scheduler, and the email and
//! webhook loop.

pub mod delivery;
pub mod directory;
pub mod notify;
pub mod scheduler;
