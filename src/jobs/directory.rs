//! The directory's refresh loop: the peers' copied documents, refetched when stale.

/// The directory's own loop: a few stale entries every minute, apart from the scheduler so a
/// slow peer never delays a publication.
pub async fn run(federation: crate::federation::Federation, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let data = federation.to_request_data();
    loop {
        if *shutdown.borrow() {
            return;
        }
        if let Err(e) = crate::app::directory::refresh_stale(&data.reset_request_count()).await {
            tracing::error!(error = %e, "directory refresh failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            _ = shutdown.changed() => {}
        }
    }
}
