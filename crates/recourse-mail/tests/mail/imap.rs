//! The IMAP poller against Debian's Dovecot, started by the test on loopback with its
//! own configuration: messages become tickets through the same pipeline as SMTP; IDLE
//! brings new mail in; a restart neither skips nor re-reads a message; two pollers on
//! one folder store each message once; a new UIDVALIDITY starts the folder over; IMAPS
//! trusts the configured CA.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;

use recourse_mail::imap::{ImapSettings, ImapUrl};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::starttls::{certificates, temp_dir};
use super::*;

const DOVECOT: &str = "/usr/sbin/dovecot";
const PASSWORD: &str = "desk-imap-secret";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn id(flag: &str) -> String {
    let out = Command::new("id").arg(flag).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A Dovecot of our own: IMAP (and IMAPS) on free loopback ports, any user name with
/// one password, mail in maildirs under a temporary directory. Stopped on drop.
struct Dovecot {
    dir: PathBuf,
    child: Child,
    imap: u16,
    imaps: u16,
    ca: PathBuf,
}

impl Dovecot {
    /// `None` when Dovecot is not installed outside CI.
    fn start(name: &str) -> Option<Dovecot> {
        if !Path::new(DOVECOT).exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "dovecot is missing, but CI installs it"
            );
            eprintln!("dovecot not installed; skipping");
            return None;
        }
        let dir = temp_dir(&format!("dovecot-{name}"));
        let certs = certificates(&dir);
        let (cert, key) = (certs.cert, certs.key);
        for sub in ["run", "state", "mail"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        // Dovecot drops privileges: as root it runs as its own users and keeps mail as
        // `nobody`; as anyone else, everything runs as that user.
        let (internal, login, uid, gid) = if id("-u") == "0" {
            use std::os::unix::fs::PermissionsExt;
            let mail = dir.join("mail");
            std::fs::set_permissions(&mail, std::fs::Permissions::from_mode(0o777)).unwrap();
            (
                "dovecot".into(),
                "dovenull".into(),
                "65534".into(),
                "65534".into(),
            )
        } else {
            let me = id("-un");
            (me.clone(), me, id("-u"), id("-g"))
        };
        let group = if internal == "dovecot" {
            "dovecot".to_owned()
        } else {
            id("-gn")
        };
        let (imap, imaps) = (free_port(), free_port());
        let d = dir.display();
        let conf = format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
             protocols = imap\nlisten = 127.0.0.1\n\
             ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n\
             disable_plaintext_auth = no\nauth_mechanisms = plain login\n\
             default_internal_user = {internal}\ndefault_internal_group = {group}\n\
             default_login_user = {login}\n\
             mail_location = maildir:{d}/mail/%u\n\
             passdb {{\n  driver = static\n  args = password={PASSWORD}\n}}\n\
             userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={d}/mail/%u\n}}\n\
             service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {imap}\n  }}\n\
               inet_listener imaps {{\n    address = 127.0.0.1\n    port = {imaps}\n  }}\n}}\n\
             service anvil {{\n  chroot =\n}}\n",
            cert = cert.display(),
            key = key.display(),
        );
        std::fs::write(dir.join("dovecot.conf"), conf).unwrap();
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(dir.join("dovecot.conf"))
            .spawn()
            .expect("dovecot starts");
        let dovecot = Dovecot {
            dir,
            child,
            imap,
            imaps,
            ca: certs.ca,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", imap)).is_ok() {
                return Some(dovecot);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "dovecot did not start: {}",
            std::fs::read_to_string(dovecot.dir.join("dovecot.log")).unwrap_or_default()
        );
    }

    fn settings(&self, user: &str, folder: &str, tls: bool) -> ImapSettings {
        let (scheme, port) = if tls {
            ("imaps", self.imaps)
        } else {
            ("imap", self.imap)
        };
        ImapSettings {
            url: ImapUrl::parse(&format!("{scheme}://{user}@localhost:{port}/{folder}")).unwrap(),
            password: PASSWORD.into(),
            poll: Duration::from_millis(500),
            idle_max: Duration::from_secs(60),
            ca_file: tls.then(|| self.ca.clone()),
        }
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its login and auth processes too.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// What a mail client does to the folder from the other side: APPEND, CREATE, DELETE.
struct Mua {
    conn: BufReader<TcpStream>,
    tag: u32,
}

impl Mua {
    async fn login(port: u16, user: &str) -> Mua {
        let mut conn = BufReader::new(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
        let mut greeting = String::new();
        conn.read_line(&mut greeting).await.unwrap();
        let mut mua = Mua { conn, tag: 0 };
        mua.run(&format!("LOGIN {user} {PASSWORD}"), b"").await;
        mua
    }

    /// Sends a command (with an optional LITERAL+ payload) and returns every line up to
    /// its tagged OK.
    async fn run(&mut self, command: &str, literal: &[u8]) -> Vec<String> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        let mut out = format!("{tag} {command}").into_bytes();
        if !literal.is_empty() {
            out.extend_from_slice(format!(" {{{}+}}\r\n", literal.len()).as_bytes());
            out.extend_from_slice(literal);
        }
        out.extend_from_slice(b"\r\n");
        self.conn.get_mut().write_all(&out).await.unwrap();
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            self.conn.read_line(&mut line).await.unwrap();
            assert!(!line.is_empty(), "dovecot hung up after {command}");
            if let Some(rest) = line.strip_prefix(&format!("{tag} ")) {
                assert!(rest.starts_with("OK"), "{command}: {rest}");
                return lines;
            }
            lines.push(line);
        }
    }

    async fn append(&mut self, folder: &str, raw: &str) {
        let raw = raw.replace("\r\n", "\n").replace('\n', "\r\n");
        self.run(&format!("APPEND {folder}"), raw.as_bytes()).await;
    }

    async fn unseen(&mut self, folder: &str) -> usize {
        self.run(&format!("SELECT {folder}"), b"").await;
        let lines = self.run("SEARCH UNSEEN", b"").await;
        let n = lines
            .iter()
            .filter_map(|l| l.strip_prefix("* SEARCH"))
            .map(|s| s.split_whitespace().count())
            .sum();
        self.run("CLOSE", b"").await;
        n
    }
}

fn mail(n: u32, subject: &str, extra: &str, body: &str) -> String {
    format!(
        "From: Robin Vale <robin@example.org>\nTo: support@desk.test\nSubject: {subject}\n\
         Message-ID: <imap-{n}-{}@example.org>\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n{extra}\
         Content-Type: text/plain; charset=utf-8\n\n{body}\n",
        std::process::id()
    )
}

async fn count_by_subject(store: &Arc<Store>) -> BTreeMap<String, Vec<MailState>> {
    let mut by = BTreeMap::<String, Vec<MailState>>::new();
    for m in store.inbound_mail(None, None, 1000).await.unwrap() {
        assert_eq!(m.source, "imap");
        by.entry(m.subject.clone().unwrap_or_default())
            .or_default()
            .push(m.state);
    }
    by
}

/// Waits until `n` messages are handled, then a little longer, and checks no more came.
async fn settle(store: &Arc<Store>, n: usize) -> Vec<recourse_store::InboundMailSummary> {
    wait_for(store, n).await;
    // Longer than a poll interval: a message read twice would show up by now.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let all = store.inbound_mail(None, None, 1000).await.unwrap();
    assert_eq!(
        all.len(),
        n,
        "each message is stored exactly once: {all:#?}"
    );
    all
}

async fn story_imap(store: Arc<Store>, dovecot: &Dovecot, user: &str) {
    let small = Arc::new(MailConfig {
        max_message_bytes: 64 * 1024,
        ..(*config()).clone()
    });
    let pipeline = Arc::new(Pipeline::new(store.clone(), small));
    let mut mua = Mua::login(dovecot.imap, user).await;
    mua.append(
        "INBOX",
        &mail(
            1,
            "Wrong size delivered",
            "",
            "The shoes are a size too small.",
        ),
    )
    .await;
    mua.append(
        "INBOX",
        &mail(
            2,
            "Out of office",
            "Auto-Submitted: auto-replied\n",
            "I am away until Monday.",
        ),
    )
    .await;
    mua.append(
        "INBOX",
        &mail(3, "Photos of the damage", "", &"x".repeat(100 * 1024)),
    )
    .await;

    let settings = dovecot.settings(user, "INBOX", false);
    let first = tokio::spawn(recourse_mail::imap::run(settings.clone(), pipeline.clone()));
    settle(&store, 3).await;
    let by = count_by_subject(&store).await;
    assert_eq!(by["Wrong size delivered"], [MailState::Ticket]);
    assert_eq!(by["Out of office"], [MailState::AutoReply]);
    let q = store
        .inbound_mail(Some(MailState::Quarantined), None, 10)
        .await
        .unwrap();
    assert_eq!(q.len(), 1);
    assert!(
        q[0].reason.as_deref().unwrap().contains("only its header"),
        "{q:?}"
    );

    // While the poller idles, a reply to the ticket arrives and is threaded.
    let ticket_id = store
        .inbound_mail(Some(MailState::Ticket), None, 10)
        .await
        .unwrap()[0]
        .ticket_id
        .unwrap();
    let number = store.get_ticket(ticket_id).await.unwrap().number;
    mua.append(
        "INBOX",
        &mail(
            4,
            &format!("Re: [#{number}] Wrong size delivered"),
            "",
            "Any news on the exchange?",
        ),
    )
    .await;
    settle(&store, 4).await;
    assert_eq!(store.messages(ticket_id).await.unwrap().len(), 2);

    // Down for a while: what arrives meanwhile is read after the restart, once.
    first.abort();
    let _ = first.await;
    mua.append(
        "INBOX",
        &mail(5, "Refund not received", "", "It has been two weeks."),
    )
    .await;
    mua.append(
        "INBOX",
        &mail(6, "Address change", "", "Please ship to my office."),
    )
    .await;
    let second = tokio::spawn(recourse_mail::imap::run(settings.clone(), pipeline.clone()));
    settle(&store, 6).await;

    // Two nodes polling the same folder store each message once.
    let third = tokio::spawn(recourse_mail::imap::run(settings.clone(), pipeline.clone()));
    for n in 7..10 {
        mua.append(
            "INBOX",
            &mail(n, &format!("Question {n}"), "", "When do you open?"),
        )
        .await;
    }
    settle(&store, 9).await;
    assert_eq!(
        mua.unseen("INBOX").await,
        0,
        "every message taken is flagged seen"
    );
    let cursor = store
        .imap_cursor(&settings.url.account())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cursor.last_uid, 9);
    second.abort();
    third.abort();

    // A folder recreated under a new UIDVALIDITY is read again from the start; the
    // message we already had is recognised by its Message-ID.
    mua.run("CREATE Support", b"").await;
    let support = dovecot.settings(user, "Support", false);
    mua.append(
        "Support",
        &mail(10, "Gift card", "", "The code does not work."),
    )
    .await;
    let poller = tokio::spawn(recourse_mail::imap::run(support.clone(), pipeline.clone()));
    settle(&store, 10).await;
    poller.abort();
    let _ = poller.await;
    let before = store
        .imap_cursor(&support.url.account())
        .await
        .unwrap()
        .unwrap();
    mua.run("DELETE Support", b"").await;
    mua.run("CREATE Support", b"").await;
    mua.append(
        "Support",
        &mail(10, "Gift card", "", "The code does not work."),
    )
    .await;
    mua.append("Support", &mail(11, "Gift card again", "", "Still broken."))
        .await;
    let poller = tokio::spawn(recourse_mail::imap::run(support.clone(), pipeline.clone()));
    settle(&store, 12).await;
    poller.abort();
    let after = store
        .imap_cursor(&support.url.account())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(before.uidvalidity, after.uidvalidity);
    let by = count_by_subject(&store).await;
    let gift = &by["Gift card"];
    assert_eq!(gift.len(), 2, "{gift:?}");
    assert!(gift.contains(&MailState::Duplicate) && gift.contains(&MailState::Ticket));
    assert_eq!(by["Gift card again"], [MailState::Ticket]);
}

#[tokio::test]
async fn imap_poller_sqlite() {
    let Some(dovecot) = Dovecot::start("sqlite") else {
        return;
    };
    story_imap(sqlite().await, &dovecot, "desk-sqlite").await;
}

#[tokio::test]
async fn imap_poller_postgres() {
    let Some(store) = postgres().await else {
        return;
    };
    let Some(dovecot) = Dovecot::start("postgres") else {
        return;
    };
    story_imap(store, &dovecot, "desk-postgres").await;
}

#[tokio::test]
async fn imaps_poller_trusts_the_configured_ca() {
    let Some(dovecot) = Dovecot::start("imaps") else {
        return;
    };
    let store = sqlite().await;
    let pipeline = Arc::new(Pipeline::new(store.clone(), config()));
    let mut mua = Mua::login(dovecot.imap, "desk-tls").await;
    mua.append(
        "INBOX",
        &mail(1, "Sent to the TLS mailbox", "", "Hello over TLS."),
    )
    .await;
    let poller = tokio::spawn(recourse_mail::imap::run(
        dovecot.settings("desk-tls", "INBOX", true),
        pipeline,
    ));
    let all = wait_for(&store, 1).await;
    poller.abort();
    assert_eq!(all[0].state, MailState::Ticket);
    assert_eq!(all[0].subject.as_deref(), Some("Sent to the TLS mailbox"));
}
