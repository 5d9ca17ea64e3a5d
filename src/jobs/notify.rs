//! The email and webhook loop: claims due notifications from their own queue (`notifications`),
//! sends each (SMTP through the configured relay, or an HMAC-signed POST), records the outcome and
//! retries with growing delays. Everything waits in the database, so a restart loses nothing; a
//! claim is a lease ([`LEASE`]) that passes if the process dies, so another process (or this one,
//! started again) takes the job over.

use crate::{
    app::notify::{self, Email, Outgoing},
    db::{models::notify as queue, DbError},
    jobs::delivery::{classify, retry_delay, SendOutcome},
    state::AppState,
};
use chrono::Duration;
use lettre::{
    message::{
        header::{self, Header, HeaderName, HeaderValue},
        Mailbox, MultiPart,
    },
    transport::smtp::authentication::Credentials,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use std::time::Duration as StdDuration;
use tokio::sync::watch;

/// Longer than any one send (requests time out within 120 s).
const LEASE: i64 = 300;
const BATCH: i64 = 16;
const POLL: StdDuration = StdDuration::from_secs(1);

pub type Mailer = AsyncSmtpTransport<Tokio1Executor>;

/// The SMTP transport of `[smtp]`, when email is on.
pub fn mailer(state: &AppState) -> Option<Mailer> {
    let smtp = &state.config.smtp;
    let host = smtp.host.as_deref()?;
    let builder = match smtp.security.as_str() {
        "tls" => Mailer::relay(host),
        "none" => Ok(Mailer::builder_dangerous(host)),
        _ => Mailer::starttls_relay(host),
    };
    let builder = match builder {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "smtp: cannot set up the relay; emails wait in the queue");
            return None;
        }
    };
    let mut builder = builder
        .port(smtp.port)
        .timeout(Some(StdDuration::from_secs(state.config.delivery.request_timeout_secs.max(10))));
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Some(builder.build())
}

/// `List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 2369, RFC 8058), which lettre does not type.
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `Content-Language` (RFC 3282): the language the email is written in.
#[derive(Clone)]
struct ContentLanguage(String);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}

/// The message as sent: text and HTML as multipart/alternative, the unsubscribe headers.
pub fn message(from: &str, email: &Email) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("smtp.from: {e}"))?;
    let to: Mailbox = email.to.parse().map_err(|e| format!("invalid address {}: {e}", email.to))?;
    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(email.subject.clone())
        .header(ContentLanguage(email.lang.clone()))
        .header(header::MIME_VERSION_1_0);
    if let Some(url) = &email.unsubscribe {
        builder = builder.header(ListUnsubscribe(format!("<{url}>"))).header(ListUnsubscribePost);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(email.text.clone(), email.html.clone()))
        .map_err(|e| format!("cannot build the message: {e}"))
}

async fn send_email(state: &AppState, mailer: Option<&Mailer>, email: &Email) -> SendOutcome {
    let Some(mailer) = mailer else { return SendOutcome::Retry(None, "smtp is not configured".into()) };
    let from = state.config.smtp.from.clone().unwrap_or_default();
    let message = match message(&from, email) {
        Ok(m) => m,
        Err(e) => return SendOutcome::Rejected(0, e),
    };
    match mailer.send(message).await {
        Ok(response) => SendOutcome::Delivered(smtp_code(response.code())),
        // A 5xx answer refuses this message for good; anything else (4xx, no connection) may pass later.
        Err(e) if e.is_permanent() => {
            SendOutcome::Rejected(e.status().map(smtp_code).unwrap_or(0), format!("smtp: {e}"))
        }
        Err(e) => SendOutcome::Retry(e.status().map(smtp_code), format!("smtp: {e}")),
    }
}

/// An SMTP reply code as a number (250, 550…), for the log.
fn smtp_code(code: lettre::transport::smtp::response::Code) -> u16 {
    code.to_string().parse().unwrap_or(0)
}

async fn send_webhook(
    state: &AppState,
    client: &reqwest::Client,
    id: i64,
    event: &str,
    hook: &notify::Webhook,
    body: String,
) -> SendOutcome {
    let url = match url::Url::parse(&hook.url) {
        Ok(url) => url,
        Err(e) => return SendOutcome::Rejected(0, format!("invalid URL: {e}")),
    };
    if let Err(reason) = crate::federation::check_outgoing_url(&url, state.config.dev_mode()) {
        return SendOutcome::Rejected(0, reason);
    }
    let signature = notify::signature(&hook.secret, body.as_bytes());
    let request = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-ronron-event", event)
        .header("x-ronron-delivery", id.to_string())
        .header("x-ronron-signature-256", signature)
        .body(body);
    match request.send().await {
        Ok(response) => classify(response.status().as_u16()),
        Err(e) => SendOutcome::Retry(None, describe(&e)),
    }
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// Claims one batch of due notifications, sends them and records each outcome. Returns how many
/// were attempted.
pub async fn run_batch(state: &AppState, client: &reqwest::Client, mailer: Option<&Mailer>) -> Result<usize, DbError> {
    let now = state.clock.now();
    let claimed = state.db.write(move |c| queue::claim_due(c, now, Duration::seconds(LEASE), BATCH)).await?;
    let count = claimed.len();
    for n in claimed {
        let outcome = match notify::outgoing(state, &n).await {
            Ok(Outgoing::Email(email)) => send_email(state, mailer, &email).await,
            Ok(Outgoing::Webhook { hook, body }) => send_webhook(state, client, n.id, &n.event, &hook, body).await,
            Ok(Outgoing::Gone(reason)) => SendOutcome::Rejected(0, reason),
            Err(e) => SendOutcome::Retry(None, format!("cannot prepare it: {e}")),
        };
        record(state, &n, outcome).await?;
    }
    Ok(count)
}

async fn record(state: &AppState, n: &queue::Notification, outcome: SendOutcome) -> Result<(), DbError> {
    let max_attempts =
        if n.channel == queue::EMAIL { state.config.smtp.max_attempts } else { state.config.webhooks.max_attempts };
    let (id, failures) = (n.id, n.attempts + 1);
    let now = state.clock.now();
    match &outcome {
        SendOutcome::Delivered(_) => tracing::debug!(id, channel = %n.channel, "notification sent"),
        SendOutcome::Rejected(status, reason) => {
            tracing::warn!(id, channel = %n.channel, status, %reason, "notification refused, giving up")
        }
        SendOutcome::Retry(status, reason) => {
            tracing::info!(id, channel = %n.channel, ?status, %reason, attempt = failures, "notification failed")
        }
    }
    state
        .db
        .write(move |c| match outcome {
            SendOutcome::Delivered(status) => queue::mark_sent(c, id, Some(i32::from(status)), now),
            SendOutcome::Rejected(status, reason) => {
                queue::mark_failed(c, id, Some(i32::from(status)).filter(|s| *s > 0), &reason, None)
            }
            SendOutcome::Retry(status, reason) => {
                let retry_at = (failures < max_attempts).then(|| now + retry_delay(failures));
                queue::mark_failed(c, id, status.map(i32::from), &reason, retry_at)
            }
        })
        .await
}

/// Sends everything due now until nothing is left (tests and tools).
pub async fn drain(state: &AppState) -> Result<usize, DbError> {
    let client = crate::federation::http_client(state);
    let mailer = mailer(state);
    let mut total = 0;
    loop {
        match run_batch(state, &client, mailer.as_ref()).await? {
            0 => return Ok(total),
            n => total += n,
        }
    }
}

/// The loop: runs batches, sleeps until woken (something was queued) or the poll interval, stops
/// on `shutdown` after the batch in hand.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let client = crate::federation::http_client(&state);
    let mailer = mailer(&state);
    loop {
        if *shutdown.borrow() {
            return;
        }
        let worked = match run_batch(&state, &client, mailer.as_ref()).await {
            Ok(n) => n > 0,
            Err(e) => {
                tracing::error!(error = %e, "notification queue unavailable");
                false
            }
        };
        if worked {
            continue;
        }
        tokio::select! {
            _ = state.delivery_wakeup.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => {}
        }
    }
}
