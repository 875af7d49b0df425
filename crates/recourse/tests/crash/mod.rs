//! Crash safety: the real server under a stream of writes (tickets, replies,
//! escalations, and the SLA sweeper escalating due tickets), killed with SIGKILL at
//! random moments and restarted, again and again. After every restart each write that
//! was acknowledged is there, whole; at the end every due ticket was escalated exactly
//! once. `RECOURSE_CRASH_CYCLES` sets the number of kills (5 by default; `bench/crash.sh`
//! runs 50 per database and RELIABILITY.md records the result).

use std::collections::BTreeMap;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use recourse_domain::{Actor, Body, Channel, EmailAddress, Millis, Priority, Subject, TicketId};
use serde_json::{Value, json};

use super::{BIN, TempDir};

/// What the server acknowledged: ticket id → acknowledged reply bodies, and tickets
/// whose escalation was acknowledged.
#[derive(Default)]
struct Acked {
    tickets: BTreeMap<i64, Vec<String>>,
    escalated: Vec<i64>,
}

fn start(db_args: &[String], sweep_secs: &str) -> (Child, String) {
    let db_args: Vec<&str> = db_args.iter().map(String::as_str).collect();
    let (child, addr) = super::serve(&db_args, &["--sweep-secs", sweep_secs], "error");
    (child, format!("http://{addr}/api/v1"))
}

/// One writer: create a ticket, reply to it, escalate it; record each acknowledgement.
async fn writer(base: String, token: String, n: usize, acked: Arc<Mutex<Acked>>) {
    let http = reqwest::Client::new();
    for i in 0.. {
        let created = http
            .post(format!("{base}/tickets"))
            .bearer_auth(&token)
            .json(&json!({"customer": {"email": format!("w{n}@example.com")}, "subject": format!("Writer {n} ticket {i}"), "body": "The kettle leaks."}))
            .send()
            .await;
        let Ok(resp) = created else { return };
        if resp.status() != 201 {
            return;
        }
        let Ok(t) = resp.json::<Value>().await else {
            return;
        };
        let id = t["id"].as_i64().unwrap();
        acked.lock().unwrap().tickets.insert(id, Vec::new());
        let text = format!("Reply {i} from writer {n}");
        let replied = http
            .post(format!("{base}/tickets/{id}/messages"))
            .bearer_auth(&token)
            .json(&json!({"kind": "reply", "body": text}))
            .send()
            .await;
        match replied {
            Ok(r) if r.status() == 201 => acked
                .lock()
                .unwrap()
                .tickets
                .get_mut(&id)
                .unwrap()
                .push(text),
            _ => return,
        }
        let up = http
            .post(format!("{base}/tickets/{id}/escalations"))
            .bearer_auth(&token)
            .json(&json!({"reason": "needs_experience"}))
            .send()
            .await;
        match up {
            Ok(r) if r.status() == 201 => acked.lock().unwrap().escalated.push(id),
            _ => return,
        }
    }
}

/// Every acknowledged write is present and whole.
async fn verify(base: &str, token: &str, acked: &Acked) {
    let http = reqwest::Client::new();
    for (id, replies) in &acked.tickets {
        let t: Value = http
            .get(format!("{base}/tickets/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            t["id"].as_i64(),
            Some(*id),
            "acknowledged ticket {id} is missing: {t}"
        );
        let messages = t["messages"].as_array().unwrap();
        assert_eq!(
            messages[0]["kind"], "inbound",
            "ticket {id} lost its first message"
        );
        for r in replies {
            assert!(
                messages.iter().any(|m| m["body"] == *r),
                "ticket {id} lost the acknowledged reply {r:?}"
            );
        }
        let history = t["history"].as_array().unwrap();
        let added = history
            .iter()
            .filter(|e| e["type"] == "message_added")
            .count();
        assert_eq!(
            added,
            messages.len(),
            "ticket {id}: every message has its event and no event lacks its message"
        );
        if acked.escalated.contains(id) {
            assert_ne!(
                t["rung"], "frontline",
                "ticket {id}: an acknowledged escalation was lost"
            );
            assert!(history.iter().any(|e| e["type"] == "escalated"));
        }
    }
}

pub fn run(db_args: Vec<String>, url: String) {
    let cycles: usize = std::env::var("RECOURSE_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Agents to route to, a token, and tickets whose first response was due long ago,
    // for the sweeper to escalate while it is being killed.
    let (token, due) = rt.block_on(async {
        let store = recourse_store::open(&url).await.unwrap();
        let mut admin = None;
        for (email, role, exp) in [
            (
                "admin@example.com",
                recourse_domain::Role::Admin,
                recourse_domain::Experience::Senior,
            ),
            (
                "jo@example.com",
                recourse_domain::Role::Agent,
                recourse_domain::Experience::Junior,
            ),
            (
                "eve@example.com",
                recourse_domain::Role::Agent,
                recourse_domain::Experience::Experienced,
            ),
        ] {
            let a = store
                .create_agent(recourse_store::NewAgent {
                    email: EmailAddress::parse(email).unwrap(),
                    name: recourse_domain::PersonName::parse("Crash Tester").unwrap(),
                    role,
                    experience: exp,
                    skills: vec![],
                    team_id: None,
                    capacity: 1_000_000,
                    password_hash: "$argon2id$unused".into(),
                    now: Millis(0),
                })
                .await
                .unwrap();
            admin.get_or_insert(a.id);
        }
        let secret = recourse_web::auth::new_secret("rct");
        store
            .create_api_token(recourse_store::NewApiToken {
                principal: recourse_store::Principal::Agent(admin.unwrap()),
                name: "crash".into(),
                token_hash: recourse_web::auth::sha256_hex(&secret),
                scope: "full".into(),
                now: Millis(0),
            })
            .await
            .unwrap();
        let ada = store
            .upsert_customer(
                &EmailAddress::parse("due@example.com").unwrap(),
                None,
                Millis(0),
            )
            .await
            .unwrap();
        let long_ago = recourse_domain::sla::parse_instant("2026-11-16T10:00:00Z").unwrap();
        let mut due = Vec::new();
        for i in 0..300 {
            let t = recourse_desk::Desk::new(store.clone())
                .open_ticket(recourse_store::NewTicket {
                    customer: ada.id.into(),
                    subject: Subject::parse(&format!("Overdue {i}")).unwrap(),
                    body: Body::parse("Still waiting.").unwrap(),
                    need: None,
                    priority: Priority::Normal,
                    tags: vec![],
                    channel: Channel::Email,
                    demeanor: None,
                    actor: Actor::Customer(ada.id),
                    now: long_ago,
                })
                .await
                .unwrap();
            due.push(t.id);
        }
        (secret, due)
    });

    let acked = Arc::new(Mutex::new(Acked::default()));
    let mut rng_state: u64 = 0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id());
    let mut next_rand = move || {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        rng_state
    };
    for cycle in 0..cycles {
        let (mut server, base) = start(&db_args, "1");
        rt.block_on(async {
            let writers: Vec<_> = (0..4)
                .map(|n| tokio::spawn(writer(base.clone(), token.clone(), n, acked.clone())))
                .collect();
            // Kill at a random moment, mid-stream.
            tokio::time::sleep(Duration::from_millis(150 + next_rand() % 600)).await;
            Command::new("kill")
                .args(["-KILL", &server.id().to_string()])
                .status()
                .unwrap();
            for w in writers {
                let _ = w.await;
            }
        });
        let _ = server.wait();
        // Restart and check everything acknowledged so far.
        let (mut server, base) = start(&db_args, "3600");
        rt.block_on(verify(&base, &token, &acked.lock().unwrap()));
        Command::new("kill")
            .args(["-KILL", &server.id().to_string()])
            .status()
            .unwrap();
        let _ = server.wait();
        eprintln!(
            "crash cycle {}/{cycles}: {} acknowledged tickets intact",
            cycle + 1,
            acked.lock().unwrap().tickets.len()
        );
    }
    // Let the sweeper finish what the kills interrupted, then count: each overdue
    // ticket moved up exactly once for its breach, never twice.
    let out = Command::new(BIN)
        .args(&db_args)
        .args(["sla", "sweep"])
        .env("RECOURSE_LOG", "error")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    rt.block_on(async {
        let store = recourse_store::open(&url).await.unwrap();
        for id in &due {
            let steps = store.escalations(*id).await.unwrap();
            let breaches = steps
                .iter()
                .filter(|s| s.reason == Some(recourse_domain::EscalationReason::SlaBreach))
                .count();
            assert_eq!(breaches, 1, "ticket {id:?}: {steps:?}");
            let events = store.events(TicketId(id.0)).await.unwrap();
            let breached = events
                .iter()
                .filter(|e| e.kind.name() == "sla_breached")
                .count();
            assert_eq!(
                breached, 2,
                "first response and resolution each breach once: {id:?}"
            );
        }
    });
    assert!(
        acked.lock().unwrap().tickets.len() > cycles,
        "the writers made progress"
    );
}

pub fn run_sqlite(tag: &str) {
    let dir = TempDir::new(tag);
    let db = dir.0.join("recourse.db");
    let url = format!("sqlite://{}", db.display());
    run(vec!["--database-url".into(), url.clone()], url);
}
