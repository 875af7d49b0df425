//! The SMTP listener built into `recourse serve`: enough of RFC 5321 for mail servers
//! to deliver to the desk (EHLO, SIZE, 8BITMIME, PIPELINING). A message is answered
//! `250` only once it is stored; it is handled after that, off the connection, so a
//! slow or broken message never keeps a sender waiting or blocks the next one.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

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
}

/// Accepts connections until the task is dropped. Stored messages are handed to
/// `workers` background tasks; if they fall behind, the periodic recovery pass in
/// [`crate::pipeline::run_recovery`] picks the rest up from the store.
pub async fn serve(listener: TcpListener, pipeline: Arc<Pipeline>, workers: usize) {
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
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "accepting an SMTP connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let pipeline = pipeline.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            if let Err(e) = session(stream, pipeline, tx).await {
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

async fn session(
    stream: TcpStream,
    pipeline: Arc<Pipeline>,
    processor: mpsc::Sender<i64>,
) -> Result<(), SmtpError> {
    stream.set_nodelay(true).ok();
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::with_capacity(64 * 1024, read);
    let config = pipeline.config();
    let domain = config.domain.clone();
    let max = config.max_message_bytes;
    reply(&mut write, &format!("220 {domain} Recourse ESMTP ready")).await?;
    let mut envelope: Option<Envelope> = None;
    let mut greeted = false;
    let mut line = Vec::new();
    loop {
        if !read_line(&mut reader, &mut line, MAX_COMMAND).await? {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                greeted = true;
                envelope = None;
                let lines = [
                    format!("250-{domain} at your service"),
                    format!("250-SIZE {max}"),
                    "250-8BITMIME".into(),
                    "250-PIPELINING".into(),
                    "250 ENHANCEDSTATUSCODES".into(),
                ];
                reply(&mut write, &lines.join("\r\n")).await?;
            }
            "HELO" => {
                greeted = true;
                envelope = None;
                reply(&mut write, &format!("250 {domain}")).await?;
            }
            "MAIL" => {
                if !greeted {
                    reply(&mut write, "503 5.5.1 Say EHLO first").await?;
                    continue;
                }
                if envelope.is_some() {
                    reply(&mut write, "503 5.5.1 A message is already under way").await?;
                    continue;
                }
                let Some((from, params)) = path_and_params(arg, "FROM:") else {
                    reply(&mut write, "501 5.5.4 Syntax: MAIL FROM:<address>").await?;
                    continue;
                };
                let declared = params.iter().find_map(|p| {
                    p.get(..5)
                        .filter(|k| k.eq_ignore_ascii_case("SIZE="))
                        .and_then(|_| p[5..].parse::<usize>().ok())
                });
                if declared.is_some_and(|s| s > max) {
                    reply(
                        &mut write,
                        &format!("552 5.3.4 Messages may be at most {max} bytes"),
                    )
                    .await?;
                    continue;
                }
                envelope = Some(Envelope {
                    from: Some(from),
                    to: Vec::new(),
                });
                reply(&mut write, "250 2.1.0 Sender OK").await?;
            }
            "RCPT" => {
                let Some(env) = envelope.as_mut() else {
                    reply(&mut write, "503 5.5.1 MAIL FROM first").await?;
                    continue;
                };
                let Some((to, _)) = path_and_params(arg, "TO:") else {
                    reply(&mut write, "501 5.5.4 Syntax: RCPT TO:<address>").await?;
                    continue;
                };
                if env.to.len() >= MAX_RECIPIENTS {
                    reply(&mut write, "452 4.5.3 Too many recipients").await?;
                    continue;
                }
                match accepts(&pipeline, &to).await {
                    Ok(true) => {
                        env.to.push(to.to_lowercase());
                        reply(&mut write, "250 2.1.5 Recipient OK").await?;
                    }
                    Ok(false) => {
                        reply(&mut write, "550 5.1.1 No such mailbox here").await?;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "looking up mailboxes failed");
                        reply(&mut write, "451 4.3.0 Try again later").await?;
                    }
                }
            }
            "DATA" => {
                let Some(env) = envelope.take() else {
                    reply(&mut write, "503 5.5.1 MAIL FROM first").await?;
                    continue;
                };
                if env.to.is_empty() {
                    reply(&mut write, "554 5.5.1 No valid recipients").await?;
                    continue;
                }
                reply(&mut write, "354 Go ahead; end with <CRLF>.<CRLF>").await?;
                let Some(raw) = read_data(&mut reader, &mut line, max).await? else {
                    reply(
                        &mut write,
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
                        reply(&mut write, &format!("250 2.0.0 Stored as {id}")).await?;
                        // A full queue is fine: the recovery pass finds it in the store.
                        let _ = processor.try_send(id);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "storing received mail failed");
                        reply(
                            &mut write,
                            "451 4.3.0 Could not store the message; try again later",
                        )
                        .await?;
                    }
                }
            }
            "RSET" => {
                envelope = None;
                reply(&mut write, "250 2.0.0 OK").await?;
            }
            "NOOP" => reply(&mut write, "250 2.0.0 OK").await?,
            "VRFY" => reply(&mut write, "252 2.1.5 Send some mail and we will see").await?,
            "HELP" => reply(&mut write, "214 2.0.0 EHLO MAIL RCPT DATA RSET NOOP QUIT").await?,
            "QUIT" => {
                reply(&mut write, &format!("221 2.0.0 {domain} closing")).await?;
                return Ok(());
            }
            "STARTTLS" => reply(&mut write, "454 4.7.0 TLS is not available").await?,
            _ => reply(&mut write, "500 5.5.2 Command not recognised").await?,
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
