//! Time as the domain sees it. Production reads the system clock; tests drive a manual clock so
//! scheduled bulletins, maintenance windows, delivery retries and leases, paused inboxes, the
//! directory's refreshes and signature dates can be tested without sleeping.
//!
//! This is the only place that reads the wall clock (a test checks it).

use chrono::{Duration, NaiveDateTime, Utc};
use std::{
    sync::{Arc, Mutex},
    time::SystemTime,
};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    manual: Option<Arc<Mutex<NaiveDateTime>>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock { manual: None }
    }

    /// A clock that stays at `start` until moved.
    pub fn manual(start: NaiveDateTime) -> Clock {
        Clock { manual: Some(Arc::new(Mutex::new(start))) }
    }

    /// Now, in UTC without a zone (as stored).
    pub fn now(&self) -> NaiveDateTime {
        match &self.manual {
            Some(time) => *time.lock().expect("clock lock"),
            None => Utc::now().naive_utc(),
        }
    }

    /// Now as a `SystemTime`, for the HTTP `Date` of signatures and their freshness.
    pub fn system_time(&self) -> SystemTime {
        SystemTime::from(self.now().and_utc())
    }

    /// Moves a manual clock forward; a system clock cannot be moved.
    pub fn advance(&self, by: Duration) {
        if let Some(time) = &self.manual {
            let mut time = time.lock().expect("clock lock");
            *time += by;
        }
    }
}
