//! `recourse sla bench`: how long the SLA sweeper takes to find and act on due tickets
//! among many open ones. Seeds the database it is pointed at (use a throwaway one),
//! then times idle passes (nothing due: the cost of looking) and the passes that warn,
//! breach and escalate the due tickets.

use std::time::{Duration, Instant};

use anyhow::bail;
use clap::Args;
use recourse_domain::{EmailAddress, Experience, Millis, PersonName, Role};
use recourse_store::{NewAgent, SeedSpec, Store};

#[derive(Args, Clone)]
pub struct SweepBenchArgs {
    /// Open tickets to seed.
    #[arg(long, default_value_t = 1_000_000)]
    open: i64,
    /// How many of them are due.
    #[arg(long, default_value_t = 1_000)]
    due: i64,
    /// Tickets per sweeper transaction.
    #[arg(long, default_value_t = 200)]
    batch: i64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub async fn run(store: &std::sync::Arc<Store>, args: SweepBenchArgs) -> anyhow::Result<()> {
    if store.count_rows("tickets").await? > 0 {
        bail!("point `sla bench` at an empty database: it seeds its own tickets");
    }
    let start = recourse_domain::sla::parse_instant("2026-11-23T09:00:00Z").unwrap_or(Millis(0));
    for (email, experience) in [
        ("bench-frontline@example.com", Experience::Junior),
        ("bench-experienced@example.com", Experience::Senior),
    ] {
        store
            .create_agent(NewAgent {
                email: EmailAddress::parse(email)?,
                name: PersonName::parse("Bench Agent")?,
                role: Role::Agent,
                experience,
                skills: vec![],
                team_id: None,
                capacity: 1_000_000,
                password_hash: "$argon2id$not-a-login".into(),
                now: start,
            })
            .await?;
    }
    let customer = store
        .upsert_customer(
            &EmailAddress::parse("bench-customer@example.com")?,
            None,
            start,
        )
        .await?;
    let t = Instant::now();
    let seeded = store
        .seed_tickets(&SeedSpec {
            count: args.open,
            customer_id: customer.id,
            tickets_per_customer: 0,
            created_at: start,
            due: args.due,
            rung: "frontline".into(),
            ended: false,
            messages: 1,
        })
        .await?;
    println!(
        "seeded {seeded} open tickets ({} due) in {:.1} s",
        args.due,
        t.elapsed().as_secs_f64()
    );

    // Idle passes: half an hour in, nothing is due yet.
    let idle_at = Millis(start.0 + 1_800_000);
    let mut idle = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let r = recourse_desk::Desk::new(store.clone())
            .sweep_sla(idle_at, args.batch)
            .await?;
        idle.push(t.elapsed());
        if r.examined != 0 {
            bail!("an idle pass found {} tickets", r.examined);
        }
    }
    idle.sort();
    println!(
        "idle pass (find nothing among {} open): p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        args.open,
        ms(idle[idle.len() / 2]),
        ms(idle[idle.len() * 99 / 100]),
        ms(idle[idle.len() - 1])
    );

    // Two hours in: every due ticket has breached its first response and moves up.
    let due_at = Millis(start.0 + 2 * 3_600_000);
    let t = Instant::now();
    let (mut passes, mut escalated, mut examined) = (0, 0u64, 0u64);
    let mut slowest = Duration::ZERO;
    loop {
        let p = Instant::now();
        let r = recourse_desk::Desk::new(store.clone())
            .sweep_sla(due_at, args.batch)
            .await?;
        slowest = slowest.max(p.elapsed());
        if r.examined == 0 {
            break;
        }
        passes += 1;
        examined += u64::from(r.examined);
        escalated += u64::from(r.escalated);
    }
    let total = t.elapsed();
    println!(
        "due passes: {examined} tickets examined, {escalated} escalated in {passes} passes of ≤{}: {:.1} ms total, {:.0} tickets/s, slowest pass {:.1} ms",
        args.batch,
        ms(total),
        examined as f64 / total.as_secs_f64(),
        ms(slowest)
    );
    if escalated != args.due.unsigned_abs() {
        bail!("expected {} escalations, saw {escalated}", args.due);
    }
    Ok(())
}

#[derive(Args, Clone)]
pub struct ReportBenchArgs {
    /// Ended tickets to seed.
    #[arg(long, default_value_t = 1_000_000)]
    tickets: i64,
    /// Report queries to time.
    #[arg(long, default_value_t = 20)]
    runs: usize,
}

/// `recourse reports bench`: seeds ended tickets and times the recovery report over all
/// of them (and over one day of them), as `GET /api/v1/reports/summary` computes it.
pub async fn run_reports(store: &Store, args: ReportBenchArgs) -> anyhow::Result<()> {
    if store.count_rows("tickets").await? > 0 {
        bail!("point `reports bench` at an empty database: it seeds its own tickets");
    }
    let start = recourse_domain::sla::parse_instant("2026-11-01T00:00:00Z").unwrap_or(Millis(0));
    let customer = store
        .upsert_customer(
            &EmailAddress::parse("bench-customer@example.com")?,
            None,
            start,
        )
        .await?;
    let t = Instant::now();
    let seeded = store
        .seed_tickets(&SeedSpec {
            count: args.tickets,
            customer_id: customer.id,
            tickets_per_customer: 0,
            created_at: start,
            due: 0,
            rung: "frontline".into(),
            ended: true,
            messages: 1,
        })
        .await?;
    println!(
        "seeded {seeded} ended tickets in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    for (label, from, to) in [
        ("all of them", start, Millis(start.0 + 3 * 86_400_000)),
        (
            "one hour of them",
            Millis(start.0 + 3_600_000),
            Millis(start.0 + 2 * 3_600_000),
        ),
    ] {
        let mut times = Vec::new();
        let mut ended = 0;
        for _ in 0..args.runs.max(1) {
            let t = Instant::now();
            let r = store
                .report_summary(&recourse_store::ReportQuery {
                    from,
                    to,
                    team: None,
                })
                .await?;
            times.push(t.elapsed());
            ended = r.ended;
        }
        times.sort();
        println!(
            "report over {label} ({ended} tickets): p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
            ms(times[times.len() / 2]),
            ms(times[times.len() * 99 / 100]),
            ms(times[times.len() - 1])
        );
    }
    Ok(())
}
