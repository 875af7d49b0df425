//! The admin overview: the list of screens.

use askama::Template;
use axum::http::HeaderMap;
use axum::response::Response;
use recourse_domain::Agent;

use super::form::{admins_only, page};
use crate::ui::{Session, render};

#[derive(Template)]
#[template(path = "admin_home.html")]
struct HomePage<'a> {
    me: Option<&'a Agent>,
    csrf: &'a str,
    section: &'static str,
    notice: Option<String>,
    error: Option<String>,
}

pub(super) async fn home(s: Session, headers: HeaderMap) -> Response {
    let r = admins_only(&s).map(|()| {
        render(&HomePage {
            me: Some(&s.agent),
            csrf: &s.csrf,
            section: "",
            notice: None,
            error: None,
        })
    });
    page(&headers, &s, r)
}
