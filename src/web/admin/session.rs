//! The signed-in admin: the session cookie, the extractor that requires it, and the CSRF check
//! every admin form goes through. Who is signed in is looked up by `web::html`, which the page
//! frame needs too.

use super::common::FormData;
use crate::{
    app::admins as auth,
    federation::Federation,
    web::{
        client::ClientInfo,
        html::{current_admin, AdminView, PageError, SESSION_COOKIE},
    },
};
use actix_web::{
    cookie::{Cookie, SameSite},
    dev::Payload,
    web, FromRequest, HttpRequest,
};
use futures::future::LocalBoxFuture;

/// The session cookie: HttpOnly, SameSite=Lax, Secure unless the client came over plain http
/// (the configured scheme, or a trusted proxy's `X-Forwarded-Proto`: see `web::client`).
pub fn session_cookie(client: &ClientInfo, value: String) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .secure(client.https)
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::days(auth::SESSION_DAYS))
        .finish()
}

pub fn expired_session_cookie(client: &ClientInfo) -> Cookie<'static> {
    let mut cookie = session_cookie(client, String::new());
    cookie.make_removal();
    cookie
}

/// Extractor for admin pages: the signed-in admin, or a redirect to the login page.
pub struct Admin(pub AdminView);

impl FromRequest for Admin {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let fed = req
                .app_data::<web::Data<Federation>>()
                .ok_or_else(|| PageError::Internal("federation data missing".into()))?;
            let state = crate::web::state_of(fed);
            match current_admin(state, &req).await? {
                Some(view) => Ok(Admin(view)),
                None => Err(PageError::LoginRequired { next: req.uri().path().to_string() }),
            }
        })
    }
}

/// Extractor for every admin form: the signed-in admin (else the login redirect), the body
/// parsed, and its CSRF token checked against the session's. A handler that takes it cannot
/// forget the check.
pub struct AdminForm(pub FormData);

impl FromRequest for AdminForm {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let admin = Admin::from_request(req, &mut Payload::None);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let Admin(view) = admin.await?;
            let form = FormData::parse(&body.await?);
            if !auth::same_token(&form.get("csrf").unwrap_or_default(), &view.csrf) {
                return Err(PageError::Csrf.into());
            }
            Ok(AdminForm(form))
        })
    }
}
