//! Abuse of the HTTP listener itself: slow-loris clients that dribble a request head
//! or stall a body, idle connections, oversized heads, and more connections than the
//! server takes at once. Raw TCP against the real `serve`, with short limits so each
//! test is quick; they assert that the server closed or refused, never how fast.
//! These are properties of the connection layer, so SQLite alone is enough here.

use std::time::Duration;

use recourse_web::{AppState, WebConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Server {
    addr: std::net::SocketAddr,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn start(config: WebConfig) -> Server {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "recourse-conn-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let store = recourse_store::open(&format!("sqlite://{}", dir.join("recourse.db").display()))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(recourse_web::serve(
        listener,
        AppState::new(store, config),
        std::future::pending(),
    ));
    Server { addr, dir }
}

fn quick_limits() -> WebConfig {
    WebConfig {
        header_read_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(1),
        ..WebConfig::default()
    }
}

/// Whether the server has closed (or reset) the connection: waits up to `wait` for
/// end-of-file, and returns what it answered before closing, if anything.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(answer),
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sends a whole request on `stream` and reads one response (status line to the end
/// of its `Content-Length` body). Returns the status code and the body.
async fn request(stream: &mut TcpStream, raw: &str) -> (u16, String) {
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        assert!(
            n > 0,
            "closed before answering: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                let status = text[9..12].parse().unwrap();
                return (status, text[end + 4..end + 4 + length].to_owned());
            }
        }
    }
}

/// A client that sends its request head one header every 200 ms, never finishing it,
/// is cut off (with `axum::serve` it was kept for as long as it kept dribbling).
#[tokio::test]
async fn a_dribbled_request_head_is_cut_off() {
    let server = start(quick_limits()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: desk\r\n")
        .await
        .unwrap();
    // 50 headers at 200 ms would take 10 s, ten times the limit.
    for i in 0..50 {
        if stream
            .write_all(format!("X-Slow-{i}: a\r\n").as_bytes())
            .await
            .is_err()
        {
            return; // reset by the server
        }
        if let Some(answer) = closed_within(&mut stream, Duration::from_millis(200)).await {
            let answer = String::from_utf8_lossy(&answer);
            assert!(
                answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
                "{answer:?}"
            );
            return;
        }
    }
    panic!("the server kept a connection whose request head never ended");
}

/// A connection that sends nothing at all is closed too.
#[tokio::test]
async fn a_silent_connection_is_closed() {
    let server = start(quick_limits()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    assert!(
        closed_within(&mut stream, Duration::from_secs(10))
            .await
            .is_some(),
        "a connection that never sent a byte was kept open"
    );
}

/// A body that stops arriving is answered 408 and the connection closed.
#[tokio::test]
async fn a_stalled_body_is_cut_off() {
    let server = start(quick_limits()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // Sign-in takes a body without a credential; ten of the promised 100 bytes arrive.
    stream
        .write_all(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: desk\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":",
        )
        .await
        .unwrap();
    let answer = closed_within(&mut stream, Duration::from_secs(10))
        .await
        .expect("a request whose body stalled was kept open");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
}

/// Keep-alive still works: several requests on one connection, the connection left
/// idle for less than the limit between two of them.
#[tokio::test]
async fn keep_alive_requests_still_work() {
    let server = start(WebConfig {
        header_read_timeout: Duration::from_secs(5),
        ..WebConfig::default()
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    for i in 0..3 {
        let (status, body) =
            request(&mut stream, "GET /healthz HTTP/1.1\r\nHost: desk\r\n\r\n").await;
        assert_eq!(status, 200, "request {i}: {body}");
        assert!(body.contains("\"ok\""), "{body}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // And an ordinary client with a connection pool is served as before.
    let http = reqwest::Client::new();
    for _ in 0..3 {
        let resp = http
            .get(format!("http://{}/healthz", server.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
}

/// A request head over the limit gets 431; one just under it is served.
#[tokio::test]
async fn oversized_request_heads_get_431() {
    let server = start(WebConfig {
        max_header_bytes: 8 * 1024,
        ..WebConfig::default()
    })
    .await;
    let head = |filler: usize| {
        format!(
            "GET /healthz HTTP/1.1\r\nHost: desk\r\nX-Filler: {}\r\n\r\n",
            "a".repeat(filler)
        )
    };
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let (status, _) = request(&mut stream, &head(6 * 1024)).await;
    assert_eq!(status, 200);

    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let _ = stream.write_all(head(64 * 1024).as_bytes()).await;
    let answer = closed_within(&mut stream, Duration::from_secs(10))
        .await
        .expect("the connection with an oversized head was kept open");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:?}");
}

/// With every connection slot taken, a further client waits, and is served as soon as
/// a slot frees.
#[tokio::test]
async fn connections_over_the_limit_wait_for_a_slot() {
    let server = start(WebConfig {
        max_connections: 2,
        header_read_timeout: Duration::from_secs(60),
        ..WebConfig::default()
    })
    .await;
    let first = TcpStream::connect(server.addr).await.unwrap();
    let _second = TcpStream::connect(server.addr).await.unwrap();
    // Let the server take both before the third arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: desk\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(
        tokio::time::timeout(Duration::from_millis(500), third.read(&mut buf))
            .await
            .is_err(),
        "a third connection was served while the limit is two"
    );
    drop(first);
    let n = tokio::time::timeout(Duration::from_secs(10), third.read(&mut buf))
        .await
        .expect("served once a slot was free")
        .unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
}
