//! `recourse`: the support desk in one binary.

mod backup;
mod bench;
mod copy;
mod demo;
mod judge_cmd;
mod sweep_bench;

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use recourse_domain::{EmailAddress, Experience, PersonName, Role};
use recourse_store::{NewAgent, NewApiToken, Principal, Store};
use recourse_web::{AppState, WebConfig, auth, now};

#[derive(Parser)]
#[command(
    name = "recourse",
    version,
    about = "Recourse: a support desk built around customer recovery and an escalation ladder"
)]
struct Cli {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Where the embedded SQLite database lives.
    #[arg(
        long,
        env = "RECOURSE_DATA_DIR",
        default_value = "./recourse-data",
        global = true
    )]
    data_dir: PathBuf,
    /// Use this database instead of the embedded one, e.g. `postgres://user@host/db`.
    #[arg(
        long,
        env = "RECOURSE_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    database_url: Option<String>,
}

impl DbArgs {
    fn url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("recourse.db").display()),
        }
    }

    async fn open(&self) -> anyhow::Result<Arc<Store>> {
        let url = self.url();
        recourse_store::open(&url)
            .await
            .with_context(|| format!("opening the database at {}", redact(&url)))
    }
}

#[derive(Args, Clone)]
struct ServeArgs {
    #[arg(long, env = "RECOURSE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "RECOURSE_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
    /// Mark session cookies `Secure` (when served behind HTTPS).
    #[arg(long, env = "RECOURSE_SECURE_COOKIES")]
    secure_cookies: bool,
    /// The address customers use to reach this desk, for links in messages (e.g.
    /// `https://help.example.com`). Default: `http://` and the listen address.
    #[arg(long, env = "RECOURSE_PUBLIC_URL")]
    public_url: Option<String>,
    /// Requests per second allowed per API token or session (bursts of twice that).
    #[arg(long, env = "RECOURSE_RATE_PER_CREDENTIAL", default_value_t = 2000.0)]
    rate_per_credential: f64,
    /// Requests per second allowed per client address without a credential (bursts of
    /// three times that).
    #[arg(long, env = "RECOURSE_RATE_PER_ADDRESS", default_value_t = 20.0)]
    rate_per_address: f64,
    /// Seconds a connection may take to send a whole request head (idle keep-alive
    /// connections included) before it is closed: the guard against slow-loris clients.
    #[arg(long, env = "RECOURSE_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    header_read_timeout_secs: u64,
    /// Seconds a request may take, body upload included, before it is answered 408.
    #[arg(long, env = "RECOURSE_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    request_timeout_secs: u64,
    /// Connections served at once (keep the open-files limit above this).
    #[arg(long, env = "RECOURSE_MAX_CONNECTIONS", default_value_t = 4096)]
    max_connections: usize,
    /// Seconds between SLA sweeper passes (warnings, breaches, escalations).
    #[arg(long, env = "RECOURSE_SWEEP_SECS", default_value_t = 15)]
    sweep_secs: u64,
    /// How long a node's claim on outgoing email or webhook deliveries lasts; a node
    /// killed mid-send leaves the rest to another node after this.
    #[arg(long, env = "RECOURSE_CLAIM_LEASE_SECS", default_value_t = 120)]
    claim_lease_secs: u64,
    #[command(flatten)]
    mail: MailArgs,
}

/// The email channel: off unless `--smtp-listen`, `--imap-url` or `--smtp-relay` is given.
#[derive(Args, Clone)]
struct MailArgs {
    /// Receive mail by SMTP on this address, e.g. `127.0.0.1:2525`.
    #[arg(long, env = "RECOURSE_SMTP_LISTEN")]
    smtp_listen: Option<SocketAddr>,
    /// Offer STARTTLS on the SMTP listener with this certificate chain (PEM).
    #[arg(long, env = "RECOURSE_SMTP_TLS_CERT", requires = "smtp_tls_key")]
    smtp_tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `--smtp-tls-cert`.
    #[arg(long, env = "RECOURSE_SMTP_TLS_KEY", requires = "smtp_tls_cert")]
    smtp_tls_key: Option<PathBuf>,
    /// Also read mail from an existing mailbox: `imaps://user@host[:993]/INBOX`, or
    /// `imap://…` (plain, for loopback). `%40` stands for an `@` in the user name.
    #[arg(long, env = "RECOURSE_IMAP_URL", requires = "imap_password_file")]
    imap_url: Option<String>,
    /// A file holding the IMAP password (kept out of the command line and logs).
    #[arg(long, env = "RECOURSE_IMAP_PASSWORD_FILE")]
    imap_password_file: Option<PathBuf>,
    /// One more CA (PEM) to trust for `imaps://`, besides the system's.
    #[arg(long, env = "RECOURSE_IMAP_CA_FILE")]
    imap_ca_file: Option<PathBuf>,
    /// Seconds between checks when the IMAP server has no IDLE.
    #[arg(long, env = "RECOURSE_IMAP_POLL_SECS", default_value_t = 60)]
    imap_poll_secs: u64,
    /// Send replies through this SMTP relay (`host:port`, plain SMTP).
    #[arg(long, env = "RECOURSE_SMTP_RELAY")]
    smtp_relay: Option<String>,
    /// The desk's mail domain, used in our Message-IDs and the SMTP greeting; while no
    /// mailboxes are configured, any address at it is accepted.
    #[arg(
        long,
        env = "RECOURSE_MAIL_DOMAIN",
        default_value = "recourse.localhost"
    )]
    mail_domain: String,
    /// The From address of mail we send. Default: `support@` the mail domain.
    #[arg(long, env = "RECOURSE_MAIL_FROM")]
    mail_from: Option<String>,
    /// Largest message accepted, in bytes (larger ones are refused or quarantined).
    #[arg(long, env = "RECOURSE_MAIL_MAX_BYTES", default_value_t = 25 * 1024 * 1024)]
    mail_max_bytes: usize,
    /// Largest attachment kept; a message with a larger one is quarantined.
    #[arg(long, env = "RECOURSE_MAIL_MAX_ATTACHMENT_BYTES", default_value_t = 10 * 1024 * 1024)]
    mail_max_attachment_bytes: usize,
    /// At most this many automatic messages to one address per hour.
    #[arg(long, env = "RECOURSE_MAIL_AUTOMATIC_PER_HOUR", default_value_t = 5)]
    mail_automatic_per_hour: i64,
}

impl MailArgs {
    fn config(&self, public_url: &str) -> recourse_mail::MailConfig {
        recourse_mail::MailConfig {
            domain: self.mail_domain.clone(),
            from: self
                .mail_from
                .clone()
                .unwrap_or_else(|| format!("support@{}", self.mail_domain)),
            max_message_bytes: self.mail_max_bytes,
            max_attachment_bytes: self.mail_max_attachment_bytes,
            automatic_per_hour: self.mail_automatic_per_hour,
            public_url: public_url.to_owned(),
            ..recourse_mail::MailConfig::default()
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the desk.
    Serve(ServeArgs),
    /// Run the desk, first filling an empty database with a realistic demo desk.
    Demo(ServeArgs),
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Manage agents.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Whole-database operations.
    #[command(subcommand)]
    Db(DbCommand),
    /// Load-test a running desk over HTTP and print throughput and latency.
    Bench(bench::BenchArgs),
    /// Service levels.
    #[command(subcommand)]
    Sla(SlaCommand),
    /// Reports.
    #[command(subcommand)]
    Reports(ReportsCommand),
    /// Copy the live SQLite database to a file (safe while serving), and check the copy.
    Backup {
        #[arg(long)]
        to: PathBuf,
    },
    /// Replace the SQLite database with a checked backup (stop the desk first).
    Restore {
        #[arg(long)]
        from: PathBuf,
        /// Replace an existing database.
        #[arg(long)]
        force: bool,
    },
    /// The demeanor judge: train, evaluate, read a message, coach a draft.
    Judge(judge_cmd::JudgeArgs),
}

#[derive(Subcommand)]
enum ReportsCommand {
    /// Seed an empty database with ended tickets and time the recovery report over them.
    Bench(sweep_bench::ReportBenchArgs),
}

#[derive(Subcommand)]
enum SlaCommand {
    /// Run the SLA sweeper until nothing is due, print what it did (JSON) and exit.
    Sweep {
        /// Act as if it were this moment (RFC 3339), e.g. to replay a missed night.
        #[arg(long)]
        at: Option<String>,
        /// Tickets per transaction.
        #[arg(long, default_value_t = 200)]
        batch: i64,
    },
    /// Seed an empty database with open tickets and time the sweeper over them.
    Bench(sweep_bench::SweepBenchArgs),
}

#[derive(Subcommand)]
enum AgentCommand {
    /// Add an agent. The password is read from standard input, or generated and printed.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "agent")]
        role: String,
        #[arg(long, default_value = "junior")]
        experience: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token and print it (it is shown only this once).
    Create {
        /// The agent the token acts as.
        #[arg(
            long,
            conflicts_with = "customer",
            required_unless_present = "customer"
        )]
        agent: Option<String>,
        /// Or a customer, who then sees only their own tickets.
        #[arg(long)]
        customer: Option<String>,
        #[arg(long, default_value = "cli")]
        name: String,
        /// `full` or `read`.
        #[arg(long, default_value = "full")]
        scope: String,
    },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Copy every record from one database to another (empty) one, and verify by counts.
    Copy {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RECOURSE_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(cli.db.open().await?, args).await,
        Command::Demo(args) => {
            let store = cli.db.open().await?;
            demo::seed_if_empty(&store).await?;
            serve(store, args).await
        }
        Command::Migrate => {
            cli.db.open().await?;
            println!("database at {} is up to date", redact(&cli.db.url()));
            Ok(())
        }
        Command::Agent(AgentCommand::Add {
            email,
            name,
            role,
            experience,
            password_stdin,
        }) => {
            let store = cli.db.open().await?;
            let (password, generated) = if password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                (s.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                (auth::new_secret("pw")[..27].to_owned(), true)
            };
            if password.chars().count() < 12 {
                bail!("the password needs at least 12 characters");
            }
            let agent = store
                .create_agent(NewAgent {
                    email: EmailAddress::parse(&email)?,
                    name: PersonName::parse(&name)?,
                    role: Role::parse(&role)?,
                    experience: Experience::parse(&experience)?,
                    skills: Vec::new(),
                    team_id: None,
                    capacity: 20,
                    password_hash: auth::hash_password(&password)
                        .map_err(|e| anyhow::anyhow!(e.message))?,
                    now: now(),
                })
                .await?;
            println!(
                "added agent {} <{}> (id {}, {}, {})",
                agent.name, agent.email, agent.id, agent.role, agent.experience
            );
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
        Command::Token(TokenCommand::Create {
            agent,
            customer,
            name,
            scope,
        }) => {
            let store = cli.db.open().await?;
            if scope != "full" && scope != "read" {
                bail!("--scope is `full` or `read`");
            }
            let principal = match (agent, customer) {
                (Some(email), _) => {
                    let email = EmailAddress::parse(&email)?;
                    let (agent, _) = store
                        .agent_credentials(&email)
                        .await?
                        .with_context(|| format!("no agent with email {email}"))?;
                    Principal::Agent(agent.id)
                }
                (None, Some(email)) => {
                    let email = EmailAddress::parse(&email)?;
                    let customer = store
                        .customer_by_email(&email)
                        .await?
                        .with_context(|| format!("no customer with email {email}"))?;
                    Principal::Customer(customer.id)
                }
                (None, None) => bail!("say --agent EMAIL or --customer EMAIL"),
            };
            let secret = auth::new_secret("rct");
            store
                .create_api_token(NewApiToken {
                    principal,
                    name,
                    token_hash: auth::sha256_hex(&secret),
                    scope,
                    now: now(),
                })
                .await?;
            println!("{secret}");
            Ok(())
        }
        Command::Db(DbCommand::Copy { from, to }) => copy::run(&from, &to).await,
        Command::Bench(args) => {
            // Only the seed mode touches the database; a load run talks HTTP alone.
            let db = if args.seeding() {
                Some(cli.db.open().await?)
            } else {
                None
            };
            bench::run(args, db).await
        }
        Command::Judge(args) => judge_cmd::run(args),
        Command::Sla(SlaCommand::Sweep { at, batch }) => {
            let store = cli.db.open().await?;
            let at = match at {
                Some(s) => recourse_domain::sla::parse_instant(&s)
                    .with_context(|| format!("`{s}` is not an RFC 3339 time"))?,
                None => now(),
            };
            let mut total = recourse_store::SweepReport::default();
            loop {
                let r = recourse_desk::Desk::new(store.clone())
                    .sweep_sla(at, batch)
                    .await?;
                if r.examined == 0 {
                    break;
                }
                total.examined += r.examined;
                total.warned += r.warned;
                total.breached += r.breached;
                total.escalated += r.escalated;
            }
            println!("{}", serde_json::to_string(&total)?);
            Ok(())
        }
        Command::Backup { to } => backup::backup(&cli.db.url(), &to).await,
        Command::Restore { from, force } => backup::restore(&cli.db.url(), &from, force).await,
        Command::Reports(ReportsCommand::Bench(args)) => {
            sweep_bench::run_reports(cli.db.open().await?.as_ref(), args).await
        }
        Command::Sla(SlaCommand::Bench(args)) => {
            sweep_bench::run(&cli.db.open().await?, args).await
        }
    }
}

async fn serve(store: Arc<Store>, args: ServeArgs) -> anyhow::Result<()> {
    let config = WebConfig {
        max_body_bytes: args.max_body_bytes,
        secure_cookies: args.secure_cookies,
        public_url: args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", args.listen)),
        rate_per_credential: recourse_web::ratelimit::Rate {
            per_second: args.rate_per_credential.max(0.1),
            burst: (args.rate_per_credential * 2.0).max(1.0),
        },
        rate_per_address: recourse_web::ratelimit::Rate {
            per_second: args.rate_per_address.max(0.1),
            burst: (args.rate_per_address * 3.0).max(1.0),
        },
        header_read_timeout: std::time::Duration::from_secs(args.header_read_timeout_secs.max(1)),
        request_timeout: std::time::Duration::from_secs(args.request_timeout_secs.max(1)),
        max_connections: args.max_connections.max(1),
        ..WebConfig::default()
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = ?store.backend(), "recourse is serving");
    println!(
        "Recourse is serving on http://{addr}  (API: http://{addr}/api/v1, OpenAPI: http://{addr}/api/v1/openapi.json)"
    );
    // Whoever started the desk (`demo` above all) should see where to go next. Written
    // without `println!`: a supervisor that read the line above and closed the pipe must
    // not make the desk panic on a broken pipe.
    {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stdout(),
            "Open the agent console at http://{addr}/console; customers use http://{addr}/portal."
        );
    }
    // Every node runs the background work; the store's claims keep it from doubling.
    let sweeper = tokio::spawn(recourse_web::workers::run_sweeper(
        store.clone(),
        std::time::Duration::from_secs(args.sweep_secs.max(1)),
    ));
    let claim_lease = std::time::Duration::from_secs(args.claim_lease_secs.max(1));
    let webhooks = tokio::spawn(recourse_web::workers::run_webhooks(
        store.clone(),
        std::time::Duration::from_secs(2),
        claim_lease,
    ));
    let mail = spawn_mail(&store, &args.mail, &config.public_url, claim_lease).await?;
    recourse_web::serve(listener, AppState::new(store, config), shutdown_signal()).await?;
    sweeper.abort();
    webhooks.abort();
    for task in mail {
        task.abort();
    }
    tracing::info!("stopped");
    Ok(())
}

/// Starts the email channel's background work: the SMTP listener with the pass that
/// handles stored-but-unhandled mail (after a crash, or handed back from quarantine),
/// and the outbox sender.
async fn spawn_mail(
    store: &Arc<Store>,
    args: &MailArgs,
    public_url: &str,
    claim_lease: std::time::Duration,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let config = Arc::new(recourse_mail::MailConfig {
        claim_lease,
        ..args.config(public_url)
    });
    let mut tasks = Vec::new();
    let pipeline = Arc::new(recourse_mail::Pipeline::new(store.clone(), config.clone()));
    if let Some(listen) = args.smtp_listen {
        let tls = match (&args.smtp_tls_cert, &args.smtp_tls_key) {
            (Some(cert), Some(key)) => Some(
                recourse_mail::tls::server_config(cert, key)
                    .context("loading the SMTP listener's certificate")?,
            ),
            _ => None,
        };
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening for SMTP on {listen}"))?;
        let addr = listener.local_addr()?;
        let starttls = if tls.is_some() {
            " (STARTTLS offered)"
        } else {
            ""
        };
        println!("Receiving mail by SMTP on {addr}{starttls}");
        tasks.push(tokio::spawn(recourse_mail::smtp::serve(
            listener,
            pipeline.clone(),
            2,
            tls,
        )));
    }
    if let Some(url) = &args.imap_url {
        let url = recourse_mail::imap::ImapUrl::parse(url)?;
        let file = args
            .imap_password_file
            .as_ref()
            .context("--imap-url needs --imap-password-file")?;
        let password = std::fs::read_to_string(file)
            .with_context(|| format!("reading the IMAP password from {}", file.display()))?
            .trim_end_matches(['\r', '\n'])
            .to_owned();
        if url.tls {
            // Fail at start, not in the poller's retry loop, if the roots are unusable.
            recourse_mail::tls::client_config(args.imap_ca_file.as_deref())?;
        }
        println!("Reading mail by IMAP from {}", url.account());
        let settings = recourse_mail::imap::ImapSettings {
            url,
            password,
            poll: std::time::Duration::from_secs(args.imap_poll_secs.max(1)),
            idle_max: std::time::Duration::from_secs(25 * 60),
            ca_file: args.imap_ca_file.clone(),
        };
        tasks.push(tokio::spawn(recourse_mail::imap::run(
            settings,
            pipeline.clone(),
        )));
    }
    if args.smtp_listen.is_some() || args.imap_url.is_some() {
        tasks.push(tokio::spawn(recourse_mail::pipeline::run_recovery(
            pipeline,
            std::time::Duration::from_secs(5),
        )));
    }
    if let Some(relay) = &args.smtp_relay {
        let relay = recourse_mail::outbound::Relay::parse(relay)
            .with_context(|| format!("--smtp-relay `{relay}` is not host:port"))?;
        tasks.push(tokio::spawn(recourse_mail::outbound::run_sender(
            store.clone(),
            config,
            relay,
            std::time::Duration::from_secs(2),
        )));
    }
    Ok(tasks)
}

/// Resolves on SIGINT or SIGTERM; in-flight requests then finish before exit.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing open requests");
}

/// A database URL without its password, for messages and logs.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}
