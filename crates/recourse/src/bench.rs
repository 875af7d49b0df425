//! `recourse bench`: the ticket workload we compare against other desks. It creates
//! tickets, adds one reply to each, then runs subject searches, all over HTTP with a
//! fixed number of concurrent clients, and prints throughput and latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use tokio::sync::Mutex;

#[derive(Args, Clone)]
pub struct BenchArgs {
    /// Base URL of a running desk.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// An agent's API token (see `recourse token create`).
    #[arg(long, env = "RECOURSE_BENCH_TOKEN", hide_env_values = true)]
    token: String,
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    #[arg(long, default_value_t = 500)]
    tickets: usize,
    #[arg(long, default_value_t = 100)]
    searches: usize,
}

struct Phase {
    name: &'static str,
    count: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Phase {
    fn print(&mut self) {
        self.latencies.sort();
        let pct = |p: f64| {
            let i = ((self.latencies.len() as f64 * p).ceil() as usize)
                .clamp(1, self.latencies.len())
                - 1;
            self.latencies[i].as_secs_f64() * 1000.0
        };
        println!(
            "{:<16} {:>6} requests  {:>9.1} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
            self.name,
            self.count,
            self.count as f64 / self.elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.99),
            pct(1.0)
        );
    }
}

/// Runs `count` requests built by `make(i)` across `concurrency` workers.
async fn phase<F, Fut>(
    name: &'static str,
    count: usize,
    concurrency: usize,
    make: F,
) -> anyhow::Result<(Phase, Vec<serde_json::Value>)>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<serde_json::Value>> + Send,
{
    let make = Arc::new(make);
    let next = Arc::new(Mutex::new(0usize));
    let results = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (make, next, results) = (make.clone(), next.clone(), results.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = {
                    let mut n = next.lock().await;
                    if *n >= count {
                        break;
                    }
                    *n += 1;
                    *n - 1
                };
                let t = Instant::now();
                let v = make(i).await?;
                lat.push(t.elapsed());
                results.lock().await.push((i, v));
            }
            anyhow::Ok(lat)
        }));
    }
    let mut latencies = Vec::with_capacity(count);
    for w in workers {
        latencies.extend(w.await??);
    }
    let elapsed = start.elapsed();
    let mut results = std::mem::take(&mut *results.lock().await);
    results.sort_by_key(|(i, _)| *i);
    Ok((
        Phase {
            name,
            count,
            elapsed,
            latencies,
        },
        results.into_iter().map(|(_, v)| v).collect(),
    ))
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let base = args.url.trim_end_matches('/').to_owned();
    let auth = format!("Bearer {}", args.token);
    let check = client
        .get(format!("{base}/api/v1/me"))
        .header("authorization", &auth)
        .send()
        .await
        .context("reaching the desk")?;
    if !check.status().is_success() {
        bail!("the desk refused the token: {}", check.status());
    }
    println!(
        "bench: {} tickets, then one reply each, then {} searches; concurrency {}",
        args.tickets, args.searches, args.concurrency
    );
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();

    let (c, b, a) = (client.clone(), base.clone(), auth.clone());
    let (mut create, created) = phase("create ticket", args.tickets, args.concurrency, move |i| {
        let (c, b, a) = (c.clone(), b.clone(), a.clone());
        async move {
            let body = serde_json::json!({
                "customer": {"email": format!("bench{}@example.com", i % 200), "name": "Bench Customer"},
                "subject": format!("Order {run_id}-{i} arrived damaged"),
                "body": "The box was crushed and the lamp inside is broken. I would like a replacement.",
                "tags": ["delivery"],
            });
            send(c.post(format!("{b}/api/v1/tickets")).header("authorization", a).json(&body), 201).await
        }
    })
    .await?;
    let ids: Arc<Vec<i64>> = Arc::new(created.iter().filter_map(|t| t["id"].as_i64()).collect());

    let (c, b, a, ids2) = (client.clone(), base.clone(), auth.clone(), ids.clone());
    let (mut reply, _) = phase("reply", ids.len(), args.concurrency, move |i| {
        let (c, b, a, ids) = (c.clone(), b.clone(), a.clone(), ids2.clone());
        async move {
            let body = serde_json::json!({"kind": "reply", "body": "I'm sorry it arrived like that. I can send a replacement today; it will be with you in two days."});
            send(c.post(format!("{b}/api/v1/tickets/{}/messages", ids[i])).header("authorization", a).json(&body), 201).await
        }
    })
    .await?;

    let (c, b, a) = (client.clone(), base.clone(), auth.clone());
    let tickets = args.tickets.max(1);
    let (mut search, _) = phase(
        "search subject",
        args.searches,
        args.concurrency,
        move |i| {
            let (c, b, a) = (c.clone(), b.clone(), a.clone());
            async move {
                let q = format!("{run_id}-{}", (i * 7) % tickets);
                send(
                    c.get(format!("{b}/api/v1/search"))
                        .query(&[("q", q.as_str())])
                        .header("authorization", a),
                    200,
                )
                .await
            }
        },
    )
    .await?;
    create.print();
    reply.print();
    search.print();
    let total = create.elapsed + reply.elapsed;
    println!(
        "tickets/s including their reply: {:.1}",
        args.tickets as f64 / total.as_secs_f64()
    );
    Ok(())
}

async fn send(req: reqwest::RequestBuilder, want: u16) -> anyhow::Result<serde_json::Value> {
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    if status != want {
        bail!("expected HTTP {want}, got {status}: {body}");
    }
    Ok(body)
}
