//! Who has a ticket open right now, so two agents don't answer the same customer at
//! once: each open ticket page reports in every few seconds (an htmx poll) and hears
//! who else is there and whether they are typing a reply.
//!
//! Kept in memory, per node: on a deployment of several `recourse serve` nodes behind
//! a load balancer, agents see only the colleagues whose polls reach the same node
//! (sticky sessions make that everyone). A lost notice costs a little duplicated
//! effort, never data, so it is not worth a database write every few seconds.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use recourse_domain::{AgentId, TicketId};

/// A page that stops reporting in is gone after this long (the poll runs every 7 s,
/// so two missed polls are forgiven).
pub(crate) const SEEN_TTL: Duration = Duration::from_secs(20);
/// "is replying" holds this long after the last keystroke reported.
pub(crate) const TYPING_TTL: Duration = Duration::from_secs(15);

#[derive(Debug, Clone)]
struct Viewer {
    agent: AgentId,
    name: String,
    seen: Instant,
    typed: Option<Instant>,
}

/// Someone else on the same ticket, as the notice shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Colleague {
    pub name: String,
    pub replying: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Presence {
    tickets: Mutex<HashMap<TicketId, Vec<Viewer>>>,
}

impl Presence {
    /// Records that `agent` has `ticket` open (and is typing, if so) and returns the
    /// other agents there now, by name.
    pub(crate) fn report(
        &self,
        ticket: TicketId,
        agent: AgentId,
        name: &str,
        typing: bool,
        now: Instant,
    ) -> Vec<Colleague> {
        let mut map = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        // Forget closed pages everywhere now and then, so the map never outgrows the
        // number of pages open at once.
        if map.len() > 64 {
            map.retain(|_, vs| {
                vs.retain(|v| now.duration_since(v.seen) < SEEN_TTL);
                !vs.is_empty()
            });
        }
        let viewers = map.entry(ticket).or_default();
        viewers.retain(|v| now.duration_since(v.seen) < SEEN_TTL);
        match viewers.iter_mut().find(|v| v.agent == agent) {
            Some(v) => {
                v.seen = now;
                v.name = name.to_owned();
                if typing {
                    v.typed = Some(now);
                }
            }
            None => viewers.push(Viewer {
                agent,
                name: name.to_owned(),
                seen: now,
                typed: typing.then_some(now),
            }),
        }
        let mut others: Vec<Colleague> = viewers
            .iter()
            .filter(|v| v.agent != agent)
            .map(|v| Colleague {
                name: v.name.clone(),
                replying: v.typed.is_some_and(|t| now.duration_since(t) < TYPING_TTL),
            })
            .collect();
        others.sort_by(|a, b| a.name.cmp(&b.name));
        others
    }

    /// The agent left the page (or sent their reply): drop them at once.
    pub(crate) fn leave(&self, ticket: TicketId, agent: AgentId) {
        let mut map = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(vs) = map.get_mut(&ticket) {
            vs.retain(|v| v.agent != agent);
            if vs.is_empty() {
                map.remove(&ticket);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sees_the_other_until_they_go_quiet() {
        let p = Presence::default();
        let (t, ana, ben) = (TicketId(1), AgentId(1), AgentId(2));
        let t0 = Instant::now();
        assert!(p.report(t, ana, "Ana", false, t0).is_empty());
        let seen = p.report(t, ben, "Ben", false, t0 + Duration::from_secs(1));
        assert_eq!(
            seen,
            vec![Colleague {
                name: "Ana".into(),
                replying: false
            }]
        );
        // Ben types; Ana hears it on her next poll.
        p.report(t, ben, "Ben", true, t0 + Duration::from_secs(2));
        let seen = p.report(t, ana, "Ana", false, t0 + Duration::from_secs(7));
        assert_eq!(
            seen,
            vec![Colleague {
                name: "Ben".into(),
                replying: true
            }]
        );
        // Typing wears off; a page that stops polling disappears.
        let later = t0 + Duration::from_secs(2) + TYPING_TTL;
        p.report(t, ben, "Ben", false, later);
        assert!(!p.report(t, ana, "Ana", false, later)[0].replying);
        let gone = later + SEEN_TTL;
        assert!(p.report(t, ana, "Ana", false, gone).is_empty());
        // Another ticket is another room.
        assert!(
            p.report(TicketId(2), ben, "Ben", false, gone).is_empty(),
            "tickets do not mix"
        );
        p.report(t, ben, "Ben", false, gone);
        p.leave(t, ben);
        assert!(p.report(t, ana, "Ana", false, gone).is_empty());
    }
}
