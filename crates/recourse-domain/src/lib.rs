//! Recourse's domain: the words the product speaks (DESIGN.md §2) as types, and the
//! pure rules over them. Nothing here does IO or reads a clock; callers pass time in.

mod change;
mod enums;
mod event;
mod ids;
pub mod ladder;
mod model;
pub mod recovery;
pub mod sla;
mod status;
pub mod template;
mod text;

pub use change::{ChangeError, TicketChange, apply_change, message_change};
pub use enums::{
    Channel, Demeanor, EscalationReason, Experience, InterventionKind, InterventionResult,
    MessageKind, Outcome, Priority, Role, SlaClock, UnknownVariant,
};
pub use event::{Actor, EventKind};
pub use ids::{
    AgentId, CustomerId, EventId, InterventionId, MessageId, OrganizationId, TeamId, TicketId,
};
pub use ladder::{Ladder, LadderError, Rung};
pub use model::{Agent, Customer, Event, Intervention, Message, Organization, Team, Ticket};
pub use recovery::CantHelpReason;
pub use sla::{Calendar, SlaClocks, SlaPolicy};
pub use status::{Status, TransitionError};
pub use text::{Body, EmailAddress, Need, PersonName, RungName, Subject, Tag, ValidationError};

/// Milliseconds since the Unix epoch, UTC. Stored as-is in both databases so that
/// ordering and arithmetic are the same on SQLite and PostgreSQL.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Millis(pub i64);

/// The three rungs every desk starts with; admins may reshape the ladder.
pub const DEFAULT_RUNGS: [&str; 3] = ["frontline", "experienced", "manager"];
