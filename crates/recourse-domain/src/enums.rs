use std::fmt;

/// A string that names none of an enumeration's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {kind}; expected one of: {}", expected.join(", "))]
pub struct UnknownVariant {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static [&'static str],
}

/// Declares a closed set of snake_case words with `parse`, `as_str` and serde support.
macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident : $kind:literal { $($(#[$vm:meta])* $var:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $var),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            pub const WORDS: &'static [&'static str] = &[$($s),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$var => $s),+ }
            }

            pub fn parse(s: &str) -> Result<Self, UnknownVariant> {
                match s {
                    $($s => Ok($name::$var),)+
                    _ => Err(UnknownVariant { kind: $kind, value: s.to_owned(), expected: Self::WORDS }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&s).map_err(|_| serde::de::Error::unknown_variant(&s, Self::WORDS))
            }
        }
    };
}
pub(crate) use word_enum;

word_enum!(
    /// What an agent may do on the desk as a whole.
    Role: "role" { Agent = "agent", Manager = "manager", Admin = "admin" }
);

word_enum!(
    /// How much an agent has seen; hard cases go to the experienced (P5).
    Experience: "experience" { Junior = "junior", Experienced = "experienced", Senior = "senior" }
);

word_enum!(
    Priority: "priority" { Low = "low", Normal = "normal", High = "high", Urgent = "urgent" }
);

word_enum!(
    /// Inbound comes from the customer; a reply goes to them; a note stays inside.
    MessageKind: "message kind" { Inbound = "inbound", Reply = "reply", Note = "note" }
);

word_enum!(
    /// Where a message came from or went to.
    Channel: "channel" { Api = "api", Email = "email", Portal = "portal", Console = "console" }
);

word_enum!(
    /// Something done for the customer, recorded so a handoff can say what was tried (P4).
    InterventionKind: "intervention kind" {
        Apology = "apology",
        Explanation = "explanation",
        Refund = "refund",
        Replacement = "replacement",
        Credit = "credit",
        Expedite = "expedite",
        Workaround = "workaround",
        Callback = "callback",
        Other = "other",
    }
);

word_enum!(
    InterventionResult: "intervention result" { Accepted = "accepted", Declined = "declined", Pending = "pending" }
);

word_enum!(
    /// How a case ended. Only `resolved` is set by the core ticket flow; the others are
    /// reached through the can't-help, referral and manager paths.
    Outcome: "outcome" {
        Resolved = "resolved",
        Explained = "explained",
        Referred = "referred",
        Inconsolable = "inconsolable",
        Withdrawn = "withdrawn",
    }
);

word_enum!(
    /// Why a case moved up the ladder. Escalating is never a mark against anyone (P3):
    /// reasons are counted by rung, never by agent.
    EscalationReason: "escalation reason" {
        AgentRequest = "agent_request",
        CustomerRequest = "customer_request",
        SlaBreach = "sla_breach",
        Demeanor = "demeanor",
        Abuse = "abuse",
        RepeatedContact = "repeated_contact",
        NeedsExperience = "needs_experience",
    }
);

word_enum!(
    /// How a customer's message reads (the judge's label, or an agent's).
    Demeanor: "demeanor" {
        Pleased = "pleased",
        Neutral = "neutral",
        Frustrated = "frustrated",
        Angry = "angry",
        Abusive = "abusive",
    }
);

impl Demeanor {
    pub fn is_negative(self) -> bool {
        matches!(
            self,
            Demeanor::Frustrated | Demeanor::Angry | Demeanor::Abusive
        )
    }
}

word_enum!(
    /// The three promises an SLA policy makes: a first answer, regular updates, an end.
    SlaClock: "SLA clock" {
        FirstResponse = "first_response",
        NextUpdate = "next_update",
        Resolution = "resolution",
    }
);

impl SlaClock {
    /// The clock's bit in the ticket's `sla_warned` / `sla_breached` masks.
    pub fn bit(self) -> u8 {
        match self {
            SlaClock::FirstResponse => 1,
            SlaClock::NextUpdate => 2,
            SlaClock::Resolution => 4,
        }
    }
}

impl Role {
    /// Managers and admins may do what the rung below them may.
    pub fn at_least(self, other: Role) -> bool {
        self.rank() >= other.rank()
    }

    fn rank(self) -> u8 {
        match self {
            Role::Agent => 0,
            Role::Manager => 1,
            Role::Admin => 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_round_trips() {
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Ok(*p));
        }
        for k in InterventionKind::ALL {
            assert_eq!(InterventionKind::parse(k.as_str()), Ok(*k));
        }
    }

    #[test]
    fn unknown_word_names_the_choices() {
        let err = Priority::parse("asap").unwrap_err();
        assert_eq!(err.value, "asap");
        assert!(
            err.to_string().contains("low, normal, high, urgent"),
            "{err}"
        );
    }

    #[test]
    fn serde_rejects_unknown_variant() {
        let err = serde_json::from_str::<Role>("\"boss\"").unwrap_err();
        assert!(err.to_string().contains("unknown variant"), "{err}");
    }

    #[test]
    fn role_order() {
        assert!(Role::Admin.at_least(Role::Manager));
        assert!(!Role::Agent.at_least(Role::Manager));
    }
}
