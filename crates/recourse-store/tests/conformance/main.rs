//! Store conformance suite: every behaviour runs against both backends of the store.
//!
//! SQLite always runs (a fresh file in a temporary directory per test). PostgreSQL runs
//! when `RECOURSE_TEST_PG_URL` names a server we may create databases on; each test gets
//! its own `recourse_test_<unique>` database, dropped again when the test passes. Without
//! the variable the PostgreSQL tests are skipped locally and fail under CI (`CI` set).
//!
//! Tests are named `<area>::<backend>::<behaviour>` (see `on_both!` in the harness) and set up
//! only what they need through the fixtures of their module and of [`harness`].
//!
//! The modules come in two groups: the rows the store keeps and reads back, and the use
//! cases that run on top of them (routing, the ladder, automatic rules, presence, the SLA
//! sweeper, recovery, and the rules of a ticket change). The second group exercises code
//! that may move out of the store into a desk layer; each of its files can move whole.

#[macro_use]
mod harness;
#[path = "../support/usecases.rs"]
mod usecases;

// Rows: what the store keeps and how it reads it back.
mod concurrency;
mod console;
mod copy;
mod credentials;
mod events;
mod group_commit;
mod listing;
mod mail;
mod reports;
mod search;
mod seed;
mod tickets;
mod webhooks;

// Use cases: what happens to a ticket, run today inside the store.
mod automatic_rules;
mod ladder;
mod presence;
mod recovery;
mod routing;
mod rules;
mod sla;
mod sweeper;
