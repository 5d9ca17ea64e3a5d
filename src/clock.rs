//! Time as the domain sees it. Production reads the system clock; tests drive a manual clock so
//! scheduled bulletins, maintenance windows, delivery retries and leases, paused inboxes, the
//! directory's refreshes and signature dates can be tested without sleeping.
//!
//! This is the only place that reads the wall clock (a test checks it).

use chrono::{Duration, NaiveDateTime, Utc};
use std::{
    sync::{Arc, Mutex},
    time::{Instant, SystemTime},
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

    /// Starts measuring how long something takes (a request, a delivery), for the metrics. This is
    /// monotonic time, not the domain's: a manual clock does not move it.
    pub fn stopwatch(&self) -> Stopwatch {
        Stopwatch(Instant::now())
    }

    /// Moves a manual clock forward; a system clock cannot be moved.
    pub fn advance(&self, by: Duration) {
        if let Some(time) = &self.manual {
            let mut time = time.lock().expect("clock lock");
            *time += by;
        }
    }
}

/// Elapsed monotonic time since [`Clock::stopwatch`].
#[derive(Clone, Copy, Debug)]
pub struct Stopwatch(Instant);

impl Stopwatch {
    pub fn seconds(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// What reads the wall clock (or measures against it), written as Rust spells it.
    const WALL_CLOCK_READS: &[&str] =
        &["Utc::now", "Local::now", "SystemTime::now", "Instant::now", "now_utc(", "now_local(", ".elapsed("];

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn only_the_clock_reads_the_wall_clock() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        assert!(files.len() > 20, "the scan sees the sources: {files:?}");
        let mut found = Vec::new();
        for file in files.iter().filter(|f| !f.ends_with("src/clock.rs")) {
            let text = std::fs::read_to_string(file).expect("a readable source file");
            for (n, line) in text.lines().enumerate() {
                if WALL_CLOCK_READS.iter().any(|read| line.contains(read)) {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
        assert!(found.is_empty(), "read time from the app's `Clock` (src/clock.rs) instead:\n{}", found.join("\n"));
    }

    #[test]
    fn a_manual_clock_moves_only_when_told_and_gives_the_same_system_time() {
        let start = chrono::NaiveDate::from_ymd_opt(2030, 3, 12).unwrap().and_hms_opt(8, 0, 0).unwrap();
        let clock = Clock::manual(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::days(3));
        assert_eq!(clock.now(), start + Duration::days(3));
        let unix = clock.system_time().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        assert_eq!(unix, (start + Duration::days(3)).and_utc().timestamp());
    }
}
