//! A typed client for `/api/v1`: one method per operation, with request bodies as
//! structs. The server's own request types are private to `recourse-web` (and only
//! `Deserialize`), so these mirror them field by field; answers stay `serde_json::Value`
//! so that a test can look at exactly what the API sent.

use reqwest::StatusCode;
use serde::Serialize;
use serde_json::Value;

use crate::harness::{TestApp, urlencode};

/// An answer: its status and its JSON body (or the text, as a JSON string).
pub type Answer = (StatusCode, Value);

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CustomerRef {
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `POST /api/v1/tickets`
#[derive(Debug, Clone, Default, Serialize)]
pub struct CreateTicket {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerRef>,
    pub subject: String,
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub need: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

impl CreateTicket {
    /// A ticket written by the caller (a customer's token).
    pub fn new(subject: &str, body: &str) -> Self {
        CreateTicket {
            subject: subject.into(),
            body: body.into(),
            ..Default::default()
        }
    }
    /// A ticket an agent opens for the customer at `email`.
    pub fn for_customer(email: &str, subject: &str, body: &str) -> Self {
        CreateTicket {
            customer: Some(CustomerRef {
                email: email.into(),
                name: None,
            }),
            ..Self::new(subject, body)
        }
    }
    pub fn customer_name(mut self, name: &str) -> Self {
        self.customer.as_mut().unwrap().name = s(name);
        self
    }
    pub fn need(mut self, need: &str) -> Self {
        self.need = s(need);
        self
    }
    pub fn priority(mut self, priority: &str) -> Self {
        self.priority = s(priority);
        self
    }
    pub fn tags(mut self, tags: &[&str]) -> Self {
        self.tags = Some(tags.iter().map(|t| t.to_string()).collect());
        self
    }
}

/// `POST /api/v1/tickets/{id}/messages`
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub body: String,
}

impl NewMessage {
    pub fn reply(body: &str) -> Self {
        NewMessage {
            kind: s("reply"),
            body: body.into(),
        }
    }
    pub fn note(body: &str) -> Self {
        NewMessage {
            kind: s("note"),
            body: body.into(),
        }
    }
    /// A message with no kind: what a customer sends.
    pub fn plain(body: &str) -> Self {
        NewMessage {
            kind: None,
            body: body.into(),
        }
    }
}

/// `POST /api/v1/tickets/{id}/interventions`
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewIntervention {
    pub kind: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

impl NewIntervention {
    pub fn new(kind: &str, description: &str) -> Self {
        NewIntervention {
            kind: kind.into(),
            description: description.into(),
            result: None,
        }
    }
    pub fn result(mut self, result: &str) -> Self {
        self.result = s(result);
        self
    }
}

/// `PATCH /api/v1/tickets/{id}`
#[derive(Debug, Clone, Default, Serialize)]
pub struct TicketPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

impl TicketPatch {
    pub fn status(status: &str) -> Self {
        TicketPatch {
            status: s(status),
            ..Default::default()
        }
    }
    pub fn assignee(id: i64) -> Self {
        TicketPatch {
            assignee_id: Some(id),
            ..Default::default()
        }
    }
}

/// `POST /api/v1/tickets/{id}/escalations`
#[derive(Debug, Clone, Default, Serialize)]
pub struct Escalate {
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Escalate {
    pub fn because(reason: &str) -> Self {
        Escalate {
            reason: reason.into(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ThirdParty {
    pub who: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_theirs: Option<String>,
}

/// `POST /api/v1/tickets/{id}/cant-help`
#[derive(Debug, Clone, Default, Serialize)]
pub struct CantHelp {
    pub reason: String,
    pub explanation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial_solution: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_partial_justification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub third_party: Option<ThirdParty>,
}

/// `POST /api/v1/tickets/{id}/cant-help/review`
#[derive(Debug, Clone, Default, Serialize)]
pub struct Review {
    pub approve: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial_solution: Option<String>,
}

/// `POST /api/v1/tickets/{id}/transfer`
#[derive(Debug, Clone, Default, Serialize)]
pub struct Transfer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_agent_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_rung: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_message: Option<String>,
}

/// `POST /api/v1/alternatives`
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewAlternative {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serves: Option<Vec<String>>,
    pub contact: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// `POST /api/v1/tickets/{id}/referral`
#[derive(Debug, Clone, Default, Serialize)]
pub struct Referral {
    pub alternative_id: i64,
    pub reason: String,
}

/// `PUT /api/v1/surveys/{token}`
#[derive(Debug, Clone, Default, Serialize)]
pub struct SurveyAnswer {
    pub product: u8,
    pub pleasantness: u8,
    pub competence: u8,
    pub recommend: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `POST /api/v1/judge/coach`
#[derive(Debug, Clone, Default, Serialize)]
pub struct Coach {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<i64>,
    pub draft: String,
}

/// `POST /api/v1/canned-replies`, `PUT /api/v1/canned-replies/{id}`
#[derive(Debug, Clone, Default, Serialize)]
pub struct CannedReply {
    pub title: String,
    pub body: String,
}

impl CannedReply {
    pub fn new(title: &str, body: &str) -> Self {
        CannedReply {
            title: title.into(),
            body: body.into(),
        }
    }
}

/// `POST /api/v1/practice/scenarios`, `PUT /api/v1/practice/scenarios/{id}`
#[derive(Debug, Clone, Default, Serialize)]
pub struct PracticeScenario {
    pub kind: String,
    pub subject: String,
    pub topic: String,
    pub customer_message: String,
    pub need: String,
    pub good_answer: String,
    pub example_answer: String,
}

impl PracticeScenario {
    pub fn new(kind: &str, subject: &str) -> Self {
        PracticeScenario {
            kind: kind.into(),
            subject: subject.into(),
            topic: "delivery".into(),
            customer_message: "My parcel is a week late and nobody answers the phone.".into(),
            need: "the parcel delivered".into(),
            good_answer: "Apologises, gives a delivery day and a way to reach us.".into(),
            example_answer: "I'm sorry it is a week late. It will arrive on Friday morning.".into(),
        }
    }
}

/// `POST /api/v1/practice/scenarios/{id}/attempts`
#[derive(Debug, Clone, Default, Serialize)]
pub struct PracticeAttempt {
    pub reply: String,
}

/// `POST /api/v1/agents`
#[derive(Debug, Clone, Default, Serialize)]
pub struct CreateAgent {
    pub email: String,
    pub name: String,
    pub role: String,
    pub experience: String,
    pub password: String,
}

/// `PATCH /api/v1/agents/{id}`. `team_id: Some(Value::Null)` takes the agent out of
/// their team; `None` leaves it alone.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AgentPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub experience: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

impl AgentPatch {
    pub fn active(active: bool) -> Self {
        AgentPatch {
            active: Some(active),
            ..Default::default()
        }
    }
}

/// `POST /api/v1/tokens`
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewToken {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl NewToken {
    pub fn named(name: &str) -> Self {
        NewToken {
            name: name.into(),
            ..Default::default()
        }
    }
}

/// `POST /api/v1/webhooks`
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewWebhook {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
}

impl NewWebhook {
    pub fn to(url: &str) -> Self {
        NewWebhook {
            url: url.into(),
            events: None,
        }
    }
}

/// `PUT /api/v1/sla/calendar`
#[derive(Debug, Clone, Default, Serialize)]
pub struct Calendar {
    pub time_zone: String,
    pub hours: Vec<Value>,
}

/// The API as one caller sees it.
pub struct Client<'a> {
    pub app: &'a TestApp,
    pub token: String,
}

impl Client<'_> {
    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.app.call(method, path, &self.token, body).await
    }
    async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, None).await
    }
    async fn post<T: Serialize>(&self, path: &str, body: &T) -> Answer {
        self.send("POST", path, Some(serde_json::to_value(body).unwrap()))
            .await
    }
    async fn put<T: Serialize>(&self, path: &str, body: &T) -> Answer {
        self.send("PUT", path, Some(serde_json::to_value(body).unwrap()))
            .await
    }
    async fn patch<T: Serialize>(&self, path: &str, body: &T) -> Answer {
        self.send("PATCH", path, Some(serde_json::to_value(body).unwrap()))
            .await
    }

    // Tickets.
    pub async fn create_ticket(&self, t: &CreateTicket) -> Answer {
        self.post("/api/v1/tickets", t).await
    }
    pub async fn ticket(&self, id: i64) -> Answer {
        self.get(&format!("/api/v1/tickets/{id}")).await
    }
    /// `GET /api/v1/tickets?{query}`; `query` as `key=value&…`, values already encoded.
    pub async fn tickets(&self, query: &str) -> Answer {
        if query.is_empty() {
            self.get("/api/v1/tickets").await
        } else {
            self.get(&format!("/api/v1/tickets?{query}")).await
        }
    }
    pub async fn update_ticket(&self, id: i64, p: &TicketPatch) -> Answer {
        self.patch(&format!("/api/v1/tickets/{id}"), p).await
    }
    pub async fn add_message(&self, id: i64, m: &NewMessage) -> Answer {
        self.post(&format!("/api/v1/tickets/{id}/messages"), m)
            .await
    }
    pub async fn record_intervention(&self, id: i64, i: &NewIntervention) -> Answer {
        self.post(&format!("/api/v1/tickets/{id}/interventions"), i)
            .await
    }
    pub async fn search(&self, q: &str) -> Answer {
        self.get(&format!("/api/v1/search?q={}", urlencode(q)))
            .await
    }
    pub async fn set_presence(&self, agent: i64, present: bool) -> Answer {
        self.put(
            &format!("/api/v1/agents/{agent}/presence"),
            &serde_json::json!({"present": present}),
        )
        .await
    }
    pub async fn mark_demeanor(&self, ticket: i64, message: i64, demeanor: &str) -> Answer {
        self.put(
            &format!("/api/v1/tickets/{ticket}/messages/{message}/demeanor"),
            &serde_json::json!({"demeanor": demeanor}),
        )
        .await
    }
    pub async fn reveal(&self, ticket: i64, message: i64) -> Answer {
        self.send(
            "POST",
            &format!("/api/v1/tickets/{ticket}/messages/{message}/reveal"),
            None,
        )
        .await
    }

    // The ladder and its settings.
    pub async fn ladder(&self) -> Answer {
        self.get("/api/v1/ladder").await
    }
    /// The ladder is sent back as read (its shape is the server's view).
    pub async fn put_ladder(&self, ladder: &Value) -> Answer {
        self.put("/api/v1/ladder", ladder).await
    }
    pub async fn put_template(&self, key: &str, body: &str) -> Answer {
        self.put(
            &format!("/api/v1/templates/{key}"),
            &serde_json::json!({"body": body}),
        )
        .await
    }
    pub async fn put_calendar(&self, c: &Calendar) -> Answer {
        self.put("/api/v1/sla/calendar", c).await
    }
    pub async fn escalation_draft(&self, id: i64) -> Answer {
        self.get(&format!("/api/v1/tickets/{id}/escalations/draft"))
            .await
    }
    pub async fn escalate(&self, id: i64, e: &Escalate) -> Answer {
        self.post(&format!("/api/v1/tickets/{id}/escalations"), e)
            .await
    }
    pub async fn escalations(&self, id: i64) -> Answer {
        self.get(&format!("/api/v1/tickets/{id}/escalations")).await
    }
    pub async fn descend(&self, id: i64, note: &str) -> Answer {
        self.post(
            &format!("/api/v1/tickets/{id}/descents"),
            &serde_json::json!({"note": note}),
        )
        .await
    }

    // When we can't help.
    pub async fn cant_help(&self, id: i64, c: &CantHelp) -> Answer {
        self.post(&format!("/api/v1/tickets/{id}/cant-help"), c)
            .await
    }
    pub async fn review_cant_help(&self, id: i64, r: &Review) -> Answer {
        self.post(&format!("/api/v1/tickets/{id}/cant-help/review"), r)
            .await
    }
    pub async fn reviews(&self) -> Answer {
        self.get("/api/v1/reviews").await
    }
    pub async fn transfer(&self, id: i64, t: &Transfer) -> Answer {
        self.post(&format!("/api/v1/tickets/{id}/transfer"), t)
            .await
    }
    pub async fn create_alternative(&self, a: &NewAlternative) -> Answer {
        self.post("/api/v1/alternatives", a).await
    }
    pub async fn referral_suggestions(&self, id: i64) -> Answer {
        self.get(&format!("/api/v1/tickets/{id}/referral/suggestions"))
            .await
    }
    pub async fn refer(&self, id: i64, r: &Referral) -> Answer {
        self.post(&format!("/api/v1/tickets/{id}/referral"), r)
            .await
    }
    pub async fn inconsolable(&self, id: i64, note: &str) -> Answer {
        self.post(
            &format!("/api/v1/tickets/{id}/inconsolable"),
            &serde_json::json!({"note": note}),
        )
        .await
    }
    pub async fn handoff(&self, id: i64) -> Answer {
        self.send("POST", &format!("/api/v1/tickets/{id}/handoff"), None)
            .await
    }
    pub async fn customer(&self, id: i64) -> Answer {
        self.get(&format!("/api/v1/customers/{id}")).await
    }
    pub async fn set_supervision(&self, id: i64, supervised: bool) -> Answer {
        self.put(
            &format!("/api/v1/customers/{id}/supervision"),
            &serde_json::json!({"supervised": supervised}),
        )
        .await
    }
    /// `GET /api/v1/reports/summary?{query}`
    pub async fn report_summary(&self, query: &str) -> Answer {
        if query.is_empty() {
            self.get("/api/v1/reports/summary").await
        } else {
            self.get(&format!("/api/v1/reports/summary?{query}")).await
        }
    }

    // Surveys (by the link's token; no credential needed).
    pub async fn survey(&self, token: &str) -> Answer {
        self.get(&format!("/api/v1/surveys/{token}")).await
    }
    pub async fn answer_survey(&self, token: &str, a: &SurveyAnswer) -> Answer {
        self.put(&format!("/api/v1/surveys/{token}"), a).await
    }

    // The judge and the coach.
    pub async fn judge_demeanor(&self, text: &str) -> Answer {
        self.post("/api/v1/judge/demeanor", &serde_json::json!({"text": text}))
            .await
    }
    pub async fn coach(&self, c: &Coach) -> Answer {
        self.post("/api/v1/judge/coach", c).await
    }

    // Canned replies.
    pub async fn create_canned(&self, c: &CannedReply) -> Answer {
        self.post("/api/v1/canned-replies", c).await
    }
    // The practice desk.
    pub async fn practice_scenarios(&self) -> Answer {
        self.get("/api/v1/practice/scenarios").await
    }
    pub async fn practice_scenario(&self, id: i64) -> Answer {
        self.get(&format!("/api/v1/practice/scenarios/{id}")).await
    }
    pub async fn create_practice_scenario(&self, s: &PracticeScenario) -> Answer {
        self.post("/api/v1/practice/scenarios", s).await
    }
    pub async fn replace_practice_scenario(&self, id: i64, s: &PracticeScenario) -> Answer {
        self.put(&format!("/api/v1/practice/scenarios/{id}"), s)
            .await
    }
    pub async fn practise(&self, scenario: i64, reply: &str) -> Answer {
        self.post(
            &format!("/api/v1/practice/scenarios/{scenario}/attempts"),
            &PracticeAttempt {
                reply: reply.into(),
            },
        )
        .await
    }
    pub async fn practice_progress(&self) -> Answer {
        self.get("/api/v1/practice/progress").await
    }
    pub async fn practice_team(&self) -> Answer {
        self.get("/api/v1/practice/team").await
    }
    pub async fn canned_replies(&self) -> Answer {
        self.get("/api/v1/canned-replies").await
    }
    pub async fn render_canned(&self, id: i64, ticket: i64) -> Answer {
        self.get(&format!(
            "/api/v1/canned-replies/{id}/render?ticket_id={ticket}"
        ))
        .await
    }
    pub async fn replace_canned(&self, id: i64, c: &CannedReply) -> Answer {
        self.put(&format!("/api/v1/canned-replies/{id}"), c).await
    }
    pub async fn delete_canned(&self, id: i64) -> Answer {
        self.send("DELETE", &format!("/api/v1/canned-replies/{id}"), None)
            .await
    }

    // People, teams and tokens.
    pub async fn me(&self) -> Answer {
        self.get("/api/v1/me").await
    }
    pub async fn agents(&self) -> Answer {
        self.get("/api/v1/agents").await
    }
    pub async fn create_agent(&self, a: &CreateAgent) -> Answer {
        self.post("/api/v1/agents", a).await
    }
    pub async fn update_agent(&self, id: i64, p: &AgentPatch) -> Answer {
        self.patch(&format!("/api/v1/agents/{id}"), p).await
    }
    pub async fn create_team(&self, name: &str) -> Answer {
        self.post("/api/v1/teams", &serde_json::json!({"name": name}))
            .await
    }
    pub async fn teams(&self) -> Answer {
        self.get("/api/v1/teams").await
    }
    pub async fn create_token(&self, t: &NewToken) -> Answer {
        self.post("/api/v1/tokens", t).await
    }
    pub async fn tokens(&self) -> Answer {
        self.get("/api/v1/tokens").await
    }
    pub async fn revoke_token(&self, id: &Value) -> Answer {
        self.send("DELETE", &format!("/api/v1/tokens/{id}"), None)
            .await
    }

    // Webhooks.
    pub async fn create_webhook(&self, w: &NewWebhook) -> Answer {
        self.post("/api/v1/webhooks", w).await
    }
    pub async fn webhooks(&self) -> Answer {
        self.get("/api/v1/webhooks").await
    }
    pub async fn deliveries(&self, hook: &Value) -> Answer {
        self.get(&format!("/api/v1/webhooks/{hook}/deliveries"))
            .await
    }

    // Mail.
    pub async fn create_mailbox(&self, address: &str) -> Answer {
        self.post(
            "/api/v1/mailboxes",
            &serde_json::json!({"address": address}),
        )
        .await
    }
    pub async fn mailboxes(&self) -> Answer {
        self.get("/api/v1/mailboxes").await
    }
    pub async fn delete_mailbox(&self, id: i64) -> Answer {
        self.send("DELETE", &format!("/api/v1/mailboxes/{id}"), None)
            .await
    }
    pub async fn inbound_mail(&self, state: &str) -> Answer {
        self.get(&format!("/api/v1/mail/inbound?state={state}"))
            .await
    }
    pub async fn reprocess_mail(&self, id: i64) -> Answer {
        self.send(
            "POST",
            &format!("/api/v1/mail/inbound/{id}/reprocess"),
            None,
        )
        .await
    }

    // Operations.
    pub async fn healthz(&self) -> Answer {
        self.get("/healthz").await
    }
    pub async fn readyz(&self) -> Answer {
        self.get("/readyz").await
    }
    pub async fn metrics(&self) -> Answer {
        self.get("/metrics").await
    }
    pub async fn openapi(&self) -> Answer {
        self.get("/api/v1/openapi.json").await
    }
}
