//! The demeanor judge and the reply coach (DESIGN.md §3, principles P1, P2, P9).
//!
//! Empty on purpose in the foundation: the judge arrives with its own issue, as a pure,
//! deterministic crate (lexicon baseline plus a small trained linear model) that the
//! store and web crates call for every inbound message and every draft reply.
