//! Throughput of the email channel: real SMTP into the listener, each message stored,
//! read, judged and turned into a ticket (every other one a reply threaded by
//! In-Reply-To onto the ticket its predecessor opened).
//!
//! `cargo run --release -p recourse-mail --example smtp_bench -- [MESSAGES] [CONNECTIONS] [DATABASE_URL]`
//! (default 2000 messages over 4 connections into a fresh SQLite file).

use std::sync::Arc;
use std::time::{Duration, Instant};

use recourse_mail::{MailConfig, Pipeline};
use recourse_store::{MailState, Store};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

async fn answer(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        r.read_line(&mut line).await.unwrap();
        if line.len() < 4 || line.as_bytes()[3] != b'-' {
            return line;
        }
    }
}

async fn sender(addr: std::net::SocketAddr, conn: usize, count: usize) {
    let (r, mut w) = tokio::net::TcpStream::connect(addr)
        .await
        .unwrap()
        .into_split();
    let mut r = BufReader::new(r);
    answer(&mut r).await;
    w.write_all(b"EHLO bench.test\r\n").await.unwrap();
    answer(&mut r).await;
    for i in 0..count {
        let id = format!("c{conn}-m{i}@bench.test");
        let threading = if i % 2 == 1 {
            format!("In-Reply-To: <c{conn}-m{}@bench.test>\r\n", i - 1)
        } else {
            String::new()
        };
        let msg = format!(
            "MAIL FROM:<customer{conn}@example.com>\r\nRCPT TO:<support@bench.test>\r\nDATA\r\n"
        );
        w.write_all(msg.as_bytes()).await.unwrap();
        for _ in 0..3 {
            answer(&mut r).await;
        }
        let data = format!(
            "From: Customer {conn} <customer{conn}@example.com>\r\nSubject: Order {i} has not arrived\r\n\
             Message-ID: <{id}>\r\n{threading}Content-Type: text/plain; charset=utf-8\r\n\r\n\
             Hello, my order {i} was due last week and still has not arrived. Could you check?\r\n\r\n\
             > an earlier quote that is stripped\r\n.\r\n"
        );
        w.write_all(data.as_bytes()).await.unwrap();
        assert!(answer(&mut r).await.starts_with("250"));
    }
    w.write_all(b"QUIT\r\n").await.unwrap();
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let messages: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let connections: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(4);
    let dir = std::env::temp_dir().join(format!("recourse-smtp-bench-{}", std::process::id()));
    let url = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("recourse.db").display()));
    let store: Arc<Store> = recourse_store::open(&url).await.unwrap();
    let config = Arc::new(MailConfig {
        domain: "bench.test".into(),
        ..MailConfig::default()
    });
    let pipeline = Arc::new(Pipeline::new(store.clone(), config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(recourse_mail::smtp::serve(listener, pipeline, 2, None));

    let per = messages / connections;
    let total = per * connections;
    let start = Instant::now();
    let senders: Vec<_> = (0..connections)
        .map(|c| tokio::spawn(sender(addr, c, per)))
        .collect();
    for s in senders {
        s.await.unwrap();
    }
    let acknowledged = start.elapsed();
    loop {
        let all = store
            .inbound_mail(None, None, total as i64 + 10)
            .await
            .unwrap();
        if all
            .iter()
            .filter(|m| m.state != MailState::Received)
            .count()
            >= total
        {
            let threaded = all
                .iter()
                .filter(|m| m.state == MailState::Threaded)
                .count();
            let tickets = all.iter().filter(|m| m.state == MailState::Ticket).count();
            let done = start.elapsed();
            println!(
                "{total} messages over {connections} SMTP connections ({:?}): all 250 after {:.2} s ({:.0}/s); \
                 stored and handled after {:.2} s: {:.0} messages/s ({tickets} new tickets, {threaded} threaded)",
                store.backend(),
                acknowledged.as_secs_f64(),
                total as f64 / acknowledged.as_secs_f64(),
                done.as_secs_f64(),
                total as f64 / done.as_secs_f64(),
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
