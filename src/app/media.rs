//! Uploaded images: the host's logo (the Organization's avatar) and the collective's (the
//! Group's). An upload is checked whole (size, type by its first bytes, the type it was declared
//! as, dimensions), stored in `media.dir` under a content-addressed name (the SHA-256 of its bytes
//! and the type's extension) through a temporary file renamed into place, and served by
//! `GET /media/{file}` (`web::media`). Which file is whose logo is a setting (`media.logo.host`,
//! `media.logo.group`): it travels with the database and `export --all`.
//!
//! A replaced or removed logo's file is deleted once no logo names it: its URL changes with its
//! content, followers receive the actor's `Update` naming the new one, and the servers that showed
//! the old one (Mastodon, GoToSocial) keep their own copy of it; a file kept would only grow the
//! folder.

use super::{AppError, AppResult};
use crate::{
    db::{models::settings, DbConnection, DbResult},
    refusal::{Kind, Refusals},
    state::AppState,
};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::path::{Path, PathBuf};

/// The widest and tallest logo accepted, in pixels: Mastodon shows avatars at 400 × 400 at most.
pub const MAX_SIDE: u32 = 4096;

/// Whose logo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The host account (`Organization`).
    Host,
    /// The collective's `Group` (the collective role).
    Group,
}

impl Owner {
    fn setting(self) -> &'static str {
        match self {
            Owner::Host => "media.logo.host",
            Owner::Group => "media.logo.group",
        }
    }
    fn other(self) -> Owner {
        match self {
            Owner::Host => Owner::Group,
            Owner::Group => Owner::Host,
        }
    }
}

/// The image types accepted, by their first bytes: (type, extension).
pub const TYPES: &[(&str, &str)] =
    &[("image/png", "png"), ("image/jpeg", "jpg"), ("image/gif", "gif"), ("image/webp", "webp")];

/// An upload as a door received it.
#[derive(Debug, Clone)]
pub struct Upload {
    pub bytes: Vec<u8>,
    /// The type the client declared (the request's or the form part's `Content-Type`); `None`
    /// when it declared none (or only `application/octet-stream`).
    pub declared_type: Option<String>,
}

/// A stored logo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logo {
    /// The file's name in `media.dir`: `<sha256>.<ext>`.
    pub file: String,
    pub media_type: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

/// A file of `media.dir`, as `export --all` carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaFile {
    pub file: String,
    pub media_type: String,
    /// The bytes, base64 (standard alphabet, padded).
    pub base64: String,
}

/// The type an image's first bytes say it is; `Err` with the refusal's kind otherwise.
pub fn sniff(bytes: &[u8]) -> Result<&'static str, Kind> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok("image/png");
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok("image/jpeg");
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Ok("image/gif");
    }
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return Ok("image/webp");
    }
    // SVG is XML text: it can carry scripts, so it is refused by name (browsers run them when
    // the file is opened on its own).
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    if head.contains("<svg") || (head.trim_start_matches('\u{feff}').trim_start().starts_with("<?xml")) {
        return Err(Kind::SvgImage);
    }
    Err(Kind::NotAnImage)
}

/// The extension of an accepted type.
pub fn extension(media_type: &str) -> Option<&'static str> {
    TYPES.iter().find(|(t, _)| *t == media_type).map(|(_, e)| *e)
}

/// The type of a stored file's name, when it is one Ronron could have written
/// (`<64 lowercase hex digits>.<extension>`): anything else is no file of ours.
pub fn type_of_name(name: &str) -> Option<&'static str> {
    let (hash, ext) = name.split_once('.')?;
    let hex = hash.len() == 64 && hash.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    hex.then(|| TYPES.iter().find(|(_, e)| *e == ext).map(|(t, _)| *t)).flatten()
}

/// A declared type as compared: lowercase, without parameters; `image/jpg` is JPEG.
fn declared(raw: &str) -> Option<String> {
    let t = raw.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match t.as_str() {
        "" | "application/octet-stream" => None,
        "image/jpg" | "image/pjpeg" => Some("image/jpeg".into()),
        _ => Some(t),
    }
}

/// Checks an upload against `max_bytes`: its type and dimensions, every refusal of the field
/// `logo` at once.
pub fn check(upload: &Upload, max_bytes: usize) -> AppResult<Logo> {
    let mut refusals = Refusals::new();
    let max_kib = (max_bytes / 1024).to_string();
    if upload.bytes.is_empty() {
        refusals.refuse("logo", Kind::Required, &[]);
        return Err(AppError::Fields(refusals.into_vec()));
    }
    if upload.bytes.len() > max_bytes {
        refusals.refuse("logo", Kind::FileTooBig, &[("max", &max_kib)]);
        return Err(AppError::Fields(refusals.into_vec()));
    }
    let media_type = match sniff(&upload.bytes) {
        Ok(t) => t,
        Err(kind) => {
            refusals.refuse("logo", kind, &[]);
            return Err(AppError::Fields(refusals.into_vec()));
        }
    };
    if let Some(declared) = upload.declared_type.as_deref().and_then(declared) {
        if declared != media_type {
            refusals.refuse("logo", Kind::ImageTypeMismatch, &[("declared", &declared), ("actual", media_type)]);
        }
    }
    let (width, height) = match imagesize::blob_size(&upload.bytes) {
        Ok(size) => (u32::try_from(size.width).unwrap_or(u32::MAX), u32::try_from(size.height).unwrap_or(u32::MAX)),
        Err(_) => {
            refusals.refuse("logo", Kind::NotAnImage, &[]);
            (0, 0)
        }
    };
    if !refusals.has("logo") && (width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE) {
        let (w, h, max) = (width.to_string(), height.to_string(), MAX_SIDE.to_string());
        refusals.refuse("logo", Kind::ImageDimensions, &[("width", &w), ("height", &h), ("max", &max)]);
    }
    if !refusals.is_empty() {
        return Err(AppError::Fields(refusals.into_vec()));
    }
    let hash = hex(&sha2::Sha256::digest(&upload.bytes));
    let ext = extension(media_type).expect("sniff answers accepted types");
    Ok(Logo {
        file: format!("{hash}.{ext}"),
        media_type: media_type.into(),
        width,
        height,
        bytes: upload.bytes.len() as u64,
    })
}

/// Whether `e` refuses an upload for its size (the doors answer 413).
pub fn is_too_big(e: &AppError) -> bool {
    e.refusals().iter().any(|r| matches!(r.reason, crate::refusal::Reason::Known { kind: Kind::FileTooBig, .. }))
}

/// The refusal of an upload larger than the limit, for a door that stopped reading it.
pub fn too_big(state: &AppState) -> AppError {
    let max = (state.config.media.max_logo_bytes / 1024).to_string();
    AppError::Fields(vec![crate::refusal::Refusal::new("logo", Kind::FileTooBig, &[("max", &max)])])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The folder of uploaded files.
pub fn folder(state: &AppState) -> PathBuf {
    state.config.media.folder(&state.config.database.url)
}

/// Writes `bytes` as `dir/name`, whole or not at all: a temporary file in the same folder,
/// flushed to disk, then renamed (a rename within a folder is atomic). A file already there has
/// the same bytes (its name is their hash) and is left as it is.
fn write_whole(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let target = dir.join(name);
    if target.exists() {
        return Ok(());
    }
    let temp = dir.join(format!(".upload-{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, &target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

fn stored(c: &mut DbConnection, owner: Owner) -> DbResult<Option<Logo>> {
    Ok(settings::get(c, owner.setting())?.and_then(|raw| serde_json::from_str(&raw).ok()))
}

/// The logo uploaded for `owner`, if any.
pub async fn logo(state: &AppState, owner: Owner) -> DbResult<Option<Logo>> {
    state.db.read(move |c| stored(c, owner)).await
}

fn refuse_without_group(state: &AppState, owner: Owner) -> AppResult<()> {
    if owner == Owner::Group && state.config.collective.is_none() {
        return Err(AppError::conflict("collective", "the collective role is off ([collective] in the configuration)"));
    }
    Ok(())
}

/// Checks and stores `upload` as `owner`'s logo; the file of the logo it replaces is deleted
/// when no logo names it any more. The caller federates the actor.
pub async fn set_logo(state: &AppState, owner: Owner, upload: Upload) -> AppResult<Logo> {
    refuse_without_group(state, owner)?;
    let logo = check(&upload, state.config.media.max_logo_bytes)?;
    let dir = folder(state);
    let name = logo.file.clone();
    tokio::task::spawn_blocking(move || write_whole(&dir, &name, &upload.bytes))
        .await
        .map_err(|e| AppError::Internal(format!("the upload's writer stopped: {e}")))?
        .map_err(|e| AppError::Internal(format!("cannot write the logo into {}: {e}", folder(state).display())))?;
    let json = serde_json::to_string(&logo).expect("a logo serialises");
    let (previous, other) = state
        .db
        .write(move |c| {
            let previous = stored(c, owner)?;
            settings::put(c, owner.setting(), &json)?;
            Ok::<_, crate::db::DbError>((previous, stored(c, owner.other())?))
        })
        .await?;
    delete_unused(state, previous, &logo.file, other).await;
    Ok(logo)
}

/// Removes `owner`'s uploaded logo (its file too, when no other logo names it); false when it had
/// none. The caller federates the actor.
pub async fn remove_logo(state: &AppState, owner: Owner) -> AppResult<bool> {
    refuse_without_group(state, owner)?;
    let (previous, other) = state
        .db
        .write(move |c| {
            let previous = stored(c, owner)?;
            if previous.is_some() {
                settings::delete(c, owner.setting())?;
            }
            Ok::<_, crate::db::DbError>((previous, stored(c, owner.other())?))
        })
        .await?;
    let removed = previous.is_some();
    delete_unused(state, previous, "", other).await;
    Ok(removed)
}

/// Deletes the file of `previous` unless it is `kept` or `other`'s file. A failure is logged: the
/// logo is already changed, and a file left behind is harmless.
async fn delete_unused(state: &AppState, previous: Option<Logo>, kept: &str, other: Option<Logo>) {
    let Some(previous) = previous else { return };
    if previous.file == kept || other.is_some_and(|o| o.file == previous.file) {
        return;
    }
    let path = folder(state).join(&previous.file);
    if let Err(e) = tokio::fs::remove_file(&path).await {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(file = %path.display(), error = %e, "cannot delete a replaced logo");
        }
    }
}

/// A stored file and its type, by its name as the URL gives it; `None` for a name Ronron would
/// not have written (nothing outside `media.dir` can be named) or a file that is not there.
pub async fn open(state: &AppState, name: &str) -> AppResult<Option<(Vec<u8>, &'static str)>> {
    let Some(media_type) = type_of_name(name) else { return Ok(None) };
    match tokio::fs::read(folder(state).join(name)).await {
        Ok(bytes) => Ok(Some((bytes, media_type))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AppError::Internal(format!("cannot read the media file {name}: {e}"))),
    }
}

/// The files of the logos in use, for `export --all`.
pub async fn export_files(state: &AppState) -> AppResult<Vec<MediaFile>> {
    use base64::Engine;
    let mut files: Vec<MediaFile> = Vec::new();
    for owner in [Owner::Host, Owner::Group] {
        let Some(logo) = logo(state, owner).await? else { continue };
        if files.iter().any(|f| f.file == logo.file) {
            continue;
        }
        let Some((bytes, media_type)) = open(state, &logo.file).await? else {
            return Err(AppError::Internal(format!(
                "the logo's file {} is missing from {}: put it back (a backup of the folder) or upload the logo again",
                logo.file,
                folder(state).display()
            )));
        };
        files.push(MediaFile {
            file: logo.file,
            media_type: media_type.into(),
            base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        });
    }
    Ok(files)
}

/// Writes the files of an export into `media.dir`, each checked against its name (its type and
/// the hash of its bytes).
pub async fn import_files(state: &AppState, files: Vec<MediaFile>) -> AppResult<()> {
    use base64::Engine;
    let dir = folder(state);
    for f in files {
        let refuse = |reason: &str| AppError::invalid("file", format!("media file {}: {reason}", f.file));
        let bytes = base64::engine::general_purpose::STANDARD.decode(&f.base64).map_err(|_| refuse("is not base64"))?;
        let expected = type_of_name(&f.file).ok_or_else(|| refuse("is not a name Ronron writes"))?;
        let hash = hex(&sha2::Sha256::digest(&bytes));
        if sniff(&bytes) != Ok(expected) || !f.file.starts_with(&hash) || f.media_type != expected {
            return Err(refuse("does not match its name"));
        }
        let (dir, name) = (dir.clone(), f.file.clone());
        tokio::task::spawn_blocking(move || write_whole(&dir, &name, &bytes))
            .await
            .map_err(|e| AppError::Internal(format!("the import's writer stopped: {e}")))?
            .map_err(|e| {
                AppError::Internal(format!("cannot write {} into {}: {e}", f.file, folder(state).display()))
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 96 × 96 PNG.
    const PNG: &[u8] = include_bytes!("../../tests/fixtures/media/logo.png");

    fn upload(bytes: &[u8], declared: Option<&str>) -> Upload {
        Upload { bytes: bytes.to_vec(), declared_type: declared.map(str::to_string) }
    }

    fn kinds(e: AppError) -> Vec<Kind> {
        e.refusals()
            .into_iter()
            .map(|r| match r.reason {
                crate::refusal::Reason::Known { kind, .. } => kind,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_png_is_named_by_its_hash_and_measured() {
        let logo = check(&upload(PNG, Some("image/png")), 1024).unwrap();
        assert_eq!((logo.width, logo.height, logo.media_type.as_str()), (96, 96, "image/png"));
        assert!(logo.file.ends_with(".png") && logo.file.len() == 68, "{}", logo.file);
        assert_eq!(type_of_name(&logo.file), Some("image/png"));
        assert_eq!(check(&upload(PNG, None), 1024).unwrap(), logo, "no declared type: the bytes say it");
    }

    #[test]
    fn refusals_name_the_fault() {
        assert_eq!(kinds(check(&upload(PNG, None), 10).unwrap_err()), [Kind::FileTooBig]);
        let gif = include_bytes!("../../tests/fixtures/media/logo.gif");
        assert_eq!(check(&upload(gif, Some("image/gif")), 1024).map(|l| (l.width, l.height)).unwrap(), (1, 1));
        assert_eq!(kinds(check(&upload(b"", None), 10).unwrap_err()), [Kind::Required]);
        let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
        assert_eq!(kinds(check(&upload(svg, Some("image/svg+xml")), 1024).unwrap_err()), [Kind::SvgImage]);
        assert_eq!(kinds(check(&upload(b"  <svg></svg>", None), 1024).unwrap_err()), [Kind::SvgImage]);
        assert_eq!(kinds(check(&upload(b"hello, world", None), 1024).unwrap_err()), [Kind::NotAnImage]);
        assert_eq!(kinds(check(&upload(PNG, Some("image/gif")), 1024).unwrap_err()), [Kind::ImageTypeMismatch]);
        // A PNG header claiming 100000 × 1 pixels.
        let mut wide = PNG.to_vec();
        wide[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        assert_eq!(kinds(check(&upload(&wide, None), 1024).unwrap_err()), [Kind::ImageDimensions]);
        // A PNG signature and nothing after it.
        assert_eq!(kinds(check(&upload(&PNG[..12], None), 1024).unwrap_err()), [Kind::NotAnImage]);
    }

    #[test]
    fn only_names_ronron_writes_are_files() {
        let hash = "a".repeat(64);
        assert_eq!(type_of_name(&format!("{hash}.webp")), Some("image/webp"));
        for bad in [
            format!("{hash}.svg"),
            format!("{}.png", "A".repeat(64)),
            format!("{}.png", "a".repeat(63)),
            format!("../{hash}.png"),
            format!("{hash}.png/.."),
            "..".to_string(),
            format!("{hash}.png.png"),
        ] {
            assert_eq!(type_of_name(&bad), None, "{bad}");
        }
    }
}
