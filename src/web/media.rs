//! `GET /media/{file}`: the uploaded logos (`app::media`), by their content-addressed name.
//! A name is the hash of the bytes, so the answer never changes: cached for a year, immutable.
//! The file is an image and nothing else: its checked type, `nosniff` (every answer has it), and a
//! policy that lets nothing in it run or load, should a browser open it on its own.

use crate::{app::media, federation::Federation, web::html::PageError};
use actix_web::{http::header, web, HttpRequest, HttpResponse};

/// The policy of a media file: no script, style, frame or fetch, and a sandbox.
pub const MEDIA_SECURITY_POLICY: &str = "default-src 'none'; img-src 'self'; sandbox";

pub async fn media_file(
    fed: web::Data<Federation>,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let state = super::state_of(&fed);
    // Only names Ronron writes (`<sha256>.<ext>`) are looked up: no `..`, no other folder.
    let Some((bytes, media_type)) = media::open(state, &name).await? else { return Err(PageError::NotFound) };
    let etag = format!("\"{}\"", name.split('.').next().unwrap_or_default());
    let cached = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str());
    let mut response = if cached { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CONTENT_SECURITY_POLICY, MEDIA_SECURITY_POLICY));
    if cached {
        return Ok(response.finish());
    }
    Ok(response.content_type(media_type).body(bytes))
}

/// How much of a request body is read in all, oversized parts included (read and dropped before
/// answering, so that the client, still sending, gets the answer rather than a reset
/// connection). Past it, reading stops.
pub const DRAIN_LIMIT: usize = 32 * 1024 * 1024;

/// Reads `stream` into at most `max` bytes; `None` when it holds more, or when `budget` ran out
/// before its end. `budget` is what is left
/// of [`DRAIN_LIMIT`] for the whole request (shared by the parts of a multipart form): the rest
/// of an oversized part is read and dropped while it lasts, and reading stops when it is spent.
pub async fn read_capped<S, E>(stream: &mut S, max: usize, budget: &mut usize) -> Result<Option<Vec<u8>>, E>
where
    S: futures::Stream<Item = Result<web::Bytes, E>> + Unpin,
{
    use futures::StreamExt;
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        seen += chunk.len();
        *budget = budget.saturating_sub(chunk.len());
        if seen <= max {
            bytes.extend_from_slice(&chunk);
        }
        if *budget == 0 {
            // Stopped before its end: whatever it held is not the whole part.
            return Ok(None);
        }
    }
    Ok((seen <= max).then_some(bytes))
}
