//! `ronron serve` from the release binary in a process of its own, so that its memory and CPU time
//! are read apart from the benchmark's peers and load generator (`/proc/<pid>/status` and `stat`).

use ronron::config::Config;
use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub struct Server {
    child: Child,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts the binary on `config` (written to a file of its own) and waits until it answers.
    /// `None` when Cargo did not build the binary (it does for `cargo bench`).
    pub fn start(config: &Config) -> Option<Server> {
        let binary = option_env!("CARGO_BIN_EXE_ronron")?;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ronron.toml");
        std::fs::write(&path, toml::to_string(config).unwrap()).unwrap();
        let mut command = Command::new(binary);
        // Every `RONRON_*` variable overrides a configuration key: the shell's must not send the
        // server to another database or port than the bench reads.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("RONRON_") {
                command.env_remove(name);
            }
        }
        // Its log (the default level, an access line per request, as an admin runs it) goes to a
        // file, shown if it stops.
        let log = dir.path().join("serve.log");
        let child = command
            .args(["--config", path.to_str().unwrap(), "serve"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("the release binary starts");
        let mut server = Server { child, log, _dir: dir };
        let started = Instant::now();
        // Ready once it answers HTTP: `serve` binds its port before it opens the database, and the
        // kernel accepts connections from then on.
        while !answers_http(&config.server.listen) {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("ronron serve stopped before it answered: {status}\n{}", server.log_tail());
            }
            assert!(started.elapsed() < Duration::from_secs(30), "ronron serve did not answer within 30 s");
            std::thread::sleep(Duration::from_millis(1));
        }
        Some(server)
    }

    /// User + system CPU seconds of the server so far.
    pub fn cpu_seconds(&mut self) -> f64 {
        self.assert_running();
        cpu_seconds(&format!("/proc/{}/stat", self.child.id()))
    }

    /// A `/proc/<pid>/status` figure of the server in MB: `VmHWM:` (peak resident memory) or `VmRSS:`.
    pub fn memory_mb(&mut self, key: &str) -> f64 {
        self.assert_running();
        status_mb(&format!("/proc/{}/status", self.child.id()), key)
    }

    /// A server that stopped would give figures of nothing.
    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("ronron serve stopped during the run: {status}\n{}", self.log_tail());
        }
    }

    /// The last lines of the server's log.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// SIGTERM, as systemd stops it, then waits for the exit (10 s at most, then SIGKILL).
    pub fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let started = Instant::now();
        while let Ok(None) = self.child.try_wait() {
            if started.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Whether `GET /healthz` on `address` gets an HTTP answer.
fn answers_http(address: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(address) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let request = format!("GET /healthz HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n");
    let mut start = [0u8; 7];
    stream.write_all(request.as_bytes()).is_ok() && stream.read_exact(&mut start).is_ok() && &start == b"HTTP/1."
}

/// User + system CPU seconds in a `/proc/…/stat` file (clock ticks of 1/100 s).
pub fn cpu_seconds(stat: &str) -> f64 {
    let text = std::fs::read_to_string(stat).unwrap_or_default();
    // The fields after the command name (which may hold spaces, in parentheses).
    let fields: Vec<&str> =
        text.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// A figure of a `/proc/…/status` file in MB (`VmHWM:`, `VmRSS:`), 0 when unreadable.
pub fn status_mb(status: &str, key: &str) -> f64 {
    std::fs::read_to_string(status)
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}
