//! The IMAP poller: reads new messages from one folder of an existing mailbox and
//! hands them to the same pipeline as the SMTP listener.
//!
//! Nothing is read twice or skipped: the folder's cursor (UIDVALIDITY and the last UID
//! taken) moves in the same transaction that stores the message, so a crash between
//! the two is impossible, and two nodes polling the same folder cannot both store one
//! message. Messages are fetched with `BODY.PEEK[]` and then flagged `\Seen`, so people
//! looking at the mailbox see what the desk has taken. Where the server offers IDLE the
//! poller waits on it instead of polling.
//!
//! A small client written for exactly this job (LOGIN, SELECT, UID SEARCH/FETCH/STORE,
//! IDLE) rather than a general IMAP library: the responses it reads are few and literal
//! handling is the only subtle part.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use recourse_store::{ImapCursor, NewInboundMail};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::io::{BufReader, BufWriter};
use tokio::net::TcpStream;

use crate::mime::sha256_hex;
use crate::now;
use crate::pipeline::{Pipeline, PipelineError};

/// Longest response line we read outside literals.
const MAX_LINE: usize = 64 * 1024;
/// UIDs fetched per round trip.
const CHUNK: usize = 25;
/// How long the server may stay silent in the middle of a command.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("`{0}` is not an IMAP address; expected imap://user@host[:port]/folder or imaps://…")]
    BadUrl(String),
    #[error("the connection failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("the server was silent for too long")]
    Timeout,
    #[error("the server sent something we cannot read: {0}")]
    Protocol(String),
    #[error("the server refused `{command}`: {answer}")]
    Refused { command: String, answer: String },
    #[error("the server ended the session: {0}")]
    Bye(String),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Store(#[from] recourse_store::StoreError),
}

/// Where the mailbox is: `imap://user@host:143/INBOX` (plain, for loopback and trusted
/// networks) or `imaps://user@host:993/INBOX` (TLS). `%40` in the user stands for `@`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapUrl {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub folder: String,
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl ImapUrl {
    pub fn parse(url: &str) -> Result<ImapUrl, ImapError> {
        let bad = || ImapError::BadUrl(url.to_owned());
        let (tls, rest) = if let Some(r) = url.strip_prefix("imaps://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("imap://") {
            (false, r)
        } else {
            return Err(bad());
        };
        let (authority, folder) = rest.split_once('/').unwrap_or((rest, "INBOX"));
        let (user, hostport) = authority.rsplit_once('@').ok_or_else(bad)?;
        if user.contains(':') {
            // A password in the URL would end up in process listings and logs.
            return Err(ImapError::BadUrl(
                "the IMAP URL must not hold a password; use --imap-password-file".into(),
            ));
        }
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
            None => (hostport, if tls { 993 } else { 143 }),
        };
        let user = percent_decode(user).ok_or_else(bad)?;
        let folder =
            percent_decode(if folder.is_empty() { "INBOX" } else { folder }).ok_or_else(bad)?;
        if host.is_empty() || user.is_empty() || folder.chars().any(|c| c.is_control()) {
            return Err(bad());
        }
        Ok(ImapUrl {
            tls,
            host: host.trim_matches(['[', ']']).to_owned(),
            port,
            user,
            folder,
        })
    }

    /// The cursor's key: one per user, server and folder.
    pub fn account(&self) -> String {
        format!("{}@{}:{}/{}", self.user, self.host, self.port, self.folder)
    }
}

/// Everything the poller needs. The password is kept out of `Debug`.
#[derive(Clone)]
pub struct ImapSettings {
    pub url: ImapUrl,
    pub password: String,
    /// Between checks when the server has no IDLE.
    pub poll: Duration,
    /// Longest single IDLE before it is renewed (servers drop idlers after 30 min).
    pub idle_max: Duration,
    /// One more CA to trust for `imaps://`, besides the system's.
    pub ca_file: Option<PathBuf>,
}

impl fmt::Debug for ImapSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapSettings")
            .field("url", &self.url)
            .field("password", &"[hidden]")
            .field("poll", &self.poll)
            .field("idle_max", &self.idle_max)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// Polls until the task is dropped, reconnecting with backoff after any failure.
pub async fn run(settings: ImapSettings, pipeline: Arc<Pipeline>) {
    let mut backoff = Duration::from_secs(1);
    loop {
        match session(&settings, &pipeline).await {
            Ok(()) => backoff = Duration::from_secs(1),
            Err(e) => {
                tracing::warn!(account = %settings.url.account(), error = %e, retry_in = ?backoff, "IMAP polling failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    }
}

/// One connection: log in, take everything new, then wait for more until the
/// connection ends. `Ok` when the server closed it politely.
async fn session(settings: &ImapSettings, pipeline: &Pipeline) -> Result<(), ImapError> {
    let mut client = Client::connect(settings).await?;
    client.login(&settings.url.user, &settings.password).await?;
    let idle = client.capabilities().await?.iter().any(|c| c == "IDLE");
    let account = settings.url.account();
    loop {
        let uidvalidity = client.select(&settings.url.folder).await?;
        take_new(&mut client, pipeline, &account, uidvalidity).await?;
        if idle {
            client.idle(settings.idle_max).await?;
        } else {
            tokio::time::sleep(settings.poll).await;
        }
    }
}

/// Stores every message above the cursor, in UID order.
async fn take_new(
    client: &mut Client,
    pipeline: &Pipeline,
    account: &str,
    uidvalidity: i64,
) -> Result<usize, ImapError> {
    let store = pipeline.store();
    let last = match store.imap_cursor(account).await? {
        Some(c) if c.uidvalidity == uidvalidity => c.last_uid,
        found => {
            if found.is_some() {
                tracing::warn!(%account, uidvalidity, "the folder's UIDVALIDITY changed; reading it again from the start");
            }
            store.reset_imap_cursor(account, uidvalidity, now()).await?;
            0
        }
    };
    let mut uids = client.search_above(last).await?;
    uids.sort_unstable();
    let max_bytes = pipeline.config().max_message_bytes as i64;
    let mut taken = 0;
    for chunk in uids.chunks(CHUNK) {
        let set = uid_set(chunk);
        let sizes = client.sizes(&set).await?;
        for &uid in chunk {
            let size = sizes
                .iter()
                .find(|(u, _)| *u == uid)
                .map(|(_, s)| *s)
                .unwrap_or(0);
            let oversize = size > max_bytes;
            // An oversize message is kept by its header alone, then quarantined with the
            // reason; the whole message stays in the folder.
            let raw = client.fetch_one(uid, oversize).await?;
            let mail = NewInboundMail {
                source: "imap".into(),
                envelope_from: None,
                envelope_to: Vec::new(),
                sha256: sha256_hex(&raw),
                raw,
                now: now(),
            };
            let at = ImapCursor {
                uidvalidity,
                last_uid: uid,
            };
            let Some(id) = store.store_imap_mail(mail, account, at).await? else {
                // Another node took it first.
                continue;
            };
            taken += 1;
            if oversize {
                let reason = format!(
                    "the message is {size} bytes, over the limit of {max_bytes} bytes; only its header was \
                     taken, the whole message is still in the IMAP folder (UID {uid})"
                );
                pipeline.quarantine_received(id, reason).await?;
            } else if let Err(e) = pipeline.process(id).await {
                tracing::warn!(inbound = id, error = %e, "handling mail failed; it stays stored and is retried");
            }
            // Only a courtesy to people reading the mailbox; a read-only folder is fine.
            if let Err(e) = client.mark_seen(uid).await {
                tracing::debug!(uid, error = %e, "could not flag a message as seen");
            }
        }
    }
    Ok(taken)
}

/// `[3, 4, 5, 9]` → `3:5,9`.
fn uid_set(uids: &[i64]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end + 1 {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// An IMAP string argument: quoted, or refused if it could break the command line.
fn quoted(s: &str) -> Result<String, ImapError> {
    if s.chars().any(|c| matches!(c, '\r' | '\n' | '\0')) {
        return Err(ImapError::Protocol(
            "a user name, password or folder holds a line break".into(),
        ));
    }
    Ok(format!(
        "\"{}\"",
        s.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// One server response: its text with each literal replaced by `{}`, and the literals.
#[derive(Debug, Default)]
struct Response {
    text: String,
    literals: Vec<Vec<u8>>,
}

impl Response {
    fn is_untagged(&self) -> bool {
        self.text.starts_with("* ")
    }

    /// The number after `key ` anywhere in the text (`UID 12`, `RFC822.SIZE 300`).
    fn number_after(&self, key: &str) -> Option<i64> {
        let mut rest = self.text.as_str();
        while let Some(at) = rest.find(key) {
            let before_ok = at == 0 || !rest.as_bytes()[at - 1].is_ascii_alphanumeric();
            let after = &rest[at + key.len()..];
            if before_ok && let Some(num) = after.strip_prefix(' ') {
                let digits: String = num.chars().take_while(|c| c.is_ascii_digit()).collect();
                if let Ok(n) = digits.parse() {
                    return Some(n);
                }
            }
            rest = &rest[at + key.len()..];
        }
        None
    }

    /// The value of a response code such as `[UIDVALIDITY 3857529045]`.
    fn code(&self, name: &str) -> Option<i64> {
        let start = self.text.find(&format!("[{name} "))? + name.len() + 2;
        let digits: String = self.text[start..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.parse().ok()
    }
}

/// The tagged completion of command `tag`, if `response` is it: `OK`, or the refusal.
fn completion(response: &Response, tag: &str, shown: &str) -> Option<Result<(), ImapError>> {
    let rest = response.text.strip_prefix(tag)?.strip_prefix(' ')?;
    if rest.get(..2).is_some_and(|s| s.eq_ignore_ascii_case("OK")) {
        return Some(Ok(()));
    }
    Some(Err(ImapError::Refused {
        command: shown.to_owned(),
        answer: rest.to_owned(),
    }))
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

struct Client {
    conn: BufReader<BufWriter<Box<dyn Io>>>,
    next_tag: u32,
    max_literal: usize,
}

impl Client {
    async fn connect(settings: &ImapSettings) -> Result<Client, ImapError> {
        let url = &settings.url;
        let tcp = tokio::time::timeout(
            COMMAND_TIMEOUT,
            TcpStream::connect((url.host.as_str(), url.port)),
        )
        .await
        .map_err(|_| ImapError::Timeout)??;
        tcp.set_nodelay(true).ok();
        let io: Box<dyn Io> = if url.tls {
            let config = crate::tls::client_config(settings.ca_file.as_deref())?;
            let name = rustls::pki_types::ServerName::try_from(url.host.clone())
                .map_err(|_| ImapError::BadUrl(url.host.clone()))?;
            let tls = tokio::time::timeout(
                COMMAND_TIMEOUT,
                tokio_rustls::TlsConnector::from(config).connect(name, tcp),
            )
            .await
            .map_err(|_| ImapError::Timeout)??;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        let mut client = Client {
            conn: BufReader::with_capacity(64 * 1024, BufWriter::new(io)),
            next_tag: 1,
            // Room for the largest message we take plus its header when oversize.
            max_literal: 64 * 1024 * 1024,
        };
        let greeting = client.read_response().await?;
        if greeting.text.starts_with("* BYE") {
            return Err(ImapError::Bye(greeting.text));
        }
        if !greeting.text.starts_with("* OK") && !greeting.text.starts_with("* PREAUTH") {
            return Err(ImapError::Protocol(format!(
                "unexpected greeting: {}",
                greeting.text
            )));
        }
        Ok(client)
    }

    /// Reads one line into `buf`. `COMMAND_TIMEOUT` bounds the wait, except while idling
    /// (`patient`), when the server may rightly say nothing for a long time and the IDLE
    /// deadline bounds it instead.
    async fn read_line(&mut self, buf: &mut Vec<u8>, patient: bool) -> Result<(), ImapError> {
        buf.clear();
        loop {
            let available = if patient {
                self.conn.fill_buf().await?
            } else {
                tokio::time::timeout(COMMAND_TIMEOUT, self.conn.fill_buf())
                    .await
                    .map_err(|_| ImapError::Timeout)??
            };
            if available.is_empty() {
                return Err(ImapError::Io(std::io::ErrorKind::UnexpectedEof.into()));
            }
            let (take, done) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            buf.extend_from_slice(&available[..take]);
            self.conn.consume(take);
            if buf.len() > MAX_LINE {
                return Err(ImapError::Protocol("a response line is too long".into()));
            }
            if done {
                return Ok(());
            }
        }
    }

    /// Reads one whole response, following `{n}` literals to its real end.
    async fn read_response(&mut self) -> Result<Response, ImapError> {
        let mut response = Response::default();
        let mut line = Vec::new();
        loop {
            self.read_line(&mut line, false).await?;
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\r', '\n']);
            let literal = text
                .strip_suffix('}')
                .and_then(|t| t.rsplit_once('{'))
                .and_then(|(head, n)| Some((head, n.trim_end_matches('+').parse::<usize>().ok()?)));
            match literal {
                Some((head, n)) => {
                    if n > self.max_literal {
                        return Err(ImapError::Protocol(format!(
                            "a literal of {n} bytes is too large"
                        )));
                    }
                    response.text.push_str(head);
                    response.text.push_str("{}");
                    let mut bytes = vec![0; n];
                    tokio::time::timeout(COMMAND_TIMEOUT, self.conn.read_exact(&mut bytes))
                        .await
                        .map_err(|_| ImapError::Timeout)??;
                    response.literals.push(bytes);
                }
                None => {
                    response.text.push_str(text);
                    return Ok(response);
                }
            }
        }
    }

    async fn send(&mut self, line: &str) -> Result<(), ImapError> {
        let w = self.conn.get_mut();
        w.write_all(line.as_bytes()).await?;
        w.write_all(b"\r\n").await?;
        w.flush().await?;
        Ok(())
    }

    /// Sends a tagged command and gathers the untagged responses until its completion.
    /// `shown` is what errors may say the command was (never the password).
    async fn command(&mut self, command: &str, shown: &str) -> Result<Vec<Response>, ImapError> {
        let tag = format!("r{}", self.next_tag);
        self.next_tag += 1;
        self.send(&format!("{tag} {command}")).await?;
        let mut untagged = Vec::new();
        loop {
            let response = self.read_response().await?;
            if let Some(rest) = response
                .text
                .strip_prefix(&tag)
                .and_then(|r| r.strip_prefix(' '))
            {
                if rest.get(..2).is_some_and(|s| s.eq_ignore_ascii_case("OK")) {
                    return Ok(untagged);
                }
                return Err(ImapError::Refused {
                    command: shown.to_owned(),
                    answer: rest.to_owned(),
                });
            }
            if response.text.starts_with("* BYE") {
                return Err(ImapError::Bye(response.text));
            }
            untagged.push(response);
        }
    }

    async fn login(&mut self, user: &str, password: &str) -> Result<(), ImapError> {
        let command = format!("LOGIN {} {}", quoted(user)?, quoted(password)?);
        self.command(&command, "LOGIN").await?;
        Ok(())
    }

    async fn capabilities(&mut self) -> Result<Vec<String>, ImapError> {
        let responses = self.command("CAPABILITY", "CAPABILITY").await?;
        Ok(responses
            .iter()
            .filter_map(|r| r.text.strip_prefix("* CAPABILITY "))
            .flat_map(|caps| caps.split_whitespace().map(|c| c.to_ascii_uppercase()))
            .collect())
    }

    /// Opens the folder read-write and returns its UIDVALIDITY.
    async fn select(&mut self, folder: &str) -> Result<i64, ImapError> {
        let responses = self
            .command(&format!("SELECT {}", quoted(folder)?), "SELECT")
            .await?;
        responses
            .iter()
            .find_map(|r| r.code("UIDVALIDITY"))
            .ok_or_else(|| ImapError::Protocol("SELECT gave no UIDVALIDITY".into()))
    }

    /// UIDs above `last`. (`n:*` always includes the highest UID, even below `n`.)
    async fn search_above(&mut self, last: i64) -> Result<Vec<i64>, ImapError> {
        let responses = self
            .command(&format!("UID SEARCH UID {}:*", last + 1), "UID SEARCH")
            .await?;
        Ok(responses
            .iter()
            .filter_map(|r| r.text.strip_prefix("* SEARCH"))
            .flat_map(|s| s.split_whitespace().filter_map(|n| n.parse::<i64>().ok()))
            .filter(|&uid| uid > last)
            .collect())
    }

    async fn sizes(&mut self, set: &str) -> Result<Vec<(i64, i64)>, ImapError> {
        let responses = self
            .command(&format!("UID FETCH {set} (UID RFC822.SIZE)"), "UID FETCH")
            .await?;
        Ok(responses
            .iter()
            .filter(|r| r.is_untagged() && r.text.contains(" FETCH "))
            .filter_map(|r| Some((r.number_after("UID")?, r.number_after("RFC822.SIZE")?)))
            .collect())
    }

    /// The message's bytes exactly as stored on the server, without setting `\Seen`.
    async fn fetch_one(&mut self, uid: i64, header_only: bool) -> Result<Vec<u8>, ImapError> {
        let part = if header_only {
            "BODY.PEEK[HEADER]"
        } else {
            "BODY.PEEK[]"
        };
        let responses = self
            .command(&format!("UID FETCH {uid} (UID {part})"), "UID FETCH")
            .await?;
        for mut r in responses {
            if r.is_untagged() && r.text.contains(" FETCH ") && r.number_after("UID") == Some(uid) {
                if let Some(bytes) = r.literals.pop() {
                    return Ok(bytes);
                }
                // A tiny message may come as a quoted string rather than a literal.
                if let Some(q) = r.text.split_once(']').and_then(|(_, rest)| {
                    let rest = rest.trim_start().strip_prefix('"')?;
                    rest.rsplit_once('"').map(|(s, _)| s.to_owned())
                }) {
                    return Ok(q.replace("\\\"", "\"").replace("\\\\", "\\").into_bytes());
                }
            }
        }
        Err(ImapError::Protocol(format!(
            "UID {uid} vanished before it could be read"
        )))
    }

    async fn mark_seen(&mut self, uid: i64) -> Result<(), ImapError> {
        self.command(
            &format!("UID STORE {uid} +FLAGS.SILENT (\\Seen)"),
            "UID STORE",
        )
        .await?;
        Ok(())
    }

    /// Waits until the folder gets a new message, or `max` passes.
    async fn idle(&mut self, max: Duration) -> Result<(), ImapError> {
        let tag = format!("r{}", self.next_tag);
        self.next_tag += 1;
        self.send(&format!("{tag} IDLE")).await?;
        let ready = self.read_response().await?;
        if !ready.text.starts_with('+') {
            return Err(ImapError::Refused {
                command: "IDLE".into(),
                answer: ready.text,
            });
        }
        let deadline = tokio::time::Instant::now() + max;
        loop {
            let mut line = Vec::new();
            match tokio::time::timeout_at(deadline, self.read_line(&mut line, true)).await {
                Err(_) => break,
                Ok(read) => {
                    read?;
                    let text = String::from_utf8_lossy(&line);
                    let text = text.trim_end_matches(['\r', '\n']);
                    if text.starts_with("* BYE") {
                        return Err(ImapError::Bye(text.to_owned()));
                    }
                    if text.ends_with(" EXISTS") {
                        break;
                    }
                }
            }
        }
        self.send("DONE").await?;
        loop {
            let r = self.read_response().await?;
            if let Some(done) = completion(&r, &tag, "IDLE") {
                return done;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u =
            ImapUrl::parse("imaps://help%40shop.example@mail.example:993/Support/Inbox").unwrap();
        assert_eq!(
            u,
            ImapUrl {
                tls: true,
                host: "mail.example".into(),
                port: 993,
                user: "help@shop.example".into(),
                folder: "Support/Inbox".into(),
            }
        );
        assert_eq!(
            u.account(),
            "help@shop.example@mail.example:993/Support/Inbox"
        );
        let plain = ImapUrl::parse("imap://desk@127.0.0.1:1143").unwrap();
        assert_eq!(
            (plain.tls, plain.port, plain.folder.as_str()),
            (false, 1143, "INBOX")
        );
        assert_eq!(ImapUrl::parse("imap://desk@host").unwrap().port, 143);
        for bad in [
            "http://desk@host/INBOX",
            "imap://host/INBOX",
            "imap://desk:secret@host/INBOX",
            "imap://desk@host:notaport/INBOX",
            "imap://desk@/INBOX",
            "imap://desk@host/%zz",
        ] {
            assert!(ImapUrl::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn uid_sets_compress_runs() {
        assert_eq!(uid_set(&[3, 4, 5, 9]), "3:5,9");
        assert_eq!(uid_set(&[1]), "1");
        assert_eq!(uid_set(&[1, 3, 5, 6]), "1,3,5:6");
    }

    #[test]
    fn quoting_escapes_and_refuses_line_breaks() {
        assert_eq!(quoted(r#"pa"ss\word"#).unwrap(), r#""pa\"ss\\word""#);
        assert!(quoted("a\r\nb LOGOUT").is_err());
    }

    #[test]
    fn responses_give_numbers_and_codes() {
        let r = Response {
            text: "* 12 FETCH (UID 340 RFC822.SIZE 5120)".into(),
            literals: vec![],
        };
        assert_eq!(r.number_after("UID"), Some(340));
        assert_eq!(r.number_after("RFC822.SIZE"), Some(5120));
        let ok = Response {
            text: "* OK [UIDVALIDITY 1700000001] UIDs valid".into(),
            literals: vec![],
        };
        assert_eq!(ok.code("UIDVALIDITY"), Some(1_700_000_001));
        assert_eq!(ok.code("UIDNEXT"), None);
    }

    #[test]
    fn settings_hide_the_password() {
        let s = ImapSettings {
            url: ImapUrl::parse("imap://desk@host/INBOX").unwrap(),
            password: "hunter2-secret".into(),
            poll: Duration::from_secs(60),
            idle_max: Duration::from_secs(1500),
            ca_file: None,
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
