//! The `recourse` binary as an operator uses it: migrate, add an agent, make a token,
//! serve and stop on SIGTERM, and copy a desk from SQLite to PostgreSQL.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod crash;

const BIN: &str = env!("CARGO_BIN_EXE_recourse");

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        TempDir(std::env::temp_dir().join(format!("recourse-cli-{tag}-{}-{t}", std::process::id())))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn recourse(dir: &TempDir, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(["--data-dir", dir.0.to_str().unwrap()])
        .args(args)
        .env_remove("RECOURSE_DATABASE_URL")
        .env("RECOURSE_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

/// Starts `recourse <db_args> serve --listen 127.0.0.1:0 <serve_args>` and returns the
/// child with the `host:port` it printed on its first line.
fn serve(db_args: &[&str], serve_args: &[&str], log: &str) -> (std::process::Child, String) {
    let mut child = Command::new(BIN)
        .args(db_args)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(serve_args)
        .env("RECOURSE_LOG", log)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    (child, addr)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn operator_flow_and_graceful_shutdown() {
    let dir = TempDir::new("flow");
    let out = recourse(&dir, &["migrate"], None);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("up to date"));

    let out = recourse(
        &dir,
        &[
            "agent",
            "add",
            "--email",
            "Ada@Example.com",
            "--name",
            "Ada",
            "--role",
            "admin",
            "--experience",
            "senior",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    );
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("ada@example.com"));
    assert!(
        !stdout(&out).contains("a long enough password"),
        "a password given on stdin is never echoed"
    );

    let out = recourse(
        &dir,
        &[
            "agent",
            "add",
            "--email",
            "eli@example.com",
            "--name",
            "Eli",
        ],
        None,
    );
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("password: pw_"),
        "a generated password is printed once: {}",
        stdout(&out)
    );

    let out = recourse(
        &dir,
        &[
            "agent",
            "add",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--role",
            "boss",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a valid role"),
        "{out:?}"
    );
    let out = recourse(
        &dir,
        &[
            "agent",
            "add",
            "--email",
            "ada@example.com",
            "--name",
            "Again",
            "--password-stdin",
        ],
        Some("another long password"),
    );
    assert!(!out.status.success(), "duplicate emails are refused");

    let out = recourse(
        &dir,
        &["token", "create", "--agent", "ada@example.com"],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let token = stdout(&out).trim().to_owned();
    assert!(token.starts_with("rct_") && token.len() > 40);

    // Serve on port 0 and read the address from the first line it prints.
    let (mut server, addr) = serve(&["--data-dir", dir.0.to_str().unwrap()], &[], "warn");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let me = rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let req = format!("GET /api/v1/me HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut buf = String::new();
        s.read_to_string(&mut buf).await.unwrap();
        buf
    });
    assert!(me.starts_with("HTTP/1.1 200"), "{me}");
    assert!(me.contains("\"email\":\"ada@example.com\""), "{me}");

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = server.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "SIGTERM is a clean shutdown: {status:?}");
}

/// A fresh, empty database on the test PostgreSQL server, as a URL; `None` (the test
/// skips) when `RECOURSE_TEST_PG_URL` is not set, which CI never allows.
fn fresh_pg_database(tag: &str) -> Option<String> {
    let Ok(pg) = std::env::var("RECOURSE_TEST_PG_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set RECOURSE_TEST_PG_URL"
        );
        eprintln!("RECOURSE_TEST_PG_URL not set: skipping");
        return None;
    };
    let name = format!(
        "recourse_{tag}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros()
            % 1_000_000_000
    );
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&pg).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
    });
    Some(format!("{}/{name}", pg.rsplit_once('/').unwrap().0))
}

#[test]
fn db_copy_moves_a_desk_to_postgres() {
    let Some(target) = fresh_pg_database("copy") else {
        return;
    };
    let dir = TempDir::new("copy");
    for (email, password) in [
        ("ada@example.com", "first long password"),
        ("eli@example.com", "second long password"),
    ] {
        let out = recourse(
            &dir,
            &[
                "agent",
                "add",
                "--email",
                email,
                "--name",
                "Someone",
                "--password-stdin",
            ],
            Some(password),
        );
        assert!(out.status.success(), "{out:?}");
    }
    assert!(
        recourse(
            &dir,
            &[
                "token",
                "create",
                "--agent",
                "eli@example.com",
                "--scope",
                "read"
            ],
            None
        )
        .status
        .success()
    );

    let from = format!("sqlite://{}", dir.0.join("recourse.db").display());

    let out = recourse(
        &dir,
        &["db", "copy", "--from", &from, "--to", &target],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("verified"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("agents") && l.trim_end().ends_with("2 rows")),
        "{text}"
    );

    // Copying into a database that is no longer empty is refused, not merged.
    let out = recourse(
        &dir,
        &["db", "copy", "--from", &from, "--to", &target],
        None,
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("empty database"),
        "{out:?}"
    );

    // The copied desk works: the agents can get tokens from the PostgreSQL side.
    let out = Command::new(BIN)
        .args([
            "--database-url",
            &target,
            "token",
            "create",
            "--agent",
            "ada@example.com",
        ])
        .env("RECOURSE_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// Two sweeper processes on one PostgreSQL, started together over the same due tickets:
/// each ticket is escalated exactly once (`FOR UPDATE SKIP LOCKED` claims), and a run
/// afterwards (a restart) finds nothing left to do.
#[test]
fn two_sweeper_processes_escalate_each_due_ticket_once() {
    let Some(url) = fresh_pg_database("sweep") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let created = 30;
    let tickets = rt.block_on(async {
        use recourse_domain::{
            Actor, Body, Channel, EmailAddress, Experience, PersonName, Priority, Role, Subject,
        };
        let store = recourse_store::open(&url).await.unwrap();
        for (email, experience) in [
            ("jo@example.com", Experience::Junior),
            ("eve@example.com", Experience::Experienced),
        ] {
            store
                .create_agent(recourse_store::NewAgent {
                    email: EmailAddress::parse(email).unwrap(),
                    name: PersonName::parse("Someone").unwrap(),
                    role: Role::Agent,
                    experience,
                    skills: vec![],
                    team_id: None,
                    capacity: 100,
                    password_hash: "$argon2id$unused".into(),
                    now: recourse_domain::Millis(0),
                })
                .await
                .unwrap();
        }
        let ada = store
            .upsert_customer(
                &EmailAddress::parse("ada@example.com").unwrap(),
                None,
                recourse_domain::Millis(0),
            )
            .await
            .unwrap();
        let monday = recourse_domain::sla::parse_instant("2026-11-23T10:00:00Z").unwrap();
        let mut ids = Vec::new();
        for i in 0..created {
            let t = recourse_desk::Desk::new(store.clone())
                .open_ticket(recourse_store::NewTicket {
                    customer: ada.id.into(),
                    subject: Subject::parse(&format!("Due ticket {i}")).unwrap(),
                    body: Body::parse("Hello").unwrap(),
                    need: None,
                    priority: Priority::Normal,
                    tags: vec![],
                    channel: Channel::Email,
                    demeanor: None,
                    actor: Actor::Customer(ada.id),
                    now: monday,
                })
                .await
                .unwrap();
            ids.push(t.id);
        }
        ids
    });

    // First responses were due at 14:00; both processes sweep as of 15:00.
    let sweeper = || {
        Command::new(BIN)
            .args([
                "--database-url",
                &url,
                "sla",
                "sweep",
                "--at",
                "2026-11-23T15:00:00Z",
                "--batch",
                "4",
            ])
            .env("RECOURSE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (sweeper(), sweeper());
    let escalated = |o: Output| -> u64 {
        assert!(o.status.success(), "{o:?}");
        let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        v["escalated"].as_u64().unwrap()
    };
    let (ea, eb) = (
        escalated(a.wait_with_output().unwrap()),
        escalated(b.wait_with_output().unwrap()),
    );
    assert_eq!(
        ea + eb,
        created as u64,
        "one process did {ea}, the other {eb}"
    );
    assert_eq!(escalated(sweeper().wait_with_output().unwrap()), 0);
    rt.block_on(async {
        let store = recourse_store::open(&url).await.unwrap();
        for id in tickets {
            let steps = store.escalations(id).await.unwrap();
            assert_eq!(steps.len(), 1, "ticket {id:?}: {steps:?}");
        }
    });
}

/// Backup while the database is in use, restore into place (refusing to overwrite
/// without --force, refusing a damaged file), and PostgreSQL pointed to its own tools.
#[test]
fn backup_and_restore_sqlite() {
    let dir = TempDir::new("backup");
    let db = dir.0.join("recourse.db");
    let url = format!("sqlite://{}", db.display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let add = |n: usize, from: usize| {
        let url = url.clone();
        rt.block_on(async move {
            use recourse_domain::{Actor, Body, Channel, EmailAddress, Priority, Subject};
            let store = recourse_store::open(&url).await.unwrap();
            let ada = store
                .upsert_customer(
                    &EmailAddress::parse("ada@example.com").unwrap(),
                    None,
                    recourse_domain::Millis(0),
                )
                .await
                .unwrap();
            for i in from..from + n {
                recourse_desk::Desk::new(store.clone())
                    .open_ticket(recourse_store::NewTicket {
                        customer: ada.id.into(),
                        subject: Subject::parse(&format!("Ticket {i}")).unwrap(),
                        body: Body::parse("Hello").unwrap(),
                        need: None,
                        priority: Priority::Normal,
                        tags: vec![],
                        channel: Channel::Email,
                        demeanor: None,
                        actor: Actor::Customer(ada.id),
                        now: recourse_domain::Millis(i as i64),
                    })
                    .await
                    .unwrap();
            }
            store.count_rows("tickets").await.unwrap()
        })
    };
    assert_eq!(add(25, 0), 25);
    let backup = dir.0.join("backup.db");
    let out = recourse(&dir, &["backup", "--to", backup.to_str().unwrap()], None);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("(25 tickets)"), "{}", stdout(&out));
    // A backup never overwrites.
    let again = recourse(&dir, &["backup", "--to", backup.to_str().unwrap()], None);
    assert!(!again.status.success());
    assert_eq!(add(5, 25), 30);
    let refused = recourse(&dir, &["restore", "--from", backup.to_str().unwrap()], None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    let junk = dir.0.join("junk.db");
    std::fs::write(&junk, vec![7u8; 8192]).unwrap();
    let damaged = recourse(
        &dir,
        &["restore", "--from", junk.to_str().unwrap(), "--force"],
        None,
    );
    assert!(!damaged.status.success(), "a damaged file is refused");
    let out = recourse(
        &dir,
        &["restore", "--from", backup.to_str().unwrap(), "--force"],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(add(0, 0), 25, "back to the moment of the backup");
    let pg = Command::new(BIN)
        .args([
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
            "backup",
            "--to",
            "/tmp/x.db",
        ])
        .output()
        .unwrap();
    assert!(!pg.status.success());
    assert!(String::from_utf8_lossy(&pg.stderr).contains("pg_dump"));
}

#[test]
fn crash_safety_sqlite() {
    crash::run_sqlite("crash");
}

#[test]
fn crash_safety_postgres() {
    let Some(url) = fresh_pg_database("crash") else {
        return;
    };
    crash::run(vec!["--database-url".into(), url.clone()], url);
}

/// Three `serve` nodes on one PostgreSQL, started together: migrations run once, a
/// session made on one node works on the others, and overdue tickets are escalated
/// exactly once by the three sweepers while one node is killed and restarted.
#[test]
fn three_nodes_on_one_postgres() {
    let Some(url) = fresh_pg_database("nodes") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Where the nodes' email and webhooks go: a real SMTP sink and an HTTP receiver that
    // record every Message-ID and delivery id they get, duplicates included.
    let (relay, mails) = rt.block_on(smtp_sink());
    let (hook_url, hooks) = rt.block_on(webhook_sink());
    let node = {
        let url = url.clone();
        let relay = relay.clone();
        move || {
            let (child, addr) = serve(
                &["--database-url", &url],
                &[
                    "--sweep-secs",
                    "1",
                    "--smtp-relay",
                    &relay,
                    // A node killed mid-send leaves its claimed mail and deliveries to the
                    // others after 3 s (120 s in production).
                    "--claim-lease-secs",
                    "3",
                ],
                "error",
            );
            (child, format!("http://{addr}"))
        }
    };
    // Started together: all three race to migrate an empty database.
    let starters: Vec<_> = (0..3).map(|_| std::thread::spawn(node.clone())).collect();
    let mut nodes: Vec<(std::process::Child, String)> =
        starters.into_iter().map(|h| h.join().unwrap()).collect();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        let (runs, distinct): (i64, i64) =
            sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations")
                .fetch_one(&mut c)
                .await
                .unwrap();
        assert_eq!(runs, distinct, "each migration recorded once");
        assert!(runs >= 3);
    });
    // A session from node 0 works on nodes 1 and 2.
    let out = Command::new(BIN)
        .args([
            "--database-url",
            &url,
            "agent",
            "add",
            "--email",
            "eve@example.com",
            "--name",
            "Eve",
            "--experience",
            "experienced",
            "--password-stdin",
        ])
        .env("RECOURSE_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write as _;
            c.stdin.take().unwrap().write_all(b"node test password")?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let http = reqwest::Client::new();
    rt.block_on(async {
        let login = http
            .post(format!("{}/api/v1/auth/login", nodes[0].1))
            .json(&serde_json::json!({"email": "eve@example.com", "password": "node test password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
        let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let csrf = login.json::<serde_json::Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_owned();
        for (_, base) in &nodes[1..] {
            let me = http.get(format!("{base}/api/v1/me")).header("cookie", &cookie).send().await.unwrap();
            assert_eq!(me.status(), 200, "the session works on {base}");
            let t = http
                .post(format!("{base}/api/v1/tickets"))
                .header("cookie", &cookie)
                .header("x-csrf-token", &csrf)
                .json(&serde_json::json!({"customer": {"email": "ada@example.com"}, "subject": "Across nodes", "body": "Hello"}))
                .send()
                .await
                .unwrap();
            assert_eq!(t.status(), 201);
        }
    });
    // Overdue tickets: the three sweepers share them; one node dies mid-way and returns.
    let due: Vec<recourse_domain::TicketId> = rt.block_on(async {
        use recourse_domain::{Actor, Body, Channel, EmailAddress, Priority, Subject};
        let store = recourse_store::open(&url).await.unwrap();
        store
            .create_webhook(
                &hook_url,
                "node-test-secret",
                &[],
                recourse_domain::Millis(0),
            )
            .await
            .unwrap();
        let long_ago = recourse_domain::sla::parse_instant("2026-11-16T10:00:00Z").unwrap();
        let mut ids = Vec::new();
        for i in 0..150 {
            // One customer each: the desk's hourly cap on automatic mail is per address.
            let ada = store
                .upsert_customer(
                    &EmailAddress::parse(&format!("late{i}@example.com")).unwrap(),
                    None,
                    recourse_domain::Millis(0),
                )
                .await
                .unwrap();
            ids.push(
                recourse_desk::Desk::new(store.clone())
                    .open_ticket(recourse_store::NewTicket {
                        customer: ada.id.into(),
                        subject: Subject::parse(&format!("Overdue {i}")).unwrap(),
                        body: Body::parse("Waiting").unwrap(),
                        need: None,
                        priority: Priority::Normal,
                        tags: vec![],
                        channel: Channel::Email,
                        demeanor: None,
                        actor: Actor::Customer(ada.id),
                        now: long_ago,
                    })
                    .await
                    .unwrap()
                    .id,
            );
        }
        ids
    });
    // Two nodes die, at different moments of the sweeping and sending, and come back.
    for (victim, after) in [(1, 700), (2, 1500)] {
        std::thread::sleep(Duration::from_millis(after));
        Command::new("kill")
            .args(["-KILL", &nodes[victim].0.id().to_string()])
            .status()
            .unwrap();
        let _ = nodes[victim].0.wait();
        nodes[victim] = node();
    }
    // Wait until nothing is due any more (bounded), then count.
    let store_check = |ids: &[recourse_domain::TicketId]| {
        rt.block_on(async {
            let store = recourse_store::open(&url).await.unwrap();
            let mut counts = Vec::new();
            for id in ids {
                counts.push(store.escalations(*id).await.unwrap().len());
            }
            counts
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let counts = loop {
        let counts = store_check(&due);
        if counts.iter().all(|c| *c >= 1) || std::time::Instant::now() > deadline {
            break counts;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    // Then every email and webhook delivery goes out: wait until none is left to send.
    let pending = || {
        rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            let q = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
            let mail: i64 = q("SELECT COUNT(*) FROM outbound_mail WHERE state <> 'sent'")
                .fetch_one(&mut c)
                .await
                .unwrap();
            let hooks: i64 =
                q("SELECT COUNT(*) FROM webhook_deliveries WHERE delivered_at IS NULL")
                    .fetch_one(&mut c)
                    .await
                    .unwrap();
            let sent: i64 = q("SELECT COUNT(*) FROM outbound_mail")
                .fetch_one(&mut c)
                .await
                .unwrap();
            let delivered: i64 = q("SELECT COUNT(*) FROM webhook_deliveries")
                .fetch_one(&mut c)
                .await
                .unwrap();
            (mail + hooks, sent, delivered)
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let (left, mail_rows, hook_rows) = loop {
        let p = pending();
        if p.0 == 0 || std::time::Instant::now() > deadline {
            break p;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    for (child, _) in nodes.iter_mut() {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let _ = child.wait();
    }
    assert!(
        counts.iter().all(|c| *c == 1),
        "each overdue ticket escalated exactly once: {counts:?}"
    );
    assert_eq!(left, 0, "every email and webhook delivery went out");
    // Each escalation told its customer by email (plus the two tickets made above).
    assert!(mail_rows >= 150, "{mail_rows} emails queued");
    // Nothing lost: every queued email and delivery arrived, under its own id. A send
    // that completed just before its node was killed, but was not yet recorded, is sent
    // again after the claim lapses, with the same id so receivers drop it: at most one
    // per kill.
    for (what, got, rows) in [
        ("emails", mails.lock().unwrap().clone(), mail_rows),
        (
            "webhook deliveries",
            hooks.lock().unwrap().clone(),
            hook_rows,
        ),
    ] {
        let distinct: std::collections::BTreeSet<_> = got.iter().collect();
        assert_eq!(
            distinct.len() as i64,
            rows,
            "every one of the {what} arrived"
        );
        let repeats = got.len() - distinct.len();
        assert!(
            repeats <= 2,
            "{repeats} {what} repeated by two kills: {got:?}"
        );
        println!("{what}: {rows} sent, {repeats} repeated after a kill");
    }
}

/// A minimal SMTP server that takes every message and records its Message-ID. Each
/// DATA is answered after a short pause, so kills land mid-send more often.
async fn smtp_sink() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let record = record.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut r = tokio::io::BufReader::new(r);
                w.write_all(b"220 sink ready\r\n").await.ok()?;
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.ok()? == 0 {
                        return Some(());
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "DATA" => {
                            w.write_all(b"354 go on\r\n").await.ok()?;
                            let mut id = String::new();
                            loop {
                                line.clear();
                                if r.read_line(&mut line).await.ok()? == 0 {
                                    return Some(());
                                }
                                if line == ".\r\n" {
                                    break;
                                }
                                if id.is_empty()
                                    && line.to_ascii_lowercase().starts_with("message-id:")
                                {
                                    id = line[11..].trim().to_owned();
                                }
                            }
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            record.lock().unwrap().push(id);
                            b"250 taken\r\n"
                        }
                        "QUIT" => {
                            w.write_all(b"221 bye\r\n").await.ok()?;
                            return Some(());
                        }
                        _ => b"250 ok\r\n",
                    };
                    w.write_all(answer).await.ok()?;
                }
            });
        }
    });
    (addr, seen)
}

/// A minimal HTTP receiver for webhooks that records each `X-Recourse-Delivery`.
async fn webhook_sink() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let record = record.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                let head_end = loop {
                    let n = stream.read(&mut chunk).await.ok()?;
                    if n == 0 {
                        return None;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                let header = |name: &str| {
                    head.lines()
                        .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
                };
                let length: usize = header("content-length:")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                while buf.len() < head_end + length {
                    let n = stream.read(&mut chunk).await.ok()?;
                    if n == 0 {
                        return None;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
                record
                    .lock()
                    .unwrap()
                    .push(header("x-recourse-delivery:").unwrap_or_default());
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await
                    .ok()
            });
        }
    });
    (url, seen)
}

// ---- email: SIGKILL during a stream of SMTP deliveries ------------------------------

/// Starts `serve` with the SMTP listener; returns the child and the SMTP address.
fn serve_with_smtp(dir: &TempDir) -> (std::process::Child, String) {
    let mut server = Command::new(BIN)
        .args(["--data-dir", dir.0.to_str().unwrap(), "serve"])
        .args(["--listen", "127.0.0.1:0", "--smtp-listen", "127.0.0.1:0"])
        .args(["--mail-domain", "desk.test"])
        .env_remove("RECOURSE_DATABASE_URL")
        .env("RECOURSE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    let smtp = loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "serve ended early");
        if let Some(addr) = line.trim().strip_prefix("Receiving mail by SMTP on ") {
            break addr.to_owned();
        }
    };
    (server, smtp)
}

/// Sends messages `kill-<n>@example.com` one after another on one connection until the
/// server goes away; returns the numbers the server answered `250` for.
async fn deliver_until_gone(smtp: &str) -> Vec<u32> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(smtp).await.unwrap();
    let (r, mut w) = stream.into_split();
    let mut r = tokio::io::BufReader::new(r);
    let mut acknowledged = Vec::new();
    let mut line = String::new();
    // One reply (multi-line replies end at a line whose fourth byte is a space).
    macro_rules! answer {
        () => {{
            loop {
                line.clear();
                match r.read_line(&mut line).await {
                    Ok(0) | Err(_) => return acknowledged,
                    Ok(_) if line.len() >= 4 && line.as_bytes()[3] == b'-' => continue,
                    Ok(_) => break line.clone(),
                }
            }
        }};
    }
    assert!(answer!().starts_with("220"));
    if w.write_all(b"EHLO crash.test\r\n").await.is_err() {
        return acknowledged;
    }
    answer!();
    for n in 0..100_000u32 {
        let msg =
            format!("MAIL FROM:<c{n}@example.com>\r\nRCPT TO:<support@desk.test>\r\nDATA\r\n");
        if w.write_all(msg.as_bytes()).await.is_err() {
            return acknowledged;
        }
        answer!();
        answer!();
        answer!();
        let data = format!(
            "From: c{n}@example.com\r\nSubject: Crash {n}\r\nMessage-ID: <kill-{n}@example.com>\r\n\r\nMessage {n}.\r\n.\r\n"
        );
        if w.write_all(data.as_bytes()).await.is_err() {
            return acknowledged;
        }
        if answer!().starts_with("250") {
            acknowledged.push(n);
        }
    }
    acknowledged
}

#[test]
fn smtp_mail_acknowledged_before_sigkill_is_never_lost() {
    let dir = TempDir::new("smtp-kill");
    let (mut server, smtp) = serve_with_smtp(&dir);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pid = server.id();
    let acknowledged = rt.block_on(async {
        let sender = tokio::spawn({
            let smtp = smtp.clone();
            async move { deliver_until_gone(&smtp).await }
        });
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let killed = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        sender.await.unwrap()
    });
    server.wait().unwrap();
    assert!(
        acknowledged.len() >= 10,
        "only {} messages got through before the kill",
        acknowledged.len()
    );

    // Restart: what was stored but not yet handled is handled now.
    let (mut server, _) = serve_with_smtp(&dir);
    let handled = rt.block_on(async {
        let db = dir.0.join("recourse.db");
        let store = recourse_store::Store::sqlite(&db).await.unwrap();
        // The killed node's claims lapse after the budget (10 s) and five seconds.
        for _ in 0..600 {
            let all = store.inbound_mail(None, None, 100_000).await.unwrap();
            if all
                .iter()
                .all(|m| m.state != recourse_store::MailState::Received)
            {
                return all;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("stored mail was not handled after the restart");
    });
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    server.wait().unwrap();
    let ids: std::collections::BTreeSet<String> = handled
        .iter()
        .filter(|m| m.state == recourse_store::MailState::Ticket)
        .filter_map(|m| m.message_id.clone())
        .collect();
    for n in &acknowledged {
        assert!(
            ids.contains(&format!("kill-{n}@example.com")),
            "message {n} got 250 but is not on a ticket"
        );
    }
    eprintln!(
        "{} acknowledged before SIGKILL, all on tickets after restart ({} stored)",
        acknowledged.len(),
        handled.len()
    );
}
