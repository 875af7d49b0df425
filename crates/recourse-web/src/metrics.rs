//! A handful of Prometheus counters, exposed in the text format at `/metrics`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

#[derive(Default)]
pub struct Metrics {
    /// (method, route, status) → count. Routes are templates, so the label set stays small.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency_micros_sum: AtomicU64,
    latency_count: AtomicU64,
    pub tickets_created: AtomicU64,
    pub messages_added: AtomicU64,
    pub logins_failed: AtomicU64,
}

impl Metrics {
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP recourse_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE recourse_http_requests_total counter\n");
        for ((method, route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            out.push_str(&format!("recourse_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}\n"));
        }
        let sum = self.latency_micros_sum.load(Ordering::Relaxed) as f64 / 1e6;
        out.push_str(
            "# HELP recourse_http_request_duration_seconds Time spent answering requests.\n",
        );
        out.push_str("# TYPE recourse_http_request_duration_seconds summary\n");
        out.push_str(&format!(
            "recourse_http_request_duration_seconds_sum {sum}\n"
        ));
        out.push_str(&format!(
            "recourse_http_request_duration_seconds_count {}\n",
            self.latency_count.load(Ordering::Relaxed)
        ));
        for (name, help, v) in [
            (
                "recourse_tickets_created_total",
                "Tickets created.",
                &self.tickets_created,
            ),
            (
                "recourse_messages_added_total",
                "Messages added to tickets.",
                &self.messages_added,
            ),
            (
                "recourse_logins_failed_total",
                "Failed sign-in attempts.",
                &self.logins_failed,
            ),
        ] {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                v.load(Ordering::Relaxed)
            ));
        }
        out
    }
}

pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    let m = &state.metrics;
    m.latency_micros_sum
        .fetch_add(start.elapsed().as_micros() as u64, Ordering::Relaxed);
    m.latency_count.fetch_add(1, Ordering::Relaxed);
    *m.requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry((method, route, resp.status().as_u16()))
        .or_default() += 1;
    resp
}
