//! A load generator for the benchmarks: a minimal HTTP/1.1 client over keep-alive connections that
//! sends requests built (and signed) before the timed run, on one thread of its own, so its CPU
//! time can be read apart from the server's (`/proc/thread-self/schedstat`).

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// What a run measured.
pub struct Report {
    /// Milliseconds per request, sorted.
    pub latencies: Vec<f64>,
    /// How many answers had each status.
    pub statuses: std::collections::BTreeMap<u16, usize>,
    /// Requests that got no answer (connection closed or broken).
    pub failed: usize,
    pub elapsed: Duration,
    /// CPU time of the generator's thread during the run.
    pub generator_cpu: Duration,
    /// CPU time of the whole process during the run (server and generator, when in one process).
    pub process_cpu: Duration,
}

impl Report {
    pub fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        self.latencies[((self.latencies.len() as f64 - 1.0) * p).round() as usize]
    }

    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    pub fn count(&self, status: u16) -> usize {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    /// The server's CPU time per answered request (the process's less the generator's), in µs.
    pub fn server_cpu_per_request_us(&self) -> f64 {
        let server = self.process_cpu.saturating_sub(self.generator_cpu);
        server.as_secs_f64() * 1e6 / self.latencies.len().max(1) as f64
    }

    /// The generator's share of the process's CPU time during the run.
    pub fn generator_share(&self) -> f64 {
        self.generator_cpu.as_secs_f64() / self.process_cpu.as_secs_f64().max(1e-9)
    }
}

fn schedstat_ns(path: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// CPU time of every thread of this process (threads that ended meanwhile are not counted: the
/// benchmarks' threads live for the whole run).
pub fn process_cpu() -> Duration {
    let mut ns = 0;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            ns += schedstat_ns(&format!("{}/schedstat", task.path().display()));
        }
    }
    Duration::from_nanos(ns)
}

fn thread_cpu() -> Duration {
    Duration::from_nanos(schedstat_ns("/proc/thread-self/schedstat"))
}

/// Sends every request of `requests` to `address` over `connections` keep-alive connections (each
/// takes the next unsent request when its answer came), on a thread of its own. `request_bytes`
/// are whole HTTP/1.1 requests.
pub fn run(address: std::net::SocketAddr, requests: Arc<Vec<Vec<u8>>>, connections: usize) -> Report {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let next = Arc::new(AtomicUsize::new(0));
            // Connect first, so the timed run does not include the handshakes.
            let mut streams = Vec::new();
            for _ in 0..connections {
                let stream = TcpStream::connect(address).await.expect("the server listens");
                stream.set_nodelay(true).unwrap();
                streams.push(stream);
            }
            let cpu_before = thread_cpu();
            let process_before = process_cpu();
            let started = Instant::now();
            let tasks: Vec<_> = streams
                .into_iter()
                .map(|stream| tokio::spawn(connection(stream, requests.clone(), next.clone())))
                .collect();
            let mut latencies = Vec::with_capacity(requests.len());
            let mut statuses = std::collections::BTreeMap::new();
            let mut failed = 0;
            for task in tasks {
                let (times, codes, lost) = task.await.unwrap();
                latencies.extend(times);
                for code in codes {
                    *statuses.entry(code).or_insert(0) += 1;
                }
                failed += lost;
            }
            let elapsed = started.elapsed();
            let generator_cpu = thread_cpu() - cpu_before;
            let process_cpu = process_cpu().saturating_sub(process_before);
            latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
            Report { latencies, statuses, failed, elapsed, generator_cpu, process_cpu }
        })
    })
    .join()
    .unwrap()
}

async fn connection(
    mut stream: TcpStream,
    requests: Arc<Vec<Vec<u8>>>,
    next: Arc<AtomicUsize>,
) -> (Vec<f64>, Vec<u16>, usize) {
    let mut times = Vec::new();
    let mut codes = Vec::new();
    let mut buffer = Vec::with_capacity(16 * 1024);
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(request) = requests.get(i) else { break };
        let started = Instant::now();
        if stream.write_all(request).await.is_err() {
            return (times, codes, 1);
        }
        match read_response(&mut stream, &mut buffer).await {
            Some(status) => {
                times.push(started.elapsed().as_secs_f64() * 1000.0);
                codes.push(status);
            }
            None => return (times, codes, 1),
        }
    }
    (times, codes, 0)
}

/// Reads one response (Content-Length or chunked body); its status, or None if the connection
/// closed.
async fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<u16> {
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        fill(stream, buffer).await?;
    };
    let head = std::str::from_utf8(&buffer[..head_end]).ok()?.to_ascii_lowercase();
    let status: u16 = head.split(' ').nth(1)?.parse().ok()?;
    let header = |name: &str| {
        head.split("\r\n")
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(':')).map(|v| v.trim().to_string()))
    };
    if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut at = head_end;
        loop {
            let line_end = loop {
                if let Some(end) = buffer[at..].windows(2).position(|w| w == b"\r\n") {
                    break at + end;
                }
                fill(stream, buffer).await?;
            };
            let size_text = std::str::from_utf8(&buffer[at..line_end]).ok()?;
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            let chunk_end = line_end + 2 + size + 2;
            while buffer.len() < chunk_end {
                fill(stream, buffer).await?;
            }
            at = chunk_end;
            if size == 0 {
                break;
            }
        }
        buffer.drain(..at);
    } else {
        let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        while buffer.len() < head_end + length {
            fill(stream, buffer).await?;
        }
        buffer.drain(..head_end + length);
    }
    Some(status)
}

async fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 16 * 1024];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buffer.extend_from_slice(&chunk[..n]);
            Some(())
        }
    }
}

/// A GET request for `path_and_query` on `host`, kept alive.
// Each bench compiles this module apart; only the timeline's uses `get`.
#[allow(dead_code)]
pub fn get(host: &str, path_and_query: &str, accept: &str) -> Vec<u8> {
    format!("GET {path_and_query} HTTP/1.1\r\nhost: {host}\r\naccept: {accept}\r\n\r\n").into_bytes()
}
