//! The HTTP client of every outgoing request, built from the configuration alone (so `AppState`
//! can hold it).

use std::time::Duration;

/// Builds the HTTP client `config` asks for: its timeouts, our user agent, the address check, and
/// `outgoing.extra_ca_file`'s roots trusted besides the system's.
pub fn client_for(config: &crate::config::Config) -> Result<reqwest::Client, String> {
    let timeout = Duration::from_secs(config.delivery.request_timeout_secs);
    let base = format!("{}://{}", config.scheme(), config.instance.domain);
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .user_agent(format!("Ronron/{} (+{base})", env!("CARGO_PKG_VERSION")))
        .dns_resolver(activitypub_federation::resolver::ValidatingDnsResolver::new(vec![], !config.dev_mode()));
    if let Some(path) = &config.outgoing.extra_ca_file {
        let pem = std::fs::read(path).map_err(|e| format!("outgoing.extra_ca_file: cannot read {path}: {e}"))?;
        let roots = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("outgoing.extra_ca_file: {path} is not a PEM bundle of certificates: {e}"))?;
        if roots.is_empty() {
            return Err(format!("outgoing.extra_ca_file: {path} holds no certificate"));
        }
        builder = builder.tls_certs_merge(roots);
    }
    builder.build().map_err(|e| format!("the HTTP client cannot be built: {e}"))
}
