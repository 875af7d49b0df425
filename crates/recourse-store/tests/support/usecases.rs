//! The use cases these stories exercise live in the desk (`recourse-desk`); the stories
//! reach them through this adapter, which keeps the store's error type the stories
//! match on. (The refusals the desk adds, `Forbidden` and `Invalid`, read as a conflict here.)

use std::sync::Arc;

use recourse_desk::{Desk, DeskError};
use recourse_domain::recovery::SurveyAnswer;
use recourse_domain::{
    Actor, Agent, AgentId, Customer, CustomerId, Demeanor, EscalationReason, Message, MessageId,
    Millis, Ticket, TicketChange, TicketId,
};
use recourse_store::{
    CantHelpRecord, CantHelpRequest, CantHelpReview, Descent, EscalationRequest, HandoffPlan,
    NewMessage, NewTicket, ReferralRequest, Store, StoreError, Survey, SweepReport,
    TransferRequest,
};

fn store_error(e: DeskError) -> StoreError {
    match e {
        DeskError::Store(e) => e,
        DeskError::Forbidden(why) => StoreError::Conflict(why.into()),
        DeskError::Invalid { message, .. } => StoreError::Conflict(message),
    }
}

#[allow(dead_code)]
pub(crate) trait UseCases {
    async fn create_ticket(&self, t: NewTicket) -> Result<Ticket, StoreError>;
    async fn add_message(&self, m: NewMessage) -> Result<(Message, Ticket), StoreError>;
    async fn update_ticket(
        &self,
        id: TicketId,
        change: TicketChange,
        actor: Actor,
        now: Millis,
    ) -> Result<Ticket, StoreError>;
    async fn handoff_plan(
        &self,
        id: TicketId,
        reason: EscalationReason,
        now: Millis,
    ) -> Result<HandoffPlan, StoreError>;
    async fn escalate(&self, r: EscalationRequest) -> Result<Ticket, StoreError>;
    async fn move_down(&self, r: Descent) -> Result<Ticket, StoreError>;
    async fn set_presence(
        &self,
        agent: AgentId,
        present: bool,
        actor: Actor,
        now: Millis,
    ) -> Result<(Agent, Vec<TicketId>), StoreError>;
    async fn set_demeanor(
        &self,
        message: MessageId,
        demeanor: Demeanor,
        actor: Actor,
        now: Millis,
    ) -> Result<Ticket, StoreError>;
    async fn sweep_sla(&self, now: Millis, limit: i64) -> Result<SweepReport, StoreError>;
    async fn cant_help(&self, r: CantHelpRequest) -> Result<(Ticket, CantHelpRecord), StoreError>;
    async fn review_cant_help(
        &self,
        r: CantHelpReview,
    ) -> Result<(Ticket, CantHelpRecord), StoreError>;
    async fn transfer(&self, r: TransferRequest) -> Result<Ticket, StoreError>;
    async fn refer(&self, r: ReferralRequest) -> Result<Ticket, StoreError>;
    async fn hand_off(
        &self,
        ticket: TicketId,
        agent: AgentId,
        now: Millis,
    ) -> Result<Ticket, StoreError>;
    async fn reveal_message(
        &self,
        message: MessageId,
        actor: Actor,
        now: Millis,
    ) -> Result<Message, StoreError>;
    async fn set_supervised(
        &self,
        customer: CustomerId,
        supervised: bool,
        actor: Actor,
        now: Millis,
    ) -> Result<Customer, StoreError>;
    async fn open_survey(
        &self,
        ticket: TicketId,
        token_hash: &str,
        invite: &str,
        now: Millis,
    ) -> Result<bool, StoreError>;
    async fn answer_survey(
        &self,
        token_hash: &str,
        answer: SurveyAnswer,
        comment: Option<String>,
        now: Millis,
    ) -> Result<Survey, StoreError>;
}

impl UseCases for Arc<Store> {
    async fn create_ticket(&self, t: NewTicket) -> Result<Ticket, StoreError> {
        Desk::new(self.clone())
            .open_ticket(t)
            .await
            .map_err(store_error)
    }
    async fn add_message(&self, m: NewMessage) -> Result<(Message, Ticket), StoreError> {
        Desk::new(self.clone())
            .add_message(m)
            .await
            .map_err(store_error)
    }
    async fn update_ticket(
        &self,
        id: TicketId,
        change: TicketChange,
        actor: Actor,
        now: Millis,
    ) -> Result<Ticket, StoreError> {
        Desk::new(self.clone())
            .change_ticket(id, change, actor, now)
            .await
            .map_err(store_error)
    }
    async fn handoff_plan(
        &self,
        id: TicketId,
        reason: EscalationReason,
        now: Millis,
    ) -> Result<HandoffPlan, StoreError> {
        Desk::new(self.clone())
            .handoff_draft(id, reason, now)
            .await
            .map_err(store_error)
    }
    async fn escalate(&self, r: EscalationRequest) -> Result<Ticket, StoreError> {
        Desk::new(self.clone())
            .escalate(r)
            .await
            .map_err(store_error)
    }
    async fn move_down(&self, r: Descent) -> Result<Ticket, StoreError> {
        Desk::new(self.clone())
            .descend(r)
            .await
            .map_err(store_error)
    }
    async fn set_presence(
        &self,
        agent: AgentId,
        present: bool,
        actor: Actor,
        now: Millis,
    ) -> Result<(Agent, Vec<TicketId>), StoreError> {
        Desk::new(self.clone())
            .set_presence(agent, present, actor, now)
            .await
            .map_err(store_error)
    }
    async fn set_demeanor(
        &self,
        message: MessageId,
        demeanor: Demeanor,
        actor: Actor,
        now: Millis,
    ) -> Result<Ticket, StoreError> {
        Desk::new(self.clone())
            .set_demeanor(message, demeanor, actor, now)
            .await
            .map_err(store_error)
    }
    async fn sweep_sla(&self, now: Millis, limit: i64) -> Result<SweepReport, StoreError> {
        Desk::new(self.clone())
            .sweep_sla(now, limit)
            .await
            .map_err(store_error)
    }
    async fn cant_help(&self, r: CantHelpRequest) -> Result<(Ticket, CantHelpRecord), StoreError> {
        Desk::new(self.clone())
            .cant_help(r)
            .await
            .map_err(store_error)
    }
    async fn review_cant_help(
        &self,
        r: CantHelpReview,
    ) -> Result<(Ticket, CantHelpRecord), StoreError> {
        Desk::new(self.clone())
            .review_cant_help(r)
            .await
            .map_err(store_error)
    }
    async fn transfer(&self, r: TransferRequest) -> Result<Ticket, StoreError> {
        Desk::new(self.clone())
            .transfer(r)
            .await
            .map_err(store_error)
    }
    async fn refer(&self, r: ReferralRequest) -> Result<Ticket, StoreError> {
        Desk::new(self.clone()).refer(r).await.map_err(store_error)
    }
    async fn hand_off(
        &self,
        ticket: TicketId,
        agent: AgentId,
        now: Millis,
    ) -> Result<Ticket, StoreError> {
        Desk::new(self.clone())
            .hand_off(ticket, agent, now)
            .await
            .map_err(store_error)
    }
    async fn reveal_message(
        &self,
        message: MessageId,
        actor: Actor,
        now: Millis,
    ) -> Result<Message, StoreError> {
        Desk::new(self.clone())
            .reveal_message(message, actor, now)
            .await
            .map_err(store_error)
    }
    async fn set_supervised(
        &self,
        customer: CustomerId,
        supervised: bool,
        actor: Actor,
        now: Millis,
    ) -> Result<Customer, StoreError> {
        Desk::new(self.clone())
            .set_supervised(customer, supervised, actor, now)
            .await
            .map_err(store_error)
    }
    async fn open_survey(
        &self,
        ticket: TicketId,
        token_hash: &str,
        invite: &str,
        now: Millis,
    ) -> Result<bool, StoreError> {
        Desk::new(self.clone())
            .open_survey(ticket, token_hash, invite, now)
            .await
            .map_err(store_error)
    }
    async fn answer_survey(
        &self,
        token_hash: &str,
        answer: SurveyAnswer,
        comment: Option<String>,
        now: Millis,
    ) -> Result<Survey, StoreError> {
        Desk::new(self.clone())
            .answer_survey(token_hash, answer, comment, now)
            .await
            .map_err(store_error)
    }
}
