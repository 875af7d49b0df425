//! The API against the real server, by behaviour. Each test starts the app on 127.0.0.1
//! port 0 over a fresh database (`harness.rs`), sets up only what it needs, and talks
//! HTTP to it through the typed client (`client.rs`). Every test runs on SQLite, and on
//! PostgreSQL when `RECOURSE_TEST_PG_URL` is set (CI always sets it): `on_both!` makes
//! a `sqlite::` and a `postgres::` test of each.

mod client;
mod harness;

mod admin_pages;
mod auth;
mod canned;
mod customers;
mod escalations;
mod inputs;
mod judge;
mod mail;
mod people;
mod practice;
mod recovery;
mod reports;
mod surveys;
mod system;
mod tickets;
mod webhooks;

// The customer portal: sign-in by link, customer sessions, its pages and forms.
mod portal;
