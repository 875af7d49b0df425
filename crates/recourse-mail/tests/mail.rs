//! The email channel end to end, on a real database (SQLite always; PostgreSQL when
//! `RECOURSE_TEST_PG_URL` is set, and always under CI): every message of the shared
//! corpus through the pipeline, threading and de-duplication, bounces, real SMTP to the
//! listener (from here and with Debian's `swaks`), and our outbound mail caught by a
//! small SMTP sink.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use recourse_domain::{Actor, Body, Channel, MessageKind, Millis};
use recourse_mail::outbound::{Relay, send_due};
use recourse_mail::{Incoming, MailConfig, Pipeline};
use recourse_store::{MailState, NewMessage, Store};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

fn unique() -> String {
    format!("{}_{:016x}", std::process::id(), rand::random::<u64>())
}

async fn sqlite() -> Arc<Store> {
    let dir = std::env::temp_dir().join(format!("recourse-mail-{}", unique()));
    Arc::new(Store::sqlite(&dir.join("recourse.db")).await.unwrap())
}

/// A fresh PostgreSQL database, or `None` when none is configured outside CI.
async fn postgres() -> Option<Arc<Store>> {
    let admin = match std::env::var("RECOURSE_TEST_PG_URL") {
        Ok(u) if !u.trim().is_empty() => u,
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "RECOURSE_TEST_PG_URL is not set, but CI must test PostgreSQL"
            );
            eprintln!("RECOURSE_TEST_PG_URL is not set: skipping PostgreSQL");
            return None;
        }
    };
    let name = format!("recourse_mail_{}", unique());
    let mut conn = PgConnection::connect(&admin).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, query) = admin.split_once('?').unwrap_or((&admin, ""));
    let base = &base[..base.rfind('/').unwrap()];
    let url = if query.is_empty() {
        format!("{base}/{name}")
    } else {
        format!("{base}/{name}?{query}")
    };
    Some(Arc::new(Store::postgres(&url).await.unwrap()))
}

fn config() -> Arc<MailConfig> {
    Arc::new(MailConfig {
        domain: "desk.test".into(),
        from: "support@desk.test".into(),
        process_budget: Duration::from_secs(20),
        ..MailConfig::default()
    })
}

fn email_data() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/email");
    if dir.is_dir() {
        Some(dir)
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared/data/email is missing, but CI must run the corpus"
        );
        eprintln!("shared data not found; skipping");
        None
    }
}

fn incoming(raw: &[u8]) -> Incoming {
    Incoming {
        source: "smtp",
        envelope_from: Some("sender@example.net".into()),
        envelope_to: vec!["support@desk.test".into()],
        raw: raw.to_vec(),
    }
}

/// Every message file under `dir`, with an mbox split into its messages.
fn corpus(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(dir).unwrap().display().to_string();
            if path.is_dir() {
                if !name.starts_with("reply-bodies") {
                    stack.push(path);
                }
            } else if name.ends_with(".eml") {
                out.push((name, std::fs::read(&path).unwrap()));
            } else if name.ends_with(".mbox") {
                let data = std::fs::read(&path).unwrap();
                for (i, m) in split_mbox(&data).into_iter().enumerate() {
                    out.push((format!("{name}#{i}"), m));
                }
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// mbox: messages start at lines beginning `From `; that separator line is not mail.
fn split_mbox(data: &[u8]) -> Vec<Vec<u8>> {
    let mut messages: Vec<Vec<u8>> = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            messages.push(Vec::new());
        } else if let Some(m) = messages.last_mut() {
            m.extend_from_slice(line);
        }
    }
    messages
}

// ---------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------

async fn story_corpus(store: Arc<Store>) {
    let Some(dir) = email_data() else { return };
    let pipeline = Pipeline::new(store.clone(), config());
    let mut states: BTreeMap<String, MailState> = BTreeMap::new();
    let mut first_by_id: BTreeMap<String, MailState> = BTreeMap::new();
    let files = corpus(&dir);
    assert!(files.len() >= 150, "corpus has {} messages", files.len());
    for (name, raw) in &files {
        let (id, state) = pipeline
            .deliver(incoming(raw))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let state = state.unwrap_or_else(|| panic!("{name} was not handled"));
        assert_ne!(state, MailState::Received, "{name}");
        if state == MailState::Quarantined {
            let q = store
                .inbound_mail(Some(MailState::Quarantined), Some(id + 1), 1)
                .await
                .unwrap();
            assert!(
                q[0].reason.as_deref().is_some_and(|r| !r.is_empty()),
                "{name}"
            );
        }
        let summary = &store.inbound_mail(None, Some(id + 1), 1).await.unwrap()[0];
        // The corpus holds some reports twice under one Message-ID: the second is a
        // duplicate, and counts as what the first became.
        let state = if state == MailState::Duplicate {
            let first = summary.message_id.as_ref().and_then(|m| first_by_id.get(m));
            *first.unwrap_or_else(|| panic!("{name}: duplicate of nothing"))
        } else {
            if let Some(m) = &summary.message_id {
                first_by_id.insert(m.clone(), state);
            }
            state
        };
        states.insert(name.clone(), state);
    }
    // Nothing lost: every message is stored, and none is left unhandled.
    let all = store.inbound_mail(None, None, 1000).await.unwrap();
    assert_eq!(all.len(), files.len());
    assert!(all.iter().all(|m| m.state != MailState::Received));

    let class = |name: &str| states[name];
    for f in states.keys().filter(|k| k.starts_with("sisimai/bounces/")) {
        assert_eq!(class(f), MailState::Bounce, "{f}");
    }
    for f in states
        .keys()
        .filter(|k| k.starts_with("sisimai/autoreplies/"))
    {
        assert_eq!(class(f), MailState::AutoReply, "{f}");
    }
    for f in states.keys().filter(|k| k.starts_with("sisimai/arf/")) {
        assert_eq!(class(f), MailState::AutoReply, "{f}");
    }
    for f in states
        .keys()
        .filter(|k| k.starts_with("ruby-mail/multipart_report_emails/"))
    {
        assert_eq!(class(f), MailState::Bounce, "{f}");
    }
    // Looks like a person's mail but is a mailbox-full report.
    assert_eq!(
        class("sisimai/not-bounce/rb-issue-368-bug.eml"),
        MailState::Bounce
    );
    for f in [
        "sisimai/not-bounce/is-not-bounce-01.eml",
        "sisimai/not-bounce/is-not-bounce-02.eml",
    ] {
        assert!(
            matches!(class(f), MailState::Ticket | MailState::Threaded),
            "{f}: {:?}",
            class(f)
        );
    }
    assert_eq!(
        class("sisimai/line-endings/lhost-postfix-01.crlf.eml"),
        MailState::Bounce
    );
    // Bare CR line ends are read like LF ones: the same report.
    assert_eq!(
        class("sisimai/line-endings/lhost-postfix-01.cr-only.eml"),
        MailState::Bounce
    );
    // The mailbox-full report names the address that failed.
    assert!(
        store
            .bouncing_since("xxxx@yyyyyy.net")
            .await
            .unwrap()
            .is_some()
    );
    // People's mail in many charsets became tickets with readable text.
    let japanese = all
        .iter()
        .find(|m| m.subject.as_deref().is_some_and(|s| s == "まみむめも"))
        .expect("a Japanese subject decoded");
    assert!(japanese.ticket_id.is_some());
    let counts = states.values().fold(BTreeMap::new(), |mut m, s| {
        *m.entry(format!("{s:?}")).or_insert(0) += 1;
        m
    });
    eprintln!("corpus: {} messages: {counts:?}", files.len());
    for (name, s) in &states {
        eprintln!("  {s:?}\t{name}");
    }
}

#[tokio::test]
async fn corpus_sqlite() {
    story_corpus(sqlite().await).await;
}

#[tokio::test]
async fn corpus_postgres() {
    if let Some(s) = postgres().await {
        story_corpus(s).await;
    }
}

// ---------------------------------------------------------------------------------------
// Reply bodies: the stored message is the new text only
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn reply_bodies_keep_only_the_new_text() {
    let Some(dir) = email_data() else { return };
    let store = sqlite().await;
    let pipeline = Pipeline::new(store.clone(), config());
    let dir = dir.join("reply-bodies/zapier-email-reply-parser");
    let expect = [
        ("email_iPhone.txt", "Here is another email"),
        ("email_BlackBerry.txt", "Here is another email"),
        (
            "correct_sig.txt",
            "this is an email with a correct -- signature.",
        ),
        (
            "email_gmail.txt",
            "This is a test for inbox replying to a github message.",
        ),
    ];
    // Replies written between quoted lines stay; the quote and its header go.
    let interleaved = std::fs::read_to_string(dir.join("email_1_2.txt")).unwrap();
    let raw = format!(
        "From: riak@example.org\r\nSubject: Riak\r\nMessage-ID: <riak@example.org>\r\n\r\n{interleaved}"
    );
    let (id, _) = pipeline.deliver(incoming(raw.as_bytes())).await.unwrap();
    let m = &store.inbound_mail(None, Some(id + 1), 1).await.unwrap()[0];
    let body = &store.messages(m.ticket_id.unwrap()).await.unwrap()[0].body;
    assert!(body.starts_with("Hi,\n\nYou can list the keys"), "{body}");
    assert!(!body.contains("Abhishek Kona wrote") && !body.contains("> Hi folks"));
    for (i, (file, new_text)) in expect.iter().enumerate() {
        let body = std::fs::read_to_string(dir.join(file)).unwrap();
        let raw = format!(
            "From: Reader {i} <reader{i}@example.org>\r\nTo: support@desk.test\r\nSubject: About {file}\r\n\
             Message-ID: <body-{i}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
        );
        let (id, state) = pipeline.deliver(incoming(raw.as_bytes())).await.unwrap();
        assert_eq!(state, Some(MailState::Ticket), "{file}");
        let m = &store.inbound_mail(None, Some(id + 1), 1).await.unwrap()[0];
        let messages = store.messages(m.ticket_id.unwrap()).await.unwrap();
        assert_eq!(messages[0].body.trim(), *new_text, "{file}");
        // The full body is kept on the received message.
        assert!(body.trim_end().len() >= new_text.len());
    }
}

// ---------------------------------------------------------------------------------------
// Threading, duplicates, bounces, outbound — one conversation
// ---------------------------------------------------------------------------------------

/// What the sink was sent: envelope sender, recipients, the message.
type Kept = (String, Vec<String>, String);

/// A tiny SMTP server that keeps what it is sent.
#[derive(Clone, Default)]
struct Sink {
    messages: Arc<Mutex<Vec<Kept>>>,
}

impl Sink {
    async fn start(&self) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sink = self.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let sink = sink.clone();
                tokio::spawn(async move { sink.session(stream).await });
            }
        });
        addr
    }

    async fn session(&self, stream: TcpStream) {
        let (r, mut w) = stream.into_split();
        let mut r = BufReader::new(r);
        w.write_all(b"220 sink ready\r\n").await.unwrap();
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let upper = line.to_ascii_uppercase();
            let answer = if upper.starts_with("EHLO") {
                "250-sink\r\n250 8BITMIME\r\n".to_owned()
            } else if upper.starts_with("MAIL FROM:") {
                from = line[10..].trim().to_owned();
                "250 ok\r\n".into()
            } else if upper.starts_with("RCPT TO:") {
                to.push(line[8..].trim().to_owned());
                "250 ok\r\n".into()
            } else if upper.starts_with("DATA") {
                w.write_all(b"354 go\r\n").await.unwrap();
                let mut data = String::new();
                loop {
                    line.clear();
                    r.read_line(&mut line).await.unwrap();
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                self.messages
                    .lock()
                    .unwrap()
                    .push((from.clone(), std::mem::take(&mut to), data));
                "250 kept\r\n".into()
            } else if upper.starts_with("QUIT") {
                w.write_all(b"221 bye\r\n").await.unwrap();
                return;
            } else {
                "250 ok\r\n".into()
            };
            w.write_all(answer.as_bytes()).await.unwrap();
        }
    }

    fn taken(&self) -> Vec<Kept> {
        std::mem::take(&mut *self.messages.lock().unwrap())
    }
}

fn header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    mail.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

async fn story_conversation(store: Arc<Store>) {
    let config = config();
    let pipeline = Pipeline::new(store.clone(), config.clone());
    let sink = Sink::default();
    let relay_addr = sink.start().await;
    let relay = Relay::parse(&relay_addr.to_string()).unwrap();
    let transport = relay.transport(&config);

    // A customer writes in: a new ticket, read by the judge.
    let first = b"From: Pat Doe <pat@example.com>\r\nTo: support@desk.test\r\nSubject: Lamp arrived broken\r\n\
        Message-ID: <first@example.com>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
        <p>The box was crushed and the lamp is <b>in pieces</b>.</p><script>x()</script>\r\n";
    let (id, state) = pipeline.deliver(incoming(first)).await.unwrap();
    assert_eq!(state, Some(MailState::Ticket));
    let received = &store.inbound_mail(None, Some(id + 1), 1).await.unwrap()[0];
    let ticket = store.get_ticket(received.ticket_id.unwrap()).await.unwrap();
    let messages = store.messages(ticket.id).await.unwrap();
    assert_eq!(messages[0].channel, Channel::Email);
    assert!(messages[0].body.contains("in pieces"));
    assert!(!messages[0].body.contains("x()"));
    assert!(messages[0].demeanor.is_some());

    // The same message again (a retrying server): no second message.
    let (_, again) = pipeline.deliver(incoming(first)).await.unwrap();
    assert_eq!(again, Some(MailState::Duplicate));
    assert_eq!(store.messages(ticket.id).await.unwrap().len(), 1);

    // An agent replies: queued with the reply, mailed through the relay.
    let agent_reply = NewMessage {
        ticket_id: ticket.id,
        kind: MessageKind::Reply,
        channel: Channel::Console,
        author: Actor::System,
        body: Body::parse("Sorry about that, Pat.\n\nI can send a new lamp today.").unwrap(),
        status: None,
        demeanor: None,
        now: Millis(recourse_mail_now()),
    };
    recourse_desk::Desk::new(store.clone())
        .add_message(agent_reply)
        .await
        .unwrap();
    assert_eq!(send_due(store.as_ref(), &config, &transport).await, 1);
    let sent = sink.taken();
    assert_eq!(sent.len(), 1);
    let (from, to, data) = &sent[0];
    assert_eq!(from, "<support@desk.test>");
    assert_eq!(to, &vec!["<pat@example.com>".to_owned()]);
    let subject = header(data, "Subject").unwrap();
    assert!(
        subject.contains(&format!("[#{}]", ticket.number)),
        "{subject}"
    );
    assert_eq!(header(data, "In-Reply-To"), Some("<first@example.com>"));
    assert_eq!(header(data, "Auto-Submitted"), Some("auto-replied"));
    assert!(data.contains("text/plain") && data.contains("text/html"));
    let our_id = header(data, "Message-ID").unwrap().to_owned();
    assert!(
        our_id.starts_with(&format!("<ticket-{}.", ticket.number)),
        "{our_id}"
    );
    let status = store.outbound_mail(ticket.id).await.unwrap();
    assert_eq!(status[0].state, "sent");

    // The customer answers our mail: threaded by In-Reply-To, quote stripped.
    let answer = format!(
        "From: pat@example.com\r\nTo: support@desk.test\r\nSubject: Re: {subject}\r\n\
         Message-ID: <second@example.com>\r\nIn-Reply-To: {our_id}\r\nReferences: <first@example.com> {our_id}\r\n\r\n\
         Thank you, today works.\r\n\r\nOn Mon, Support wrote:\r\n> Sorry about that, Pat.\r\n"
    );
    let (_, state) = pipeline.deliver(incoming(answer.as_bytes())).await.unwrap();
    assert_eq!(state, Some(MailState::Threaded));
    let messages = store.messages(ticket.id).await.unwrap();
    let last = messages.last().unwrap();
    assert_eq!(last.kind, MessageKind::Inbound);
    assert_eq!(last.body.trim(), "Thank you, today works.");

    // By the subject token alone (no headers), from the same customer.
    let by_token = format!(
        "From: pat@example.com\r\nSubject: One more thing [#{}]\r\nMessage-ID: <third@example.com>\r\n\r\nBlue, please.\r\n",
        ticket.number
    );
    let (_, state) = pipeline
        .deliver(incoming(by_token.as_bytes()))
        .await
        .unwrap();
    assert_eq!(state, Some(MailState::Threaded));
    // The token from a stranger does not reach into Pat's ticket.
    let stranger = format!(
        "From: eve@example.org\r\nSubject: Hi [#{}]\r\nMessage-ID: <eve@example.org>\r\n\r\nLet me in.\r\n",
        ticket.number
    );
    let (_, state) = pipeline
        .deliver(incoming(stranger.as_bytes()))
        .await
        .unwrap();
    assert_eq!(state, Some(MailState::Ticket));

    // An out-of-office answer to our mail: recorded as a note, never answered.
    let ooo = format!(
        "From: pat@example.com\r\nSubject: Automatic reply: {subject}\r\nAuto-Submitted: auto-replied\r\n\
         Message-ID: <ooo@example.com>\r\nIn-Reply-To: {our_id}\r\n\r\nI am away.\r\n"
    );
    let (_, state) = pipeline.deliver(incoming(ooo.as_bytes())).await.unwrap();
    assert_eq!(state, Some(MailState::AutoReply));
    let messages = store.messages(ticket.id).await.unwrap();
    assert_eq!(messages.last().unwrap().kind, MessageKind::Note);
    assert_eq!(send_due(store.as_ref(), &config, &transport).await, 0);

    // Our mail bounces: the report lands on the ticket and the address is marked.
    let bounce = format!(
        "From: MAILER-DAEMON@mx.example.com\r\nTo: support@desk.test\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <bounce-1@mx.example.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
         --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n\
         Final-Recipient: rfc822; pat@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n\r\n\
         --b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {our_id}\r\nTo: pat@example.com\r\nSubject: x\r\n\r\n--b--\r\n"
    );
    let (id, state) = pipeline.deliver(incoming(bounce.as_bytes())).await.unwrap();
    assert_eq!(state, Some(MailState::Bounce));
    let b = &store.inbound_mail(None, Some(id + 1), 1).await.unwrap()[0];
    assert_eq!(b.ticket_id, Some(ticket.id));
    assert!(
        store
            .bouncing_since("pat@example.com")
            .await
            .unwrap()
            .is_some()
    );
    // Mail to a bouncing address is held back, with the reason.
    recourse_desk::Desk::new(store.clone())
        .add_message(NewMessage {
            ticket_id: ticket.id,
            kind: MessageKind::Reply,
            channel: Channel::Console,
            author: Actor::System,
            body: Body::parse("Your lamp has shipped.").unwrap(),
            status: None,
            demeanor: None,
            now: Millis(recourse_mail_now()),
        })
        .await
        .unwrap();
    assert_eq!(send_due(store.as_ref(), &config, &transport).await, 1);
    assert!(sink.taken().is_empty());
    let status = store.outbound_mail(ticket.id).await.unwrap();
    assert_eq!(status.last().unwrap().state, "suppressed");

    // A broken message and an oversized one go to quarantine, and can be handed back.
    let small = Pipeline::new(
        store.clone(),
        Arc::new(MailConfig {
            max_message_bytes: 200,
            ..(*config).clone()
        }),
    );
    let big = format!(
        "From: a@example.com\r\nSubject: big\r\n\r\n{}\r\n",
        "x".repeat(500)
    );
    let (big_id, state) = small.deliver(incoming(big.as_bytes())).await.unwrap();
    assert_eq!(state, Some(MailState::Quarantined));
    let (_, state) = pipeline.deliver(incoming(b"\r\n\r\n")).await.unwrap();
    assert_eq!(state, Some(MailState::Quarantined));
    let q = store
        .inbound_mail(Some(MailState::Quarantined), None, 10)
        .await
        .unwrap();
    assert_eq!(q.len(), 2);
    assert!(
        q.iter()
            .any(|m| m.reason.as_deref().unwrap().contains("over the limit"))
    );
    store.requeue_inbound_mail(big_id).await.unwrap();
    assert_eq!(pipeline.process_due().await.unwrap(), 1);
    let handled = &store.inbound_mail(None, Some(big_id + 1), 1).await.unwrap()[0];
    assert_eq!(handled.state, MailState::Ticket);
}

fn recourse_mail_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn conversation_sqlite() {
    story_conversation(sqlite().await).await;
}

#[tokio::test]
async fn conversation_postgres() {
    if let Some(s) = postgres().await {
        story_conversation(s).await;
    }
}

// ---------------------------------------------------------------------------------------
// Real SMTP to the listener
// ---------------------------------------------------------------------------------------

async fn listener(store: Arc<Store>) -> (std::net::SocketAddr, Arc<Pipeline>) {
    let pipeline = Arc::new(Pipeline::new(store, config()));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(recourse_mail::smtp::serve(l, pipeline.clone(), 2, None));
    (addr, pipeline)
}

struct Client {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Client {
    async fn connect(addr: std::net::SocketAddr) -> Client {
        let (r, w) = TcpStream::connect(addr).await.unwrap().into_split();
        let mut c = Client {
            reader: BufReader::new(r),
            writer: w,
        };
        assert!(c.answer().await.starts_with("220"));
        c
    }

    /// One reply, all its lines.
    async fn answer(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).await.unwrap();
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    }

    async fn send(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).await.unwrap();
    }

    async fn say(&mut self, s: &str) -> String {
        self.send(&format!("{s}\r\n")).await;
        self.answer().await
    }
}

async fn wait_for(store: &Arc<Store>, handled: usize) -> Vec<recourse_store::InboundMailSummary> {
    for _ in 0..200 {
        let all = store.inbound_mail(None, None, 1000).await.unwrap();
        if all
            .iter()
            .filter(|m| m.state != MailState::Received)
            .count()
            >= handled
        {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("mail was not handled in time");
}

#[tokio::test]
async fn smtp_listener_speaks_smtp() {
    let store = sqlite().await;
    let (addr, _) = listener(store.clone()).await;
    let mut c = Client::connect(addr).await;
    let ehlo = c.say("EHLO client.example").await;
    for ext in ["SIZE", "8BITMIME", "PIPELINING"] {
        assert!(ehlo.contains(ext), "{ehlo}");
    }
    assert!(!ehlo.contains("STARTTLS"));
    // Out of order, unknown, too big, not ours.
    assert!(
        c.say("RCPT TO:<support@desk.test>")
            .await
            .starts_with("503")
    );
    assert!(c.say("FROB").await.starts_with("500"));
    assert!(
        c.say("MAIL FROM:<a@example.com> SIZE=999999999999")
            .await
            .starts_with("552")
    );
    assert!(c.say("MAIL FROM:<a@example.com>").await.starts_with("250"));
    assert!(
        c.say("RCPT TO:<someone@elsewhere.example>")
            .await
            .starts_with("550")
    );
    assert!(c.say("RSET").await.starts_with("250"));

    // PIPELINING: the whole envelope and the data in one write, answers in order.
    c.send("MAIL FROM:<pat@example.com> BODY=8BITMIME\r\nRCPT TO:<support@desk.test>\r\nDATA\r\n")
        .await;
    assert!(c.answer().await.starts_with("250"));
    assert!(c.answer().await.starts_with("250"));
    assert!(c.answer().await.starts_with("354"));
    c.send(
        "From: Pat <pat@example.com>\r\nSubject: Größe falsch\r\nMessage-ID: <smtp-1@example.com>\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         The size is wrong.\r\n..a line that starts with a dot\r\n.\r\n",
    )
    .await;
    let stored = c.answer().await;
    assert!(stored.starts_with("250"), "{stored}");
    assert!(c.say("QUIT").await.starts_with("221"));

    let all = wait_for(&store, 1).await;
    assert_eq!(all[0].state, MailState::Ticket);
    assert_eq!(all[0].subject.as_deref(), Some("Größe falsch"));
    let messages = store.messages(all[0].ticket_id.unwrap()).await.unwrap();
    assert!(
        messages[0]
            .body
            .contains("\n.a line that starts with a dot")
    );
}

#[tokio::test]
async fn swaks_delivers_to_the_listener() {
    let have_swaks = std::process::Command::new("swaks")
        .arg("--version")
        .output()
        .is_ok();
    if !have_swaks {
        assert!(
            std::env::var_os("CI").is_none(),
            "swaks is missing, but CI installs it"
        );
        eprintln!("swaks not installed; skipping");
        return;
    }
    let store = sqlite().await;
    let (addr, _) = listener(store.clone()).await;
    for (i, pipelining) in [false, true].into_iter().enumerate() {
        let mut cmd = tokio::process::Command::new("swaks");
        cmd.args([
            "--server",
            &addr.ip().to_string(),
            "--port",
            &addr.port().to_string(),
            "--from",
            "kim@example.org",
            "--to",
            "support@desk.test",
            "--header",
            &format!("Subject: Sent with swaks {i}"),
            "--body",
            "My order never arrived.",
        ]);
        if pipelining {
            cmd.arg("--pipeline");
        }
        let out = cmd.output().await.unwrap();
        let transcript = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{transcript}");
        assert!(transcript.contains("250 2.0.0 Stored as"), "{transcript}");
    }
    let all = wait_for(&store, 2).await;
    assert!(all.iter().all(|m| m.state == MailState::Ticket));
    assert!(
        all.iter()
            .all(|m| m.from_address.as_deref() == Some("kim@example.org"))
    );
}

// STARTTLS on the listener, and the IMAP poller against a real Dovecot.
#[path = "mail/imap.rs"]
mod imap;
#[path = "mail/starttls.rs"]
mod starttls;
