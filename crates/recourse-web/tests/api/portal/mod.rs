//! The customer portal over HTTP: sign-in by one-time link (single use, expiry, no
//! account enumeration, rate limit), customer sessions that see only their own tickets
//! (in the portal and the API) and never the console, CSRF on every form, uploads,
//! and the survey. The mail sender is stood in for by drawing and arming the token the
//! way `recourse-mail` does, so the test knows it; the real SMTP path is covered by the
//! browser test.

use crate::harness::*;
use recourse_domain::{Actor, Body, Channel, CustomerId, Priority, Subject};
use recourse_store::{NewTicket, OutboundResult};

on_both!(
    portal_known_and_unknown_addresses_get_the_same_answer,
    portal_only_a_known_address_is_sent_a_link,
    portal_the_sign_in_form_needs_its_token,
    portal_opening_a_link_does_not_use_it_up,
    portal_confirming_without_the_pages_token_is_refused_and_leaves_the_link_usable,
    portal_a_confirmed_link_signs_in_with_a_safe_cookie,
    portal_a_link_works_only_once,
    portal_a_made_up_link_is_404,
    portal_signing_out_ends_the_session,
    portal_an_expired_link_is_gone,
    portal_at_most_three_links_are_mailed_per_customer_in_fifteen_minutes,
    portal_the_sixth_request_from_one_address_is_refused_known_or_not,
    portal_the_list_shows_only_ones_own_tickets,
    portal_ones_own_ticket_shows_replies_escaped_and_no_notes,
    portal_someone_elses_ticket_is_as_missing_as_none,
    portal_the_session_is_the_same_customer_in_the_api,
    portal_pages_send_strangers_and_agents_to_sign_in,
    portal_forms_send_strangers_and_agents_to_sign_in,
    portal_forms_need_the_sessions_csrf_token,
    portal_customers_are_sent_away_from_the_console,
    portal_api_writes_with_the_customers_cookie_need_the_csrf_header,
    portal_a_new_request_keeps_subject_need_and_channel,
    portal_an_uploaded_file_is_kept_with_its_name_type_and_size,
    portal_the_ticket_page_escapes_the_subject_and_links_the_file,
    portal_a_file_downloads_as_an_attachment_byte_for_byte,
    portal_a_file_is_reachable_only_through_its_own_ticket,
    portal_too_large_a_file_is_refused_with_a_reason,
    portal_a_reply_shows_and_a_resolved_ticket_asks_for_the_survey,
    portal_a_survey_rating_out_of_range_is_422,
    portal_survey_answers_are_saved_and_shown_escaped,
    portal_another_customers_survey_cannot_be_answered,
);

/// A client that does not follow redirects, so each 303 can be looked at.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

struct Page {
    status: StatusCode,
    location: String,
    cookies: Vec<String>,
    text: String,
}

async fn page(resp: reqwest::Response) -> Page {
    let status = resp.status();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let cookies = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    let text = resp.text().await.unwrap();
    Page {
        status,
        location,
        cookies,
        text,
    }
}

/// `name=value` of the cookie called `name` among `Set-Cookie` headers.
fn cookie(p: &Page, name: &str) -> Option<String> {
    p.cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

/// The value of the hidden `csrf` field in a page.
fn csrf_field(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

impl TestApp {
    async fn get(&self, path: &str, cookie: &str) -> Page {
        let mut req = client().get(format!("{}{path}", self.base));
        if !cookie.is_empty() {
            req = req.header("cookie", cookie);
        }
        page(req.send().await.unwrap()).await
    }

    async fn post_form(&self, path: &str, cookie: &str, form: &[(&str, &str)]) -> Page {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut req = client()
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if !cookie.is_empty() {
            req = req.header("cookie", cookie);
        }
        page(req.send().await.unwrap()).await
    }

    async fn post_multipart(
        &self,
        path: &str,
        cookie: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Page {
        let boundary = "----recourse-test-boundary";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        for (name, ty, data) in files {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: {ty}\r\n\r\n")
                    .as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let resp = client()
            .post(format!("{}{path}", self.base))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("cookie", cookie)
            .body(body)
            .send()
            .await
            .unwrap();
        page(resp).await
    }

    /// Asks for a sign-in link through the form, as a browser would.
    async fn ask_for_link(&self, email: &str) -> Page {
        let form = self.get("/portal/login", "").await;
        assert_eq!(form.status, StatusCode::OK);
        let pre = cookie(&form, "recourse_portal_csrf").expect("a pre-session token cookie");
        self.post_form(
            "/portal/login",
            &pre,
            &[("email", email), ("csrf", &csrf_field(&form.text))],
        )
        .await
    }

    /// Does what the mail sender does with the queued links: draws each token, arms
    /// it (only the hash is stored) and records it sent. Returns (address, token).
    async fn mail_links(&self, expires_in_ms: i64) -> Vec<(String, String)> {
        let now = recourse_web::now();
        let mut out = Vec::new();
        for link in self
            .store
            .claim_portal_links(now, 60_000, 50)
            .await
            .unwrap()
        {
            let token = auth::new_secret("rpl");
            self.store
                .arm_portal_link(
                    link.id,
                    &auth::sha256_hex(&token),
                    Millis(now.0 + expires_in_ms),
                )
                .await
                .unwrap();
            self.store
                .finish_portal_link(link.id, OutboundResult::Sent(String::new()), now)
                .await
                .unwrap();
            out.push((link.to_address, token));
        }
        out
    }

    /// Opens the link and presses the button: the customer's session cookie.
    async fn confirm_link(&self, token: &str) -> Page {
        let shown = self.get(&format!("/portal/link/{token}"), "").await;
        let pre = cookie(&shown, "recourse_portal_csrf").unwrap_or_default();
        self.post_form(
            &format!("/portal/link/{token}"),
            &pre,
            &[("csrf", &csrf_field(&shown.text))],
        )
        .await
    }

    /// A customer signed in through the portal: their session cookie and CSRF token.
    async fn portal_customer(&self, email: &str) -> (String, String) {
        let asked = self.ask_for_link(email).await;
        assert_eq!(asked.status, StatusCode::OK, "{}", asked.text);
        let links = self.mail_links(15 * 60_000).await;
        let (_, token) = links
            .into_iter()
            .find(|(to, _)| to == email)
            .expect("a link was queued");
        let done = self.confirm_link(&token).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        let session = cookie(&done, auth::SESSION_COOKIE).unwrap();
        let home = self.get("/portal", &session).await;
        assert_eq!(home.status, StatusCode::OK, "{}", home.text);
        (session, csrf_field(&home.text))
    }

    async fn customer_ticket(&self, email: &str, subject: &str, body: &str) -> i64 {
        let c = self
            .store
            .upsert_customer(&EmailAddress::parse(email).unwrap(), None, Millis(1))
            .await
            .unwrap();
        recourse_desk::Desk::new(self.store.clone())
            .open_ticket(NewTicket {
                customer: c.id.into(),
                subject: Subject::parse(subject).unwrap(),
                body: Body::parse(body).unwrap(),
                need: None,
                priority: Priority::Normal,
                tags: vec![],
                channel: Channel::Email,
                demeanor: None,
                actor: Actor::Customer(CustomerId(c.id.0)),
                now: recourse_web::now(),
            })
            .await
            .unwrap()
            .id
            .0
    }

    /// An agent's console session cookie, signed in through the API.
    async fn agent_session(&self, email: &str) -> String {
        self.agent(email, Role::Agent, Experience::Experienced)
            .await;
        let resp = client()
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"email": email, "password": "correct horse battery"}))
            .send()
            .await
            .unwrap();
        let p = page(resp).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.text);
        cookie(&p, auth::SESSION_COOKIE).unwrap()
    }
}

/// Ada has a ticket; links are asked for her and for an unknown address, and the
/// sender mails what was queued: both answers and Ada's token.
async fn ada_asked(app: &TestApp) -> (Page, Page, String) {
    app.customer_ticket("ada@example.com", "Lamp flickers", "It flickers.")
        .await;
    let known = app.ask_for_link("ada@example.com").await;
    let unknown = app.ask_for_link("nobody@example.com").await;
    // Only the known address gets mail.
    let links = app.mail_links(15 * 60_000).await;
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0].0, "ada@example.com");
    let token = links[0].1.clone();
    (known, unknown, token)
}

/// Ada signed in through her link: the confirmation page, and her session cookie.
async fn ada_signed_in(app: &TestApp) -> (String, Page, String) {
    let (_, _, token) = ada_asked(app).await;
    let done = app.confirm_link(&token).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let session = cookie(&done, auth::SESSION_COOKIE).unwrap();
    (token, done, session)
}

/// Known and unknown addresses get the same answer, word for word.
async fn portal_known_and_unknown_addresses_get_the_same_answer(app: TestApp) {
    let (known, unknown, _) = ada_asked(&app).await;
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!((known.status, &known.text), (unknown.status, &unknown.text));
    assert!(
        known.text.contains("If we know this address"),
        "{}",
        known.text
    );
}

async fn portal_only_a_known_address_is_sent_a_link(app: TestApp) {
    // The assertions are in the fixture: one link, to Ada.
    ada_asked(&app).await;
}

/// The form needs its double-submit token.
async fn portal_the_sign_in_form_needs_its_token(app: TestApp) {
    ada_asked(&app).await;
    let forged = app
        .post_form(
            "/portal/login",
            "",
            &[("email", "ada@example.com"), ("csrf", "made-up")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(app.mail_links(15 * 60_000).await.is_empty());
}

/// Opening the link (as a mail scanner would, twice) does not use it up.
async fn portal_opening_a_link_does_not_use_it_up(app: TestApp) {
    let (_, _, token) = ada_asked(&app).await;
    for _ in 0..2 {
        let shown = app.get(&format!("/portal/link/{token}"), "").await;
        assert_eq!(shown.status, StatusCode::OK);
        assert!(shown.text.contains("Sign me in"), "{}", shown.text);
    }
    let done = app.confirm_link(&token).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
}

/// Confirming without the page's token is refused, and leaves the link usable.
async fn portal_confirming_without_the_pages_token_is_refused_and_leaves_the_link_usable(
    app: TestApp,
) {
    let (_, _, token) = ada_asked(&app).await;
    let no_csrf = app
        .post_form(&format!("/portal/link/{token}"), "", &[("csrf", "x")])
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    assert!(cookie(&no_csrf, auth::SESSION_COOKIE).is_none());
    let done = app.confirm_link(&token).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
}

async fn portal_a_confirmed_link_signs_in_with_a_safe_cookie(app: TestApp) {
    let (_, done, session) = ada_signed_in(&app).await;
    assert_eq!(done.location, "/portal");
    let set = done
        .cookies
        .iter()
        .find(|c| c.starts_with(auth::SESSION_COOKIE))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
        "{set}"
    );
    let home = app.get("/portal", &session).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text.contains("Lamp flickers"), "{}", home.text);
}

/// Used once: the second time it is gone, and no second session comes of it.
async fn portal_a_link_works_only_once(app: TestApp) {
    let (token, _, _) = ada_signed_in(&app).await;
    let again = app.confirm_link(&token).await;
    assert_eq!(again.status, StatusCode::GONE, "{}", again.text);
    assert!(cookie(&again, auth::SESSION_COOKIE).is_none());
    assert!(again.text.contains("already been used"), "{}", again.text);
    let shown = app.get(&format!("/portal/link/{token}"), "").await;
    assert_eq!(shown.status, StatusCode::GONE);
}

/// Only the hash was stored: the token itself opens nothing as a hash.
async fn portal_a_made_up_link_is_404(app: TestApp) {
    ada_signed_in(&app).await;
    let made_up = app.get("/portal/link/rpl_0123", "").await;
    assert_eq!(made_up.status, StatusCode::NOT_FOUND);
}

/// Signing out ends the session for good.
async fn portal_signing_out_ends_the_session(app: TestApp) {
    let (_, _, session) = ada_signed_in(&app).await;
    let home = app.get("/portal", &session).await;
    let csrf = csrf_field(&home.text);
    let out = app
        .post_form("/portal/logout", &session, &[("csrf", &csrf)])
        .await;
    assert_eq!(out.status, StatusCode::OK);
    let after = app.get("/portal", &session).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location, "/portal/login");
}

/// Bo asks for a link that is mailed already past its expiry: its token.
async fn bo_expired(app: &TestApp) -> String {
    app.customer_ticket("bo@example.com", "Kettle", "It leaks.")
        .await;
    app.ask_for_link("bo@example.com").await;
    let links = app.mail_links(-1).await; // already past its expiry
    links[0].1.clone()
}

async fn portal_an_expired_link_is_gone(app: TestApp) {
    let token = bo_expired(&app).await;
    let shown = app.get(&format!("/portal/link/{token}"), "").await;
    assert_eq!(shown.status, StatusCode::GONE);
    assert!(shown.text.contains("expired"), "{}", shown.text);
    let done = app.confirm_link(&token).await;
    assert_eq!(done.status, StatusCode::GONE);
    assert!(cookie(&done, auth::SESSION_COOKIE).is_none());
}

/// Bo's expired link, then four more requests (all answered alike).
async fn bo_asked_five_times(app: &TestApp) {
    bo_expired(app).await;
    for _ in 0..4 {
        let p = app.ask_for_link("bo@example.com").await;
        assert_eq!(p.status, StatusCode::OK);
    }
}

/// The store mails at most three links per customer in fifteen minutes ...
async fn portal_at_most_three_links_are_mailed_per_customer_in_fifteen_minutes(app: TestApp) {
    bo_asked_five_times(&app).await;
    assert_eq!(
        app.mail_links(60_000).await.len(),
        2,
        "3 in the window, 1 used above"
    );
}

/// ... and the sixth request from one address for one email is refused outright,
/// known address or not (the limit says nothing about who exists).
async fn portal_the_sixth_request_from_one_address_is_refused_known_or_not(app: TestApp) {
    bo_asked_five_times(&app).await;
    let p = app.ask_for_link("bo@example.com").await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS, "{}", p.text);
    for i in 0..4 {
        let p = app.ask_for_link(&format!("stranger{i}@example.com")).await;
        assert_eq!(
            p.status,
            StatusCode::TOO_MANY_REQUESTS,
            "the address is over its limit"
        );
    }
}

/// Cy's ticket with a note and a reply from the desk, Di's ticket, and Cy signed in
/// to the portal: (Cy's ticket, Di's ticket, Cy's session).
async fn cy_and_di(app: &TestApp) -> (i64, i64, String) {
    let mine = app
        .customer_ticket("cy@example.com", "My toaster", "Burns everything.")
        .await;
    let theirs = app
        .customer_ticket("di@example.com", "Their secret order", "Private words.")
        .await;
    // A note on my ticket stays with the desk.
    let (_, agent) = app
        .agent("eve@example.com", Role::Agent, Experience::Experienced)
        .await;
    let desk = app.client(&agent);
    let (status, _) = desk
        .add_message(mine, &NewMessage::note("Internal: customer sounds tired"))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = desk
        .add_message(
            mine,
            &NewMessage::reply("A <b>new</b> toaster is on its way."),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (session, _) = app.portal_customer("cy@example.com").await;
    (mine, theirs, session)
}

async fn portal_the_list_shows_only_ones_own_tickets(app: TestApp) {
    let (_, _, session) = cy_and_di(&app).await;
    let list = app.get("/portal", &session).await;
    assert!(list.text.contains("My toaster"));
    assert!(!list.text.contains("Their secret order"));
}

async fn portal_ones_own_ticket_shows_replies_escaped_and_no_notes(app: TestApp) {
    let (mine, _, session) = cy_and_di(&app).await;
    let own = app.get(&format!("/portal/tickets/{mine}"), &session).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.text.contains("Burns everything."));
    assert!(
        own.text.contains("A &#60;b&#62;new&#60;/b&#62; toaster") && !own.text.contains("<b>new"),
        "agent text is escaped: {}",
        own.text
    );
    assert!(
        !own.text.contains("Internal: customer sounds tired"),
        "no notes"
    );
    assert!(own.text.contains("Who has your case"));
}

/// Someone else's ticket is as missing as one that never existed.
async fn portal_someone_elses_ticket_is_as_missing_as_none(app: TestApp) {
    let (_, theirs, session) = cy_and_di(&app).await;
    let other = app
        .get(&format!("/portal/tickets/{theirs}"), &session)
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert!(!other.text.contains("Private words."));
    let none = app.get("/portal/tickets/999999", &session).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
}

/// The same session against the API is the same customer.
async fn portal_the_session_is_the_same_customer_in_the_api(app: TestApp) {
    let (mine, theirs, session) = cy_and_di(&app).await;
    let api = |path: String| {
        let session = session.clone();
        let base = app.base.clone();
        async move {
            let r = client()
                .get(format!("{base}{path}"))
                .header("cookie", session)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, body) = api("/api/v1/tickets".into()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ticket_ids(&body), vec![mine]);
    assert_eq!(
        api(format!("/api/v1/tickets/{theirs}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, me) = api("/api/v1/me".into()).await;
    assert_eq!(status, StatusCode::OK, "{me}");
}

/// Fay's ticket, Fay signed in to the portal (session and CSRF token), and an agent's
/// console session.
struct Fay {
    mine: i64,
    customer: String,
    csrf: String,
    agent: String,
}

async fn fay(app: &TestApp) -> Fay {
    let mine = app
        .customer_ticket("fay@example.com", "Sofa", "Wrong colour.")
        .await;
    let (customer, csrf) = app.portal_customer("fay@example.com").await;
    let agent = app.agent_session("gus@example.com").await;
    Fay {
        mine,
        customer,
        csrf,
        agent,
    }
}

const SIGNIN: &str = "→ /portal/login";

fn portal_posts(mine: i64) -> [String; 4] {
    [
        format!("/portal/tickets/{mine}/reply"),
        format!("/portal/tickets/{mine}/survey"),
        "/portal/new".to_owned(),
        "/portal/logout".to_owned(),
    ]
}

/// Every portal route for a stranger, a signed-in customer and a signed-in agent.
async fn portal_pages_send_strangers_and_agents_to_sign_in(app: TestApp) {
    let f = fay(&app).await;
    let mine = f.mine;
    let pages = [
        "/portal".to_owned(),
        "/portal/new".to_owned(),
        format!("/portal/tickets/{mine}"),
        format!("/portal/tickets/{mine}/attachments/1"),
    ];
    for path in &pages {
        for (who, c) in [("stranger", ""), ("agent", f.agent.as_str())] {
            let p = app.get(path, c).await;
            assert_eq!(
                (p.status, format!("→ {}", p.location)),
                (StatusCode::SEE_OTHER, SIGNIN.to_owned()),
                "GET {path} as {who}"
            );
        }
    }
}

async fn portal_forms_send_strangers_and_agents_to_sign_in(app: TestApp) {
    let f = fay(&app).await;
    for path in &portal_posts(f.mine) {
        for (who, c) in [("stranger", ""), ("agent", f.agent.as_str())] {
            let p = app
                .post_form(path, c, &[("csrf", &f.csrf), ("body", "hello")])
                .await;
            assert_eq!(
                (p.status, format!("→ {}", p.location)),
                (StatusCode::SEE_OTHER, SIGNIN.to_owned()),
                "POST {path} as {who}"
            );
        }
    }
}

/// The customer without the session's CSRF token is refused.
async fn portal_forms_need_the_sessions_csrf_token(app: TestApp) {
    let f = fay(&app).await;
    for path in &portal_posts(f.mine) {
        let p = app
            .post_form(path, &f.customer, &[("csrf", "wrong"), ("body", "hello")])
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "POST {path} without CSRF");
        let p = app.post_form(path, &f.customer, &[("body", "hello")]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "POST {path} with no CSRF");
    }
}

/// The console is for agents: a customer session gets the agents' sign-in page.
async fn portal_customers_are_sent_away_from_the_console(app: TestApp) {
    let f = fay(&app).await;
    let mine = f.mine;
    for path in ["/console", &format!("/console/tickets/{mine}")] {
        let p = app.get(path, &f.customer).await;
        assert_eq!(
            (p.status, p.location.as_str()),
            (StatusCode::SEE_OTHER, "/login"),
            "GET {path}"
        );
        assert!(!p.text.contains("Wrong colour."));
    }
    let p = app
        .post_form(
            &format!("/console/tickets/{mine}/take"),
            &f.customer,
            &[("csrf", &f.csrf)],
        )
        .await;
    assert_eq!(
        (p.status, p.location.as_str()),
        (StatusCode::SEE_OTHER, "/login")
    );
}

/// And API writes with the customer's cookie still need the CSRF header.
async fn portal_api_writes_with_the_customers_cookie_need_the_csrf_header(app: TestApp) {
    let f = fay(&app).await;
    let mine = f.mine;
    let message = NewMessage::plain("via the API");
    let r = client()
        .post(format!("{}/api/v1/tickets/{mine}/messages", app.base))
        .header("cookie", &f.customer)
        .json(&message)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = client()
        .post(format!("{}/api/v1/tickets/{mine}/messages", app.base))
        .header("cookie", &f.customer)
        .header(auth::CSRF_HEADER, &f.csrf)
        .json(&message)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

/// Ivy signed in with an earlier ticket, Jon's ticket, and an agent's token.
struct Ivy {
    agent: String,
    other: i64,
    session: String,
    csrf: String,
}

async fn ivy(app: &TestApp) -> Ivy {
    let (_, agent) = app
        .agent("hal@example.com", Role::Agent, Experience::Experienced)
        .await;
    app.customer_ticket("ivy@example.com", "Old one", "Earlier.")
        .await;
    let other = app
        .customer_ticket("jon@example.com", "Not yours", "Nope.")
        .await;
    let (session, csrf) = app.portal_customer("ivy@example.com").await;
    Ivy {
        agent,
        other,
        session,
        csrf,
    }
}

const PHOTO: &[u8] = b"\x89PNG\r\n\x1a\n not really a picture \r\n--boundary-looking line\r\n";

/// A new request with a file: its ticket id.
async fn with_photo(app: &TestApp, i: &Ivy) -> i64 {
    let made = app
        .post_multipart(
            "/portal/new",
            &i.session,
            &[
                ("csrf", &i.csrf),
                ("subject", "Cracked <screen>"),
                ("need", "a repair this week"),
                ("body", "The screen cracked on day two."),
            ],
            &[("photo.png", "image/png", PHOTO)],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text);
    made.location
        .trim_start_matches("/portal/tickets/")
        .parse()
        .unwrap()
}

async fn portal_a_new_request_keeps_subject_need_and_channel(app: TestApp) {
    let i = ivy(&app).await;
    let id = with_photo(&app, &i).await;
    let (_, t) = app.client(&i.agent).ticket(id).await;
    assert_eq!(t["subject"], "Cracked <screen>");
    assert_eq!(t["need"], "a repair this week");
    assert_eq!(t["messages"][0]["channel"], "portal");
}

async fn portal_an_uploaded_file_is_kept_with_its_name_type_and_size(app: TestApp) {
    let i = ivy(&app).await;
    let id = with_photo(&app, &i).await;
    let files = app
        .store
        .ticket_attachments(recourse_domain::TicketId(id))
        .await
        .unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].filename.as_deref(), Some("photo.png"));
    assert_eq!(files[0].content_type, "image/png");
    assert_eq!(files[0].size, PHOTO.len() as i64);
}

async fn portal_the_ticket_page_escapes_the_subject_and_links_the_file(app: TestApp) {
    let i = ivy(&app).await;
    let id = with_photo(&app, &i).await;
    let files = app
        .store
        .ticket_attachments(recourse_domain::TicketId(id))
        .await
        .unwrap();
    let shown = app.get(&format!("/portal/tickets/{id}"), &i.session).await;
    assert!(
        shown.text.contains("Cracked &#60;screen&#62;") && !shown.text.contains("<screen>"),
        "escaped: {}",
        shown.text
    );
    let href = format!("/portal/tickets/{id}/attachments/{}", files[0].id);
    assert!(shown.text.contains(&href));
}

async fn portal_a_file_downloads_as_an_attachment_byte_for_byte(app: TestApp) {
    let i = ivy(&app).await;
    let id = with_photo(&app, &i).await;
    let files = app
        .store
        .ticket_attachments(recourse_domain::TicketId(id))
        .await
        .unwrap();
    let href = format!("/portal/tickets/{id}/attachments/{}", files[0].id);
    let resp = client()
        .get(format!("{}{href}", app.base))
        .header("cookie", &i.session)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PHOTO);
}

/// The file is only reachable through its own ticket.
async fn portal_a_file_is_reachable_only_through_its_own_ticket(app: TestApp) {
    let i = ivy(&app).await;
    let id = with_photo(&app, &i).await;
    let files = app
        .store
        .ticket_attachments(recourse_domain::TicketId(id))
        .await
        .unwrap();
    let wrong = app
        .get(
            &format!("/portal/tickets/{}/attachments/{}", i.other, files[0].id),
            &i.session,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
}

/// Too large a file is refused with a reason, and nothing is created.
async fn portal_too_large_a_file_is_refused_with_a_reason(app: TestApp) {
    let i = ivy(&app).await;
    let big = vec![b'x'; 5 * 1024 * 1024 + 1];
    let refused = app
        .post_multipart(
            "/portal/new",
            &i.session,
            &[("csrf", &i.csrf), ("subject", "Big"), ("body", "Big file.")],
            &[("big.bin", "application/octet-stream", &big)],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(refused.text.contains("at most 5 MB"), "{}", refused.text);
}

/// A reply, then the desk resolves the ticket: its id.
async fn replied_and_resolved(app: &TestApp, i: &Ivy) -> i64 {
    let id = with_photo(app, i).await;
    let replied = app
        .post_multipart(
            &format!("/portal/tickets/{id}/reply"),
            &i.session,
            &[("csrf", &i.csrf), ("body", "Any news?")],
            &[],
        )
        .await;
    assert_eq!(replied.status, StatusCode::SEE_OTHER, "{}", replied.text);
    let (status, _) = app
        .client(&i.agent)
        .update_ticket(id, &TicketPatch::status("resolved"))
        .await;
    assert_eq!(status, StatusCode::OK);
    id
}

/// A reply, then the desk resolves the ticket and the survey appears.
async fn portal_a_reply_shows_and_a_resolved_ticket_asks_for_the_survey(app: TestApp) {
    let i = ivy(&app).await;
    let id = replied_and_resolved(&app, &i).await;
    let shown = app.get(&format!("/portal/tickets/{id}"), &i.session).await;
    assert!(shown.text.contains("Any news?"));
    assert!(shown.text.contains("How did we do?"), "{}", shown.text);
}

async fn portal_a_survey_rating_out_of_range_is_422(app: TestApp) {
    let i = ivy(&app).await;
    let id = replied_and_resolved(&app, &i).await;
    let bad = app
        .post_form(
            &format!("/portal/tickets/{id}/survey"),
            &i.session,
            &[
                ("csrf", &i.csrf),
                ("product", "9"),
                ("pleasantness", "5"),
                ("competence", "5"),
                ("recommend", "10"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn portal_survey_answers_are_saved_and_shown_escaped(app: TestApp) {
    let i = ivy(&app).await;
    let id = replied_and_resolved(&app, &i).await;
    let answered = app
        .post_form(
            &format!("/portal/tickets/{id}/survey"),
            &i.session,
            &[
                ("csrf", &i.csrf),
                ("product", "2"),
                ("pleasantness", "5"),
                ("competence", "4"),
                ("recommend", "8"),
                ("comment", "Kind people, <i>fragile</i> phone."),
            ],
        )
        .await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.text);
    assert!(answered.text.contains("your answers are saved"));
    assert!(answered.text.contains("&#60;i&#62;fragile") && !answered.text.contains("<i>fragile"));
    let hash = app
        .store
        .survey_token_hash(recourse_domain::TicketId(id))
        .await
        .unwrap()
        .unwrap();
    let survey = app.store.survey_by_token(&hash).await.unwrap().unwrap();
    let a = survey.answer.unwrap();
    assert_eq!(
        (a.product, a.pleasantness, a.competence, a.recommend),
        (2, 5, 4, 8)
    );
}

/// Another customer's survey cannot be answered by id.
async fn portal_another_customers_survey_cannot_be_answered(app: TestApp) {
    let i = ivy(&app).await;
    replied_and_resolved(&app, &i).await;
    let theirs = app
        .post_form(
            &format!("/portal/tickets/{}/survey", i.other),
            &i.session,
            &[
                ("csrf", &i.csrf),
                ("product", "1"),
                ("pleasantness", "1"),
                ("competence", "1"),
                ("recommend", "0"),
            ],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
}
