//! STARTTLS on the SMTP listener: offered only with a certificate, a clean restart of
//! the conversation inside TLS, and commands smuggled in the clear after STARTTLS
//! refused. Certificates are made by Debian's `openssl` for each run.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// A throwaway CA and a certificate it signed for `localhost` and 127.0.0.1.
pub(crate) struct Certs {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn openssl(args: &[&str], dir: &Path) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed (CI installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn certificates(dir: &Path) -> Certs {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let ca = [
        &["req", "-x509"][..],
        &ec,
        &["-days", "2", "-subj", "/CN=Recourse test CA"],
    ]
    .concat();
    openssl(
        &[&ca[..], &["-keyout", "ca.key", "-out", "ca.pem"]].concat(),
        dir,
    );
    let leaf = [
        &["req"][..],
        &ec,
        &[
            "-subj",
            "/CN=localhost",
            "-keyout",
            "key.pem",
            "-out",
            "leaf.csr",
        ],
    ]
    .concat();
    openssl(&leaf, dir);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
            "-out",
            "cert.pem",
        ],
        dir,
    );
    Certs {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    }
}

pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("recourse-{name}-{}", unique()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn tls_listener(store: Arc<Store>, cert: &Path, key: &Path) -> std::net::SocketAddr {
    let pipeline = Arc::new(Pipeline::new(store, config()));
    let tls = recourse_mail::tls::server_config(cert, key).unwrap();
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(recourse_mail::smtp::serve(l, pipeline, 2, Some(tls)));
    addr
}

async fn answer<S: AsyncBufRead + Unpin>(conn: &mut S) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        conn.read_line(&mut line).await.unwrap();
        all.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] != b'-' {
            return all;
        }
    }
}

async fn say<S: AsyncBufRead + AsyncWrite + Unpin>(conn: &mut S, line: &str) -> String {
    conn.write_all(format!("{line}\r\n").as_bytes())
        .await
        .unwrap();
    conn.flush().await.unwrap();
    answer(conn).await
}

#[tokio::test]
async fn starttls_encrypts_the_conversation() {
    let dir = temp_dir("starttls");
    let certs = certificates(&dir);
    let store = sqlite().await;
    let addr = tls_listener(store.clone(), &certs.cert, &certs.key).await;

    let mut plain = BufReader::new(TcpStream::connect(addr).await.unwrap());
    assert!(answer(&mut plain).await.starts_with("220"));
    let ehlo = say(&mut plain, "EHLO client.example").await;
    assert!(ehlo.contains("250-STARTTLS"), "{ehlo}");
    assert!(say(&mut plain, "STARTTLS now").await.starts_with("501"));
    assert!(say(&mut plain, "STARTTLS").await.starts_with("220"));

    // The handshake, trusting the test's CA.
    let client = recourse_mail::tls::client_config(Some(&certs.ca)).unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(client)
        .connect(name, plain.into_inner())
        .await
        .expect("the listener completes a TLS handshake");
    let mut conn = BufReader::new(tls);
    // A new conversation: EHLO again, and STARTTLS is no longer offered.
    assert!(
        say(&mut conn, "MAIL FROM:<a@example.com>")
            .await
            .starts_with("503")
    );
    let ehlo = say(&mut conn, "EHLO client.example").await;
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    assert!(say(&mut conn, "STARTTLS").await.starts_with("503"));
    assert!(
        say(&mut conn, "MAIL FROM:<lee@example.com>")
            .await
            .starts_with("250")
    );
    assert!(
        say(&mut conn, "RCPT TO:<support@desk.test>")
            .await
            .starts_with("250")
    );
    assert!(say(&mut conn, "DATA").await.starts_with("354"));
    let stored = say(
        &mut conn,
        "From: Lee <lee@example.com>\r\nSubject: Sent over TLS\r\nMessage-ID: <tls-1@example.com>\r\n\r\n\
         The invoice address is wrong.\r\n.",
    )
    .await;
    assert!(stored.starts_with("250"), "{stored}");
    assert!(say(&mut conn, "QUIT").await.starts_with("221"));
    let all = wait_for(&store, 1).await;
    assert_eq!(all[0].state, MailState::Ticket);
    assert_eq!(all[0].subject.as_deref(), Some("Sent over TLS"));
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn commands_pipelined_after_starttls_are_refused() {
    let dir = temp_dir("starttls-inject");
    let certs = certificates(&dir);
    let store = sqlite().await;
    let addr = tls_listener(store.clone(), &certs.cert, &certs.key).await;
    let mut plain = BufReader::new(TcpStream::connect(addr).await.unwrap());
    answer(&mut plain).await;
    say(&mut plain, "EHLO client.example").await;
    // Someone in the middle appends a command after STARTTLS, hoping it runs inside TLS.
    plain
        .write_all(b"STARTTLS\r\nMAIL FROM:<mallory@example.com>\r\n")
        .await
        .unwrap();
    assert!(answer(&mut plain).await.starts_with("220"));
    let mut rest = Vec::new();
    let read = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::io::AsyncReadExt::read_to_end(&mut plain, &mut rest),
    )
    .await
    .expect("the listener hangs up");
    assert!(
        read.is_ok() && rest.is_empty(),
        "nothing more is said: {rest:?}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn swaks_delivers_over_starttls() {
    let have_swaks = std::process::Command::new("swaks")
        .arg("--version")
        .output()
        .is_ok();
    if !have_swaks {
        assert!(
            std::env::var_os("CI").is_none(),
            "swaks is missing, but CI installs it"
        );
        return;
    }
    let dir = temp_dir("starttls-swaks");
    let certs = certificates(&dir);
    let store = sqlite().await;
    let addr = tls_listener(store.clone(), &certs.cert, &certs.key).await;
    let out = tokio::process::Command::new("swaks")
        .args([
            "--server",
            &addr.ip().to_string(),
            "--port",
            &addr.port().to_string(),
        ])
        .args([
            "--from",
            "kim@example.org",
            "--to",
            "support@desk.test",
            "--tls",
        ])
        .args([
            "--header",
            "Subject: swaks over TLS",
            "--body",
            "Where is my refund?",
        ])
        .output()
        .await
        .unwrap();
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{transcript}");
    assert!(transcript.contains("TLS started"), "{transcript}");
    assert!(transcript.contains("250 2.0.0 Stored as"), "{transcript}");
    let all = wait_for(&store, 1).await;
    assert_eq!(all[0].subject.as_deref(), Some("swaks over TLS"));
    std::fs::remove_dir_all(dir).ok();
}
