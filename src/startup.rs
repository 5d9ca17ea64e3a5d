//! Builds the application from explicit configuration: state, federation, HTTP server, workers.

use crate::{clock::Clock, config::Config, federation, jobs, state::AppState, web};
use actix_web::{dev::ServerHandle, middleware, App, HttpServer};
use std::net::TcpListener;
use tokio::{sync::watch, task::JoinHandle};

pub struct Application {
    port: u16,
    state: AppState,
    federation: federation::Federation,
    server: actix_web::dev::Server,
    /// The `metrics.listen` listener, when configured: its port, handle and task.
    metrics_listener: Option<(u16, ServerHandle, JoinHandle<std::io::Result<()>>)>,
    shutdown: watch::Sender<bool>,
    workers: Vec<JoinHandle<()>>,
    /// This process in the delivery queue, and its heartbeat (when it has workers).
    queue: Option<(jobs::delivery::Owner, JoinHandle<()>)>,
}

impl Application {
    /// Binds `config.server.listen` and builds everything.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(&config.server.listen)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.server.listen))?;
        Self::build_with_listener(config, listener, true).await
    }

    /// Builds on an already bound listener (tests bind port 0 first to learn their domain).
    /// `handle_signals` lets actix stop on SIGINT/SIGTERM; tests turn it off.
    pub async fn build_with_listener(
        config: Config,
        listener: TcpListener,
        handle_signals: bool,
    ) -> anyhow::Result<Application> {
        Self::build_with(config, listener, handle_signals, Clock::system()).await
    }

    /// Like [`Application::build_with_listener`], with the clock the domain reads (tests drive one).
    pub async fn build_with(
        config: Config,
        listener: TcpListener,
        handle_signals: bool,
        clock: Clock,
    ) -> anyhow::Result<Application> {
        let address = listener.local_addr()?;
        let port = address.port();
        let worker_count = config.delivery.workers;
        let max_body = config.server.max_body_bytes;
        let state = tokio::task::spawn_blocking(move || AppState::open_with_clock(config, clock)).await??;
        let federation = federation::build(state.clone()).await?;
        let fed_for_server = federation.clone();
        let metrics_listener = match &state.config.metrics.listen {
            Some(address) => Some(serve_metrics(address, federation.clone(), handle_signals)?),
            None => None,
        };
        let mut server =
            HttpServer::new(move || {
                App::new()
                    .wrap(middleware::from_fn(web::html::error_pages))
                    .wrap(middleware::from_fn(web::conditional_get))
                    .wrap(middleware::from_fn(web::answer_headers))
                    .wrap(middleware::from_fn(web::count_requests))
                    .wrap(middleware::Logger::new("%a \"%r\" %s %b %Dms").log_target("ronron::http"))
                    .app_data(actix_web::web::Data::new(fed_for_server.clone()))
                    .app_data(actix_web::web::PayloadConfig::new(max_body))
                    // A malformed query string gets the same JSON error as everything else.
                    .app_data(actix_web::web::QueryConfig::default().error_handler(|err, _| {
                        web::error::ApiError::bad_request(format!("invalid query: {err}")).into()
                    }))
                    .configure(web::routes)
            })
            .workers(2)
            .shutdown_timeout(10)
            .listen(listener)?;
        if !handle_signals {
            server = server.disable_signals();
        }
        let server = server.run();
        let (shutdown, receiver) = watch::channel(false);
        // Before any worker claims: this process registers in the queue, taking back at once
        // what its previous life was sending if it crashed.
        let queue = if worker_count > 0 {
            let owner = jobs::delivery::register(&state, jobs::delivery::process_name(address)).await?;
            let heartbeat = jobs::delivery::spawn_heartbeat(state.clone(), owner.clone());
            Some((owner, heartbeat))
        } else {
            None
        };
        if worker_count > 0 {
            // Jobs queued by other processes (and by the CLI) wake the workers without the poll.
            jobs::delivery::spawn_listener(&state, address, receiver.clone());
        }
        let mut workers: Vec<JoinHandle<()>> = match &queue {
            Some((owner, _)) => (0..worker_count)
                .map(|_| tokio::spawn(jobs::delivery::worker(state.clone(), owner.clone(), receiver.clone())))
                .collect(),
            None => Vec::new(),
        };
        // The scheduler runs with the workers; a process started with no workers leaves it to others.
        if worker_count > 0 {
            workers.push(tokio::spawn(jobs::scheduler::run(federation.clone(), receiver.clone())));
            workers.push(tokio::spawn(crate::jobs::directory::run(federation.clone(), receiver.clone())));
            workers.push(tokio::spawn(jobs::notify::run(state.clone(), receiver.clone())));
        }
        // After an upgrade from a version without the timeline, index what is already stored.
        if let Err(e) = crate::app::timeline::rebuild_if_empty(&state).await {
            tracing::warn!(error = %e, "cannot index the timeline");
        }
        // After the upgrade that added the timeline's entries, fill them in the background (a
        // page reads a post without one from `remote_posts` meanwhile).
        let filling = state.clone();
        tokio::spawn(async move {
            match crate::app::timeline::fill_entries(&filling).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(posts = n, "timeline entries filled"),
                Err(e) => tracing::warn!(error = %e, "cannot fill the timeline's entries"),
            }
        });
        // A profile changed in the configuration since the last start reaches followers now.
        if let Err(e) = crate::app::profile::federate_profile_if_changed(&state).await {
            tracing::warn!(error = %e, "cannot federate the profile");
        }
        Ok(Application { port, state, federation, server, metrics_listener, shutdown, workers, queue })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the `metrics.listen` listener, when one is configured.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_listener.as_ref().map(|(port, _, _)| *port)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn federation(&self) -> &federation::Federation {
        &self.federation
    }

    pub fn server_handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until the server stops (a signal, or `server_handle().stop()`), then stops the
    /// delivery workers (each finishes and records the jobs it is sending) and leaves the queue.
    /// A process killed instead releases its leases when it starts again, or they pass in 30 s.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some((_, handle, task)) = self.metrics_listener {
            handle.stop(true).await;
            let _ = task.await;
        }
        let _ = self.shutdown.send(true);
        for worker in self.workers {
            let _ = worker.await;
        }
        if let Some((owner, heartbeat)) = self.queue {
            heartbeat.abort();
            if let Err(e) = jobs::delivery::unregister(&self.state, &owner).await {
                tracing::warn!(error = %e, "cannot leave the delivery queue; its leases will pass by themselves");
            }
        }
        result
    }
}

/// Starts the `metrics.listen` listener: `/metrics`, `/healthz` and `/readyz` only, one worker.
fn serve_metrics(
    address: &str,
    federation: federation::Federation,
    handle_signals: bool,
) -> anyhow::Result<(u16, ServerHandle, JoinHandle<std::io::Result<()>>)> {
    let listener =
        TcpListener::bind(address).map_err(|e| anyhow::anyhow!("cannot listen on {address} (metrics.listen): {e}"))?;
    let port = listener.local_addr()?.port();
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(middleware::from_fn(web::answer_headers))
            .app_data(actix_web::web::Data::new(federation.clone()))
            .configure(web::ops_routes)
    })
    .workers(1)
    .shutdown_timeout(5)
    .listen(listener)?;
    if !handle_signals {
        server = server.disable_signals();
    }
    let server = server.run();
    let handle = server.handle();
    Ok((port, handle, tokio::spawn(server)))
}
