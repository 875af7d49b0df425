//! The SMTP listener built into `recourse serve`: enough of RFC 5321 for mail servers
//! to deliver to the desk (EHLO, SIZE, 8BITMIME, PIPELINING, and STARTTLS when a
//! certificate is configured). A message is answered `250` only once it is stored; it
//! is handled after that, off the connection, so a slow or broken message never keeps
//! a sender waiting or blocks the next one.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

use crate::pipeline::{Incoming, Pipeline};

/// Longest command line we read (RFC 5321 asks for 512; we allow some slack).
const MAX_COMMAND: usize = 2048;
/// Longest line inside DATA we accept without calling the message broken.
const MAX_DATA_LINE: usize = 256 * 1024;
const MAX_RECIPIENTS: usize = 100;
/// How long a client may stay silent before we hang up.
const IDLE: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    #[error("the connection failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the client was silent for too long")]
    Timeout,
    #[error("the client sent a line longer than {0} bytes")]
    LineTooLong(usize),
    #[error("the client sent commands after STARTTLS before the TLS handshake")]
    PipelinedStartTls,
}

/// What one connection needs: where stored messages go, and the certificate to offer
/// with STARTTLS (none: the command is refused with 454).
struct Listener {
    pipeline: Arc<Pipeline>,
    processor: mpsc::Sender<i64>,
    tls: Option<TlsAcceptor>,
}

/// Accepts connections until the task is dropped. Stored messages are handed to
/// `workers` background tasks; if they fall behind, the periodic recovery pass in
/// [`crate::pipeline::run_recovery`] picks the rest up from the store.
pub async fn serve(
    listener: TcpListener,
    pipeline: Arc<Pipeline>,
    workers: usize,
    tls: Option<Arc<rustls::ServerConfig>>,
) {
    let (tx, rx) = mpsc::channel::<i64>(4096);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    for _ in 0..workers.max(1) {
        let rx = rx.clone();
        let pipeline = pipeline.clone();
        tokio::spawn(async move {
            loop {
                let next = rx.lock().await.recv().await;
                let Some(id) = next else { return };
                if let Err(e) = pipeline.process(id).await {
                    tracing::warn!(inbound = id, error = %e, "handling mail failed; it stays stored and is retried");
                }
            }
        });
    }
    let shared = Arc::new(Listener {
        pipeline,
        processor: tx,
        tls: tls.map(TlsAcceptor::from),
    });
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "accepting an SMTP connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let ctx = shared.clone();
        tokio::spawn(async move {
            if let Err(e) = session(stream, ctx).await {
                tracing::debug!(%peer, error = %e, "SMTP session ended");
            }
        });
    }
}

/// Reads one line (up to and including `\n`) into `buf`, refusing lines over `limit`.
/// Returns `false` at end of input.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
) -> Result<bool, SmtpError> {
    buf.clear();
    loop {
        let available = tokio::time::timeout(IDLE, reader.fill_buf())
            .await
            .map_err(|_| SmtpError::Timeout)??;
        if available.is_empty() {
            return Ok(!buf.is_empty());
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        buf.extend_from_slice(&available[..take]);
        reader.consume(take);
        if buf.len() > limit {
            return Err(SmtpError::LineTooLong(limit));
        }
        if done {
            return Ok(true);
        }
    }
}

async fn reply<W: AsyncWrite + Unpin>(w: &mut W, text: &str) -> Result<(), SmtpError> {
    w.write_all(text.as_bytes()).await?;
    w.write_all(b"\r\n").await?;
    w.flush().await?;
    Ok(())
}

/// `FROM:<a@b> SIZE=10` → (`a@b`, [`SIZE=10`]).
fn path_and_params<'a>(arg: &'a str, keyword: &str) -> Option<(String, Vec<&'a str>)> {
    let rest = arg.get(keyword.len()..)?;
    if !arg[..keyword.len()].eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = rest.trim_start();
    let (path, params) = if let Some(stripped) = rest.strip_prefix('<') {
        let end = stripped.find('>')?;
        (&stripped[..end], &stripped[end + 1..])
    } else {
        // Lenient: some clients leave out the brackets.
        rest.split_once(' ').unwrap_or((rest, ""))
    };
    // A source route (`@a,@b:user@host`) is obsolete; only the mailbox counts.
    let path = path.rsplit(':').next().unwrap_or(path);
    Some((path.trim().to_owned(), params.split_whitespace().collect()))
}

struct Envelope {
    from: Option<String>,
    to: Vec<String>,
}

/// How a stretch of conversation ended.
enum After {
    Quit,
    StartTls,
}

async fn session(stream: TcpStream, ctx: Arc<Listener>) -> Result<(), SmtpError> {
    stream.set_nodelay(true).ok();
    let mut conn = BufReader::with_capacity(64 * 1024, stream);
    let domain = &ctx.pipeline.config().domain;
    reply(&mut conn, &format!("220 {domain} Recourse ESMTP ready")).await?;
    match converse(&mut conn, &ctx, false).await? {
        After::Quit => Ok(()),
        After::StartTls => {
            // Anything already buffered came in the clear and could have been injected
            // by someone in the middle (RFC 3207 §4.2): refuse rather than run it.
            if !conn.buffer().is_empty() {
                return Err(SmtpError::PipelinedStartTls);
            }
            let acceptor = ctx.tls.clone().expect("STARTTLS is offered only with TLS");
            let tls = tokio::time::timeout(IDLE, acceptor.accept(conn.into_inner()))
                .await
                .map_err(|_| SmtpError::Timeout)??;
            let mut conn = BufReader::with_capacity(64 * 1024, tls);
            converse(&mut conn, &ctx, true).await.map(|_| ())
        }
    }
}

/// The command loop, over the plain connection or, after STARTTLS, the encrypted one;
/// a new stretch starts with no greeting and no envelope, as RFC 3207 asks.
async fn converse<S>(conn: &mut S, ctx: &Listener, secure: bool) -> Result<After, SmtpError>
where
    S: AsyncBufRead + AsyncWrite + Unpin,
{
    let pipeline = &ctx.pipeline;
    let config = pipeline.config();
    let domain = config.domain.clone();
    let max = config.max_message_bytes;
    let offer_tls = ctx.tls.is_some() && !secure;
    let mut envelope: Option<Envelope> = None;
    let mut greeted = false;
    let mut line = Vec::new();
    loop {
        if !read_line(conn, &mut line, MAX_COMMAND).await? {
            return Ok(After::Quit);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                greeted = true;
                envelope = None;
                let mut lines = vec![
                    format!("250-{domain} at your service"),
                    format!("250-SIZE {max}"),
                    "250-8BITMIME".into(),
                    "250-PIPELINING".into(),
                ];
                if offer_tls {
                    lines.push("250-STARTTLS".into());
                }
                lines.push("250 ENHANCEDSTATUSCODES".into());
                reply(conn, &lines.join("\r\n")).await?;
            }
            "HELO" => {
                greeted = true;
                envelope = None;
                reply(conn, &format!("250 {domain}")).await?;
            }
            "MAIL" => {
                if !greeted {
                    reply(conn, "503 5.5.1 Say EHLO first").await?;
                    continue;
                }
                if envelope.is_some() {
                    reply(conn, "503 5.5.1 A message is already under way").await?;
                    continue;
                }
                let Some((from, params)) = path_and_params(arg, "FROM:") else {
                    reply(conn, "501 5.5.4 Syntax: MAIL FROM:<address>").await?;
                    continue;
                };
                let declared = params.iter().find_map(|p| {
                    p.get(..5)
                        .filter(|k| k.eq_ignore_ascii_case("SIZE="))
                        .and_then(|_| p[5..].parse::<usize>().ok())
                });
                if declared.is_some_and(|s| s > max) {
                    reply(
                        conn,
                        &format!("552 5.3.4 Messages may be at most {max} bytes"),
                    )
                    .await?;
                    continue;
                }
                envelope = Some(Envelope {
                    from: Some(from),
                    to: Vec::new(),
                });
                reply(conn, "250 2.1.0 Sender OK").await?;
            }
            "RCPT" => {
                let Some(env) = envelope.as_mut() else {
                    reply(conn, "503 5.5.1 MAIL FROM first").await?;
                    continue;
                };
                let Some((to, _)) = path_and_params(arg, "TO:") else {
                    reply(conn, "501 5.5.4 Syntax: RCPT TO:<address>").await?;
                    continue;
                };
                if env.to.len() >= MAX_RECIPIENTS {
                    reply(conn, "452 4.5.3 Too many recipients").await?;
                    continue;
                }
                match accepts(pipeline, &to).await {
                    Ok(true) => {
                        env.to.push(to.to_lowercase());
                        reply(conn, "250 2.1.5 Recipient OK").await?;
                    }
                    Ok(false) => {
                        reply(conn, "550 5.1.1 No such mailbox here").await?;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "looking up mailboxes failed");
                        reply(conn, "451 4.3.0 Try again later").await?;
                    }
                }
            }
            "DATA" => {
                let Some(env) = envelope.take() else {
                    reply(conn, "503 5.5.1 MAIL FROM first").await?;
                    continue;
                };
                if env.to.is_empty() {
                    reply(conn, "554 5.5.1 No valid recipients").await?;
                    continue;
                }
                reply(conn, "354 Go ahead; end with <CRLF>.<CRLF>").await?;
                let Some(raw) = read_data(conn, &mut line, max).await? else {
                    reply(
                        conn,
                        &format!("552 5.3.4 Messages may be at most {max} bytes"),
                    )
                    .await?;
                    continue;
                };
                let incoming = Incoming {
                    source: "smtp",
                    envelope_from: env.from,
                    envelope_to: env.to,
                    raw,
                };
                match pipeline.receive(incoming).await {
                    Ok(id) => {
                        // Stored: from here on the message survives anything.
                        reply(conn, &format!("250 2.0.0 Stored as {id}")).await?;
                        // A full queue is fine: the recovery pass finds it in the store.
                        let _ = ctx.processor.try_send(id);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "storing received mail failed");
                        reply(
                            conn,
                            "451 4.3.0 Could not store the message; try again later",
                        )
                        .await?;
                    }
                }
            }
            "RSET" => {
                envelope = None;
                reply(conn, "250 2.0.0 OK").await?;
            }
            "NOOP" => reply(conn, "250 2.0.0 OK").await?,
            "VRFY" => reply(conn, "252 2.1.5 Send some mail and we will see").await?,
            "HELP" => reply(conn, "214 2.0.0 EHLO MAIL RCPT DATA RSET NOOP QUIT").await?,
            "QUIT" => {
                reply(conn, &format!("221 2.0.0 {domain} closing")).await?;
                return Ok(After::Quit);
            }
            "STARTTLS" if secure => {
                reply(conn, "503 5.5.1 TLS is already in use").await?;
            }
            "STARTTLS" if !arg.is_empty() => {
                reply(conn, "501 5.5.4 STARTTLS takes no arguments").await?;
            }
            "STARTTLS" if offer_tls => {
                reply(conn, "220 2.0.0 Ready to start TLS").await?;
                return Ok(After::StartTls);
            }
            "STARTTLS" => reply(conn, "454 4.7.0 TLS is not available").await?,
            _ => reply(conn, "500 5.5.2 Command not recognised").await?,
        }
    }
}

/// Reads DATA up to the lone dot, undoing dot-stuffing. `None` when it was too big
/// (read to the end anyway, so the session can go on).
async fn read_data<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
    max: usize,
) -> Result<Option<Vec<u8>>, SmtpError> {
    let mut data = Vec::with_capacity(16 * 1024);
    let mut too_big = false;
    loop {
        if !read_line(reader, line, MAX_DATA_LINE).await? {
            return Err(SmtpError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        if line == b".\r\n" || line == b".\n" {
            break;
        }
        if too_big {
            continue;
        }
        let content = if line.first() == Some(&b'.') {
            &line[1..]
        } else {
            &line[..]
        };
        data.extend_from_slice(content);
        if data.len() > max {
            too_big = true;
            data = Vec::new();
        }
    }
    Ok((!too_big).then_some(data))
}

/// Whether mail for `address` is ours: a configured mailbox, or, while none are
/// configured, any address at the desk's mail domain.
async fn accepts(pipeline: &Pipeline, address: &str) -> Result<bool, recourse_store::StoreError> {
    let address = address.to_lowercase();
    let boxes = pipeline.store().mailboxes().await?;
    if boxes.is_empty() {
        let domain = pipeline.config().domain.to_lowercase();
        return Ok(address.rsplit_once('@').is_some_and(|(_, d)| d == domain));
    }
    Ok(boxes.iter().any(|b| b.address == address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_parameters() {
        assert_eq!(
            path_and_params("FROM:<a@b.c> SIZE=100 BODY=8BITMIME", "FROM:"),
            Some(("a@b.c".into(), vec!["SIZE=100", "BODY=8BITMIME"]))
        );
        assert_eq!(
            path_and_params("from: <>", "FROM:"),
            Some((String::new(), vec![]))
        );
        assert_eq!(
            path_and_params("TO:<@relay:x@y.z>", "TO:"),
            Some(("x@y.z".into(), vec![]))
        );
        assert_eq!(path_and_params("XYZ", "TO:"), None);
    }
}
