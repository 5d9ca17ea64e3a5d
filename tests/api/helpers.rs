//! `spawn_app()`: a real Ronron on a loopback port with its own database (a temporary SQLite file,
//! or a fresh PostgreSQL database when `TEST_DATABASE_URL` is set).

use diesel::{Connection, RunQueryDsl};
use ronron::{
    clock::Clock,
    config::Config,
    federation::{FedData, Federation},
    startup::Application,
    state::AppState,
};
use std::{net::TcpListener, sync::Arc};
use tempfile::TempDir;

pub struct TestApp {
    pub port: u16,
    pub clock: Clock,
    pub state: AppState,
    pub fed: Federation,
    pub database_url: String,
    /// The port of the `metrics.listen` listener, when the test configured one.
    pub metrics_port: Option<u16>,
    handle: actix_web::dev::ServerHandle,
    join: tokio::task::JoinHandle<std::io::Result<()>>,
    dir: Arc<TempDir>,
    workers: usize,
}

/// A manual clock at a fixed, realistic time (tests move it forward explicitly).
/// The `ronron` binary as an admin runs it, with no RONRON_CONFIG from the environment and the
/// locale pinned to English (`LANG=C.UTF-8`): the command line speaks the locale's language.
pub fn ronron_command() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ronron"));
    command.env_remove("RONRON_CONFIG").env_remove("LC_ALL").env_remove("LC_MESSAGES").env("LANG", "C.UTF-8");
    command
}

/// Runs `ronron args` in `dir`: (success, stdout, stderr).
pub fn run_ronron(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let output = ronron_command().args(args).current_dir(dir).output().expect("the binary runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.success(), text(&output.stdout), text(&output.stderr))
}

pub fn test_clock() -> Clock {
    Clock::manual(chrono::NaiveDate::from_ymd_opt(2030, 3, 12).unwrap().and_hms_opt(8, 0, 0).unwrap())
}

/// A new database URL: PostgreSQL when TEST_DATABASE_URL is set, else SQLite in `dir`.
pub fn fresh_database_url(dir: &TempDir) -> String {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("ronron_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = diesel::pg::PgConnection::establish(&admin_url)
                .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}"));
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).expect("create test database");
            let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
        _ => format!("sqlite://{}/ronron.db", dir.path().display()),
    }
}

pub fn test_config(port: u16, database_url: &str, workers: usize) -> Config {
    let mut config = Config::default();
    config.server.listen = format!("127.0.0.1:{port}");
    config.instance.domain = format!("localhost:{port}");
    config.database.url = database_url.to_string();
    config.database.pool_size = 4;
    config.delivery.workers = workers;
    config.delivery.request_timeout_secs = 5;
    config
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(0, |_| {}).await
}

/// Spawns an app with `workers` delivery workers (0: tests drain the queue themselves).
pub async fn spawn_app_with(workers: usize, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with_clock(workers, Clock::system(), adjust).await
}

/// Spawns an app whose domain clock is `clock` (see `test_clock`).
pub async fn spawn_app_with_clock(workers: usize, clock: Clock, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let database_url = fresh_database_url(&dir);
    start(listener, database_url, dir, workers, clock, adjust).await
}

/// Spawns an app with a fresh database on `port` (waiting for it to be free): a new machine for
/// the same domain (`localhost:{port}`).
pub async fn spawn_fresh_on(port: u16, workers: usize) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let database_url = fresh_database_url(&dir);
    start(bind_again(port).await, database_url, dir, workers, Clock::system(), |_| {}).await
}

async fn bind_again(port: u16) -> TcpListener {
    for _ in 0..50 {
        match TcpListener::bind(("127.0.0.1", port)) {
            Ok(l) => return l,
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    panic!("the port {port} is not free again")
}

/// Spawns an app on the database at `database_url` (e.g. an SQLite file on a small disk).
pub async fn spawn_app_on(database_url: String, workers: usize, clock: Clock) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    start(listener, database_url, dir, workers, clock, |_| {}).await
}

async fn start(
    listener: TcpListener,
    database_url: String,
    dir: Arc<TempDir>,
    workers: usize,
    clock: Clock,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let port = listener.local_addr().unwrap().port();
    let mut config = test_config(port, &database_url, workers);
    // Uploaded files beside the test's database (a PostgreSQL one has no folder of its own).
    config.media.dir = Some(dir.path().join("media").display().to_string());
    adjust(&mut config);
    let app = Application::build_with(config, listener, false, clock.clone()).await.expect("app builds");
    let state = app.state().clone();
    let fed = app.federation().clone();
    let metrics_port = app.metrics_port();
    let handle = app.server_handle();
    let join = tokio::spawn(app.run_until_stopped());
    TestApp { port, clock, state, fed, database_url, metrics_port, handle, join, dir, workers }
}

impl TestApp {
    pub fn base(&self) -> String {
        format!("http://localhost:{}", self.port)
    }
    pub fn actor_url(&self) -> url::Url {
        self.state.urls.host_actor()
    }
    pub fn data(&self) -> FedData {
        self.fed.to_request_data()
    }

    /// Runs the scheduler once (scheduled bulletins, maintenance windows); returns the steps taken.
    pub async fn run_scheduled(&self) -> usize {
        ronron::app::bulletins::run_scheduled(&self.state).await.expect("scheduler step")
    }

    /// Sends every due delivery now; returns how many attempts were made.
    pub async fn drain(&self) -> usize {
        ronron::cli::drain_deliveries(&self.state).await.expect("drain")
    }

    /// Stops the server and its workers, keeping the database.
    pub async fn stop(self) -> Stopped {
        self.handle.stop(true).await;
        let _ = self.join.await;
        Stopped {
            port: self.port,
            clock: self.clock,
            database_url: self.database_url,
            dir: self.dir,
            workers: self.workers,
        }
    }

    /// `self` follows `other`'s host account, and both queues are drained until it is accepted.
    pub async fn follow(&self, other: &TestApp) {
        ronron::app::peers::follow(&self.state, &self.data(), &other.actor_url()).await.expect("follow");
        assert_eq!(self.drain().await, 1, "the Follow is sent");
        assert_eq!(other.drain().await, 1, "the Accept is sent");
        let row = self
            .state
            .db
            .read({
                let id = other.actor_url().to_string();
                move |c| ronron::db::models::remote::find_following(c, &id)
            })
            .await
            .unwrap()
            .expect("following row");
        assert_eq!(row.status, ronron::db::models::states::FollowState::Accepted);
    }
}

pub struct Stopped {
    pub port: u16,
    clock: Clock,
    pub database_url: String,
    dir: Arc<TempDir>,
    workers: usize,
}

impl Stopped {
    /// Starts again on the same port and database (so its actor URLs stay the same).
    pub async fn restart(self, workers: Option<usize>) -> TestApp {
        let workers = workers.unwrap_or(self.workers);
        self.restart_with(workers, |_| {}).await
    }

    /// Like [`Stopped::restart`], with the configuration adjusted as at the first start.
    pub async fn restart_with(self, workers: usize, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let mut listener = None;
        for _ in 0..50 {
            match TcpListener::bind(("127.0.0.1", self.port)) {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        }
        let listener = listener.expect("the port is free again");
        start(listener, self.database_url, self.dir, workers, self.clock, adjust).await
    }
}

/// Polls `check` until it returns true, for at most `seconds`.
pub async fn eventually<F, Fut>(seconds: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}
