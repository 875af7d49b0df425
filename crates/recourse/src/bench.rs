//! `recourse bench`: a load generator that drives a running desk over HTTP (keep-alive,
//! a fixed number of concurrent clients) through the work of a support day — create
//! tickets, reply, log interventions, escalate, search, list queues, read the report —
//! and prints, per phase, throughput, latency percentiles, errors and the server's
//! memory; `--json` prints the same as one JSON document.
//!
//! `recourse bench --seed N` instead fills the database itself (the store's bulk path,
//! not HTTP) with N tickets and their messages, for scale runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use serde::Serialize;

#[derive(Args, Clone)]
pub struct BenchArgs {
    /// Base URL of a running desk.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// An admin's API token (see `recourse token create`): the phases include the
    /// manager's report and escalations.
    #[arg(long, env = "RECOURSE_BENCH_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Tickets created; each then gets one reply, one intervention and one escalation.
    #[arg(long, default_value_t = 500)]
    tickets: usize,
    /// Subject searches, and as many queue listings.
    #[arg(long, default_value_t = 100)]
    searches: usize,
    /// Report summaries read.
    #[arg(long, default_value_t = 20)]
    reports: usize,
    /// An agent to sign in as (with `RECOURSE_BENCH_PASSWORD`), to time the console's
    /// queue page (every tab's count) and ticket page as an agent's browser loads them.
    #[arg(long)]
    agent_email: Option<String>,
    /// Only the workload we compare with Request Tracker: create, reply, search.
    #[arg(long)]
    basic: bool,
    /// The server's process id, to report its resident memory after each phase.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    json: bool,
    /// Seed this many tickets straight into the database (bulk path) and exit.
    #[arg(long)]
    seed: Option<i64>,
    /// With `--seed`: messages per seeded ticket.
    #[arg(long, default_value_t = 5)]
    messages_per_ticket: i64,
}

impl BenchArgs {
    pub fn seeding(&self) -> bool {
        self.seed.is_some()
    }
}

#[derive(Serialize)]
struct PhaseReport {
    phase: &'static str,
    requests: usize,
    errors: usize,
    seconds: f64,
    per_second: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// The server's resident memory right after the phase, when `--server-pid` is given.
    server_rss_mb: Option<f64>,
    /// The first error's text, if any failed.
    first_error: Option<String>,
}

#[derive(Serialize)]
struct Report {
    url: String,
    concurrency: usize,
    tickets: usize,
    server_rss_idle_mb: Option<f64>,
    phases: Vec<PhaseReport>,
    tickets_per_second_with_reply: f64,
}

/// Resident memory of a process, from /proc (Linux).
fn rss_mb(pid: Option<u32>) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// Runs `count` requests built by `make(i)` across `concurrency` workers; failures are
/// counted, not fatal. Returns the report and each successful answer by index.
async fn phase<F, Fut>(
    name: &'static str,
    count: usize,
    concurrency: usize,
    server_pid: Option<u32>,
    make: F,
) -> (PhaseReport, Vec<Option<serde_json::Value>>)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<serde_json::Value>> + Send,
{
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (make, next) = (make.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let t = Instant::now();
                let answer = make(i).await;
                done.push((i, t.elapsed(), answer));
            }
            done
        }));
    }
    let mut latencies = Vec::with_capacity(count);
    let mut answers = vec![None; count];
    let (mut errors, mut first_error) = (0, None);
    for w in workers {
        for (i, took, answer) in w.await.unwrap_or_default() {
            latencies.push(took);
            match answer {
                Ok(v) => answers[i] = Some(v),
                Err(e) => {
                    errors += 1;
                    first_error.get_or_insert_with(|| e.to_string());
                }
            }
        }
    }
    let elapsed = start.elapsed();
    latencies.sort();
    let report = PhaseReport {
        phase: name,
        requests: count,
        errors,
        seconds: elapsed.as_secs_f64(),
        per_second: count as f64 / elapsed.as_secs_f64().max(1e-9),
        p50_ms: percentile(&latencies, 0.50),
        p95_ms: percentile(&latencies, 0.95),
        p99_ms: percentile(&latencies, 0.99),
        max_ms: percentile(&latencies, 1.0),
        server_rss_mb: rss_mb(server_pid),
        first_error,
    };
    (report, answers)
}

/// What every request needs: the client, the base URL and the token.
#[derive(Clone)]
struct Desk {
    client: reqwest::Client,
    base: Arc<str>,
    auth: Arc<str>,
}

impl Desk {
    /// Signs in as an agent through the API and returns the session cookie.
    async fn sign_in(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let resp = self
            .client
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("signing in as {email}: HTTP {}", resp.status());
        }
        resp.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.split(';')
                    .next()
                    .filter(|kv| kv.starts_with("recourse_session="))
            })
            .map(str::to_owned)
            .context("the sign-in answer set no session cookie")
    }

    /// Loads a console page with the session cookie, as a browser would.
    async fn page(&self, path: &str, cookie: &str) -> anyhow::Result<serde_json::Value> {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .send()
            .await?;
        let status = resp.status().as_u16();
        let html = resp.text().await?;
        if status != 200 {
            bail!("{path}: expected HTTP 200, got {status}");
        }
        Ok(serde_json::Value::from(html.len()))
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
        want: u16,
    ) -> anyhow::Result<serde_json::Value> {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("authorization", &*self.auth);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        if status != want {
            bail!("{path}: expected HTTP {want}, got {status}: {body}");
        }
        Ok(body)
    }
}

pub async fn run(args: BenchArgs, db: Option<Arc<recourse_store::Store>>) -> anyhow::Result<()> {
    if let Some(n) = args.seed {
        let store = db.context("--seed needs the database (--database-url or --data-dir)")?;
        return seed(store.as_ref(), n, args.messages_per_ticket).await;
    }
    let token = args
        .token
        .clone()
        .context("--token (or RECOURSE_BENCH_TOKEN) is needed to drive a desk")?;
    let desk = Desk {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(args.concurrency)
            .build()?,
        base: args.url.trim_end_matches('/').into(),
        auth: format!("Bearer {token}").into(),
    };
    desk.send(reqwest::Method::GET, "/api/v1/me", None, 200)
        .await
        .context("reaching the desk with the token")?;
    let idle = rss_mb(args.server_pid);
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    let (n, c, pid) = (args.tickets, args.concurrency, args.server_pid);
    let mut phases = Vec::new();

    let d = desk.clone();
    let (report, created) = phase("create ticket", n, c, pid, move |i| {
        let d = d.clone();
        async move {
            let body = serde_json::json!({
                "customer": {"email": format!("bench{}@example.com", i % 200), "name": "Bench Customer"},
                "subject": format!("Order {run_id}-{i} arrived damaged"),
                "body": "The box was crushed and the lamp inside is broken. I would like a replacement.",
                "need": "a working lamp",
                "tags": ["delivery"],
            });
            d.send(reqwest::Method::POST, "/api/v1/tickets", Some(body), 201).await
        }
    })
    .await;
    phases.push(report);
    let ids: Arc<Vec<i64>> = Arc::new(
        created
            .iter()
            .flatten()
            .filter_map(|t| t["id"].as_i64())
            .collect(),
    );

    let per_ticket =
        |name: &'static str, path: &'static str, body: serde_json::Value, want: u16| {
            let (d, ids) = (desk.clone(), ids.clone());
            phase(name, ids.len(), c, pid, move |i| {
                let (d, ids, body) = (d.clone(), ids.clone(), body.clone());
                async move {
                    let path = path.replace("{id}", &ids[i].to_string());
                    d.send(reqwest::Method::POST, &path, Some(body), want).await
                }
            })
        };
    let (report, _) = per_ticket(
        "reply",
        "/api/v1/tickets/{id}/messages",
        serde_json::json!({"kind": "reply", "body": "I'm sorry it arrived like that. I can send a replacement today; it will be with you in two days."}),
        201,
    )
    .await;
    phases.push(report);
    if !args.basic {
        let (report, _) = per_ticket(
            "intervention",
            "/api/v1/tickets/{id}/interventions",
            serde_json::json!({"kind": "replacement", "description": "Replacement lamp sent by express", "result": "accepted"}),
            201,
        )
        .await;
        phases.push(report);
        let (report, _) = per_ticket(
            "escalate",
            "/api/v1/tickets/{id}/escalations",
            serde_json::json!({"reason": "customer_request", "message": "I've asked a senior colleague to look at this with you; they have what we tried so far and will write by tomorrow noon."}),
            201,
        )
        .await;
        phases.push(report);
    }

    let tickets = n.max(1);
    let d = desk.clone();
    let (report, _) = phase("search subject", args.searches, c, pid, move |i| {
        let d = d.clone();
        async move {
            let q = format!("{run_id}-{}", (i * 7) % tickets);
            d.send(
                reqwest::Method::GET,
                &format!("/api/v1/search?q={q}"),
                None,
                200,
            )
            .await
        }
    })
    .await;
    phases.push(report);
    if !args.basic {
        let d = desk.clone();
        let (report, _) = phase("list queue", args.searches, c, pid, move |i| {
            let d = d.clone();
            // The queues agents live in: open work, unassigned, one tag, a rung.
            let path = match i % 4 {
                0 => "/api/v1/tickets?status=open&limit=50",
                1 => "/api/v1/tickets?assignee=none&limit=50",
                2 => "/api/v1/tickets?tag=delivery&limit=50",
                _ => "/api/v1/tickets?rung=experienced&limit=50",
            };
            async move { d.send(reqwest::Method::GET, path, None, 200).await }
        })
        .await;
        phases.push(report);
        // Ticket pages spread over the whole desk (at scale, mostly seeded tickets).
        let last_id = ids.iter().copied().max().unwrap_or(1).max(1);
        let spread = move |i: usize| 1 + (i as i64 * 7919) % last_id;
        let d = desk.clone();
        let (report, _) = phase("ticket detail (API)", args.searches, c, pid, move |i| {
            let d = d.clone();
            async move {
                d.send(
                    reqwest::Method::GET,
                    &format!("/api/v1/tickets/{}", spread(i)),
                    None,
                    200,
                )
                .await
            }
        })
        .await;
        phases.push(report);
        if let Some(email) = &args.agent_email {
            let password = std::env::var("RECOURSE_BENCH_PASSWORD")
                .context("--agent-email needs the password in RECOURSE_BENCH_PASSWORD")?;
            let cookie: Arc<str> = desk.sign_in(email, &password).await?.into();
            let (d, k) = (desk.clone(), cookie.clone());
            let (report, _) = phase("console queue page", args.searches, c, pid, move |i| {
                let (d, k) = (d.clone(), k.clone());
                let view = ["mine", "rung", "unassigned", "waiting"][i % 4];
                async move { d.page(&format!("/console?view={view}"), &k).await }
            })
            .await;
            phases.push(report);
            let (d, k) = (desk.clone(), cookie.clone());
            let (report, _) = phase("console ticket page", args.searches, c, pid, move |i| {
                let (d, k) = (d.clone(), k.clone());
                async move { d.page(&format!("/console/tickets/{}", spread(i)), &k).await }
            })
            .await;
            phases.push(report);
        }
        let d = desk.clone();
        let (report, _) = phase("report summary", args.reports, c, pid, move |_| {
            let d = d.clone();
            async move {
                d.send(reqwest::Method::GET, "/api/v1/reports/summary", None, 200)
                    .await
            }
        })
        .await;
        phases.push(report);
    }

    let with_reply: f64 = phases[..2].iter().map(|p| p.seconds).sum();
    let report = Report {
        url: args.url.clone(),
        concurrency: c,
        tickets: n,
        server_rss_idle_mb: idle,
        tickets_per_second_with_reply: n as f64 / with_reply.max(1e-9),
        phases,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "bench: {} tickets at concurrency {c}{}",
            n,
            idle.map(|m| format!("; server RSS idle {m:.0} MB"))
                .unwrap_or_default()
        );
        for p in &report.phases {
            println!(
                "{:<19} {:>6} req {:>4} err {:>9.1} req/s  p50 {:>7.2}  p95 {:>7.2}  p99 {:>7.2}  max {:>7.2} ms{}",
                p.phase,
                p.requests,
                p.errors,
                p.per_second,
                p.p50_ms,
                p.p95_ms,
                p.p99_ms,
                p.max_ms,
                p.server_rss_mb
                    .map(|m| format!("  RSS {m:.0} MB"))
                    .unwrap_or_default()
            );
            if let Some(e) = &p.first_error {
                println!("    first error: {e}");
            }
        }
        println!(
            "tickets/s including their reply: {:.1}",
            report.tickets_per_second_with_reply
        );
    }
    if report.phases.iter().any(|p| p.errors > 0) {
        bail!("some requests failed (see above)");
    }
    Ok(())
}

/// Fills the database with `n` open tickets and `messages` messages each, in chunks so
/// neither database holds one enormous transaction.
async fn seed(store: &recourse_store::Store, n: i64, messages: i64) -> anyhow::Result<()> {
    use recourse_domain::{EmailAddress, Millis};
    let start = Instant::now();
    let customer = store
        .upsert_customer(
            &EmailAddress::parse("seeded@example.com")?,
            Some("Seeded Customer"),
            Millis(0),
        )
        .await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let chunk = 50_000;
    let mut done = 0;
    while done < n {
        let count = chunk.min(n - done);
        store
            .seed_tickets(&recourse_store::SeedSpec {
                count,
                customer_id: customer.id,
                // About four tickets per customer, as on a real desk.
                tickets_per_customer: 4,
                // Spread over the last 90 days, oldest first.
                created_at: Millis(now - 90 * 86_400_000 + done * (90 * 86_400_000 / n.max(1))),
                due: 0,
                rung: "frontline".into(),
                ended: false,
                messages,
            })
            .await?;
        done += count;
        eprintln!(
            "seeded {done}/{n} tickets ({:.0} s)",
            start.elapsed().as_secs_f64()
        );
    }
    println!(
        "seeded {n} tickets with {messages} messages each in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
