//! The desk: every use case of Recourse as one plain async method on [`Desk`].
//!
//! A use case opens a transaction on the store, locks what it changes, checks the
//! caller's right on the locked row, runs the domain's pure rules
//! (`recourse_domain::ladder`, `::sla`, `::change`) and writes what they decided through
//! the store's transaction interface ([`recourse_store::Tx`]). The channels (the API,
//! the console and portal, the mail pipeline, the sweeper, the CLI) call the desk; none
//! of them changes a ticket any other way.
//!
//! Where each use case lives:
//!
//! - [`tickets`]: open a ticket (routing on arrival), add a message, change a ticket;
//! - [`escalation`]: the handoff draft, moving a case up, a manager moving it down;
//! - [`rules`]: the automatic escalation rules after a customer writes or is re-read;
//! - [`sweeper`]: one pass of the SLA sweeper;
//! - [`people`]: presence (away hands tickets on) and reading a customer's message;
//! - [`recovery`]: can't-help and its review, transfers, referrals, handing a case off,
//!   revealing masked words, supervising a customer, the satisfaction survey;
//! - [`practice`]: the practice desk, where agents rehearse replies to made-up customers.

pub mod escalation;
pub mod people;
pub mod practice;
pub mod recovery;
pub mod rules;
pub mod sweeper;
pub mod tickets;

use std::sync::Arc;

// What the channels read and pass in, so they need nothing from the store crate itself
// (the web crate does not depend on it). Write transactions (`Tx`) stay inside the desk.
pub use recourse_store::{
    AgentChange, ApiToken, AssigneeFilter, CannedReply, CantHelpRecord, CantHelpRequest,
    CantHelpReview, ConsoleQueue, Delivery, Descent, DeskConfig, EscalationRecord,
    EscalationRequest, HandoffPlan, MailState, NewAgent, NewAlternative, NewApiToken,
    NewCannedReply, NewIntervention, NewMessage, NewPortalAttachment, NewPortalSession,
    NewPracticeScenario, NewSession, NewTicket, PortalAttachment, PortalLinkState, PracticeAttempt,
    PracticeScenario, PracticeTally, Principal, ReferralRequest, ReportQuery, SearchQuery, Store,
    StoreError, Survey, SweepReport, TicketFilter, TicketFlag, TicketFor, TransferRequest, Webhook,
    config,
};

/// The desk's use cases over one store.
#[derive(Clone)]
pub struct Desk {
    store: Arc<Store>,
}

impl Desk {
    pub fn new(store: Arc<Store>) -> Self {
        Desk { store }
    }

    /// The store, for reads that need no rule (listings, search, reports).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }
}

/// Why a use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// The caller may not do this to this record (checked on the locked row).
    #[error("{0}")]
    Forbidden(&'static str),
    /// The request itself is unusable (an empty practice reply, an unknown scenario
    /// kind): a stable code and a sentence for the person who sent it.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<recourse_domain::ChangeError> for DeskError {
    fn from(e: recourse_domain::ChangeError) -> Self {
        DeskError::Store(e.into())
    }
}

impl From<recourse_domain::LadderError> for DeskError {
    fn from(e: recourse_domain::LadderError) -> Self {
        DeskError::Store(e.into())
    }
}

pub type Result<T, E = DeskError> = std::result::Result<T, E>;
