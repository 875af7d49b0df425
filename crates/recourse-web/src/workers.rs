//! Background work every node runs: the SLA sweeper and the webhook deliverer. Both
//! claim work through the store, so any number of nodes can run them side by side.

use std::sync::Arc;
use std::time::Duration;

use recourse_desk::{Delivery, Store};
use sha2::{Digest, Sha256};

use crate::now;

/// HMAC-SHA256 (RFC 2104) of `body` under `secret`, as lower-case hex. Written out
/// here because it is a dozen lines over the `sha2` we already use.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut key = [0u8; BLOCK];
    if secret.len() > BLOCK {
        key[..32].copy_from_slice(&Sha256::digest(secret));
    } else {
        key[..secret.len()].copy_from_slice(secret);
    }
    let pad = |byte: u8| key.map(|k| k ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(body)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    outer.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs one sweeper pass every `every` until the process ends. Errors are logged and
/// the next pass tries again: a database blip must not stop the clocks for good.
pub async fn run_sweeper(store: Arc<Store>, every: Duration) {
    let desk = recourse_desk::Desk::new(store);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // Drain a backlog in batches; stop when a pass finds nothing due.
        loop {
            match desk.sweep_sla(now(), 200).await {
                Ok(r) if r.examined == 0 => break,
                Ok(r) => {
                    if r.escalated > 0 || r.breached > 0 {
                        tracing::info!(
                            warned = r.warned,
                            breached = r.breached,
                            escalated = r.escalated,
                            "SLA sweep"
                        );
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "SLA sweep failed; retrying next tick");
                    break;
                }
            }
        }
    }
}

/// The JSON a webhook receives for one event.
pub fn delivery_body(d: &Delivery) -> String {
    let mut data = serde_json::to_value(&d.event.kind).unwrap_or_default();
    if let Some(obj) = data.as_object_mut() {
        obj.remove("type");
    }
    serde_json::json!({
        "delivery_id": d.id,
        "attempt": d.attempt,
        "event": {
            "id": d.event.id.0,
            "type": d.event.kind.name(),
            "ticket_id": d.event.ticket_id.map(|t| t.0),
            "actor": { "type": d.event.actor.kind(), "id": d.event.actor.id() },
            "at": crate::rfc3339(d.event.at),
            "data": data,
        }
    })
    .to_string()
}

/// Sends one delivery; `Err` carries a short reason for the retry log.
pub async fn deliver(client: &reqwest::Client, d: &Delivery) -> Result<(), String> {
    let body = delivery_body(d);
    let signature = sign(d.secret.as_bytes(), body.as_bytes());
    let resp = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header("x-recourse-delivery", d.id.to_string())
        .header("x-recourse-event", d.event.kind.name())
        .header("x-recourse-signature", format!("sha256={signature}"))
        .body(body)
        .send()
        .await
        .map_err(|e| format!("could not reach the webhook: {}", e.without_url()))?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(format!("the webhook answered {}", resp.status()))
    }
}

/// How long a node's claim on a batch of deliveries lasts by default: a node that dies
/// mid-send lets another retry after that.
pub const CLAIM_LEASE: Duration = Duration::from_secs(120);

/// One round of webhook delivery: claim what is due, send it, record the results.
/// Returns how many were attempted.
pub async fn deliver_due(store: &Store, client: &reqwest::Client) -> usize {
    deliver_due_leased(store, client, CLAIM_LEASE).await
}

async fn deliver_due_leased(store: &Store, client: &reqwest::Client, lease: Duration) -> usize {
    let claimed = match store
        .claim_deliveries(now(), lease.as_millis() as i64, 50)
        .await
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "claiming webhook deliveries failed");
            return 0;
        }
    };
    for d in &claimed {
        let result = deliver(client, d).await;
        if let Err(reason) = &result {
            tracing::info!(delivery = d.id, attempt = d.attempt, %reason, "webhook delivery failed");
        }
        if let Err(e) = store.finish_delivery(d.id, result, now()).await {
            tracing::warn!(error = %e, "recording a webhook delivery failed");
        }
    }
    claimed.len()
}

pub fn webhook_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

pub async fn run_webhooks(store: Arc<Store>, every: Duration, lease: Duration) {
    let client = webhook_client();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        while deliver_due_leased(store.as_ref(), &client, lease).await > 0 {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 of RFC 4231.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block is hashed first.
        assert_eq!(
            sign(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
