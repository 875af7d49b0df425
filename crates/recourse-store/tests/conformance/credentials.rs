//! Agents, sessions, API tokens and portal links.

use recourse_domain::Agent;
use recourse_domain::{AgentId, EmailAddress, Experience, Millis, Role};
use recourse_store::{NewAgent, NewApiToken, NewSession, Principal, Session, StoreError};

use crate::harness::*;

on_both! {
    a_team_name_is_taken_once,
    a_mail_domain_belongs_to_one_organization_but_many_have_none,
    customers_join_the_organization_that_owns_their_mail_domain,
    an_agent_is_stored_with_a_lowercased_address_and_clean_skills,
    the_same_agent_address_again_is_a_conflict_and_agents_list_by_name,
    login_reads_the_password_hash_back_and_a_new_one_replaces_it,
    api_tokens_are_found_by_hash_and_revoked_once,
    a_session_is_valid_until_it_expires,
    a_deleted_session_is_gone_and_deleting_it_again_is_fine,
    starting_a_session_sweeps_expired_ones,
    session_ids_are_unique,
}

/// Grace (a senior manager of team "Tier two", made from `new`) and Alan (an agent).
struct People {
    new: NewAgent,
    grace: Agent,
    alan: Agent,
}

async fn grace_of_tier_two(s: &S) -> (NewAgent, Agent) {
    let team = s.create_team("Tier two").await.unwrap();
    let mut new = new_agent("Grace@Example.com", "Grace Hopper", t(1));
    new.role = Role::Manager;
    new.experience = Experience::Senior;
    new.skills = tags(&["Refunds", "billing"]);
    new.team_id = Some(team.id);
    new.capacity = 7;
    new.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into();
    let grace = s.create_agent(new.clone()).await.unwrap();
    (new, grace)
}

async fn people(s: &S) -> People {
    let (new, grace) = grace_of_tier_two(s).await;
    let alan = agent(s, "alan@example.com", "Alan Turing").await;
    People { new, grace, alan }
}

async fn a_team_name_is_taken_once(db: &TestDb) {
    let s = &db.store;
    let team = s.create_team("Tier two").await.unwrap();
    assert_eq!(s.list_teams().await.unwrap(), vec![team.clone()]);
    assert!(matches!(
        s.create_team("Tier two").await,
        Err(StoreError::Conflict(_))
    ));
}

async fn a_mail_domain_belongs_to_one_organization_but_many_have_none(db: &TestDb) {
    let s = &db.store;
    let acme = s
        .create_organization("Acme Ltd", Some("acme.example"), t(0))
        .await
        .unwrap();
    assert_eq!(
        (acme.name.as_str(), acme.domain.as_deref(), acme.created_at),
        ("Acme Ltd", Some("acme.example"), t(0))
    );
    let err = s
        .create_organization("Acme again", Some("acme.example"), t(0))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let solo = s.create_organization("Solo", None, t(0)).await.unwrap();
    assert!(
        s.create_organization("Solo too", None, t(0))
            .await
            .unwrap()
            .id
            > solo.id,
        "many organizations without a domain"
    );
}

async fn customers_join_the_organization_that_owns_their_mail_domain(db: &TestDb) {
    let s = &db.store;
    let acme = s
        .create_organization("Acme Ltd", Some("acme.example"), t(0))
        .await
        .unwrap();
    // Customers join the organization that owns their mail domain, on first sight or later.
    let member = s
        .upsert_customer(
            &EmailAddress::parse("kim@acme.example").unwrap(),
            None,
            t(2),
        )
        .await
        .unwrap();
    assert_eq!(member.organization_id, Some(acme.id));
    let outsider = s
        .upsert_customer(
            &EmailAddress::parse("lee@elsewhere.example").unwrap(),
            None,
            t(2),
        )
        .await
        .unwrap();
    assert_eq!(outsider.organization_id, None);
}

async fn an_agent_is_stored_with_a_lowercased_address_and_clean_skills(db: &TestDb) {
    let s = &db.store;
    let team = s.create_team("Tier two").await.unwrap();
    let mut new = new_agent("Grace@Example.com", "Grace Hopper", t(1));
    new.role = Role::Manager;
    new.experience = Experience::Senior;
    new.skills = tags(&["Refunds", "billing"]);
    new.team_id = Some(team.id);
    new.capacity = 7;
    new.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into();
    let grace = s.create_agent(new.clone()).await.unwrap();
    assert_eq!(grace.email.as_str(), "grace@example.com");
    assert_eq!(grace.name, "Grace Hopper");
    assert_eq!(
        (grace.role, grace.experience, grace.capacity, grace.active),
        (Role::Manager, Experience::Senior, 7, true)
    );
    assert_eq!(
        grace.skills,
        vec!["refunds".to_owned(), "billing".to_owned()]
    );
    assert_eq!(grace.team_id, Some(team.id));
    assert_eq!(grace.created_at, t(1));
    assert_eq!(s.get_agent(grace.id).await.unwrap(), grace);
    assert!(matches!(
        s.get_agent(AgentId(grace.id.0 + 1000)).await,
        Err(StoreError::NotFound("agent"))
    ));
}

async fn the_same_agent_address_again_is_a_conflict_and_agents_list_by_name(db: &TestDb) {
    let s = &db.store;
    let (_, grace) = grace_of_tier_two(s).await;
    // The same address again (in any case) is a conflict, and nothing is stored.
    let mut dup = new_agent("GRACE@example.com", "Another Grace", t(2));
    dup.password_hash = "other".into();
    let err = s.create_agent(dup).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let alan = agent(s, "alan@example.com", "Alan Turing").await;
    assert_eq!(
        s.list_agents().await.unwrap(),
        vec![alan.clone(), grace.clone()],
        "ordered by name"
    );
}

async fn login_reads_the_password_hash_back_and_a_new_one_replaces_it(db: &TestDb) {
    let s = &db.store;
    let People {
        new, grace, alan, ..
    } = people(s).await;
    // Login reads the hash back.
    let (who, hash) = s
        .agent_credentials(&email("grace@EXAMPLE.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(who, grace);
    assert_eq!(hash, new.password_hash);
    assert!(
        s.agent_credentials(&email("nobody@example.com"))
            .await
            .unwrap()
            .is_none()
    );
    s.set_agent_password(grace.id, "new-hash").await.unwrap();
    assert_eq!(
        s.agent_credentials(&grace.email).await.unwrap().unwrap().1,
        "new-hash"
    );
    assert_eq!(
        s.agent_credentials(&alan.email).await.unwrap().unwrap().1,
        "$argon2id$hash-of-alan@example.com"
    );
    assert!(matches!(
        s.set_agent_password(AgentId(grace.id.0 + 1000), "x").await,
        Err(StoreError::NotFound("agent"))
    ));
}

async fn api_tokens_are_found_by_hash_and_revoked_once(db: &TestDb) {
    let s = &db.store;
    let People { grace, alan, .. } = people(s).await;
    // API tokens: found by hash, revoked once.
    let ada = customer(s, "ada@example.com").await;
    let token = s
        .create_api_token(NewApiToken {
            principal: Principal::Agent(grace.id),
            name: "ci bot".into(),
            token_hash: "a".repeat(64),
            scope: "full".into(),
            now: t(10),
        })
        .await
        .unwrap();
    assert_eq!(
        (token.principal, token.name.as_str(), token.scope.as_str()),
        (Principal::Agent(grace.id), "ci bot", "full")
    );
    assert_eq!((token.created_at, token.revoked_at), (t(10), None));
    let customer_token = s
        .create_api_token(NewApiToken {
            principal: Principal::Customer(ada.id),
            name: "my script".into(),
            token_hash: "b".repeat(64),
            scope: "read".into(),
            now: t(11),
        })
        .await
        .unwrap();
    assert_ne!(customer_token.id, token.id);
    assert_eq!(
        s.api_token_by_hash(&"a".repeat(64)).await.unwrap(),
        Some(token.clone())
    );
    assert_eq!(
        s.api_token_by_hash(&"b".repeat(64)).await.unwrap(),
        Some(customer_token.clone())
    );
    assert_eq!(s.api_token_by_hash(&"c".repeat(64)).await.unwrap(), None);
    let err = s
        .create_api_token(NewApiToken {
            principal: Principal::Agent(alan.id),
            name: "clash".into(),
            token_hash: "a".repeat(64),
            scope: "full".into(),
            now: t(12),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    s.revoke_api_token(token.id, t(20)).await.unwrap();
    let revoked = s.api_token_by_hash(&"a".repeat(64)).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(t(20)));
    assert_eq!(revoked.id, token.id);
    s.revoke_api_token(token.id, t(30)).await.unwrap();
    assert_eq!(
        s.api_token_by_hash(&"a".repeat(64))
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(t(20)),
        "the first revocation stands"
    );
    assert_eq!(
        s.api_token_by_hash(&"b".repeat(64))
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None,
        "only that token is revoked"
    );
    assert!(matches!(
        s.revoke_api_token(customer_token.id + 1000, t(30)).await,
        Err(StoreError::NotFound("token"))
    ));
}

async fn a_session_is_valid_until_it_expires(db: &TestDb) {
    let s = &db.store;
    let People { grace, .. } = people(s).await;
    let ada = customer(s, "ada@example.com").await;
    let session = |hash: &str, principal, now, expires_at| NewSession {
        id_hash: hash.into(),
        principal,
        csrf_token: format!("csrf-{hash}"),
        now,
        expires_at,
    };
    s.create_session(session("s1", Principal::Agent(grace.id), t(100), t(200)))
        .await
        .unwrap();
    s.create_session(session("s2", Principal::Customer(ada.id), t(100), t(110)))
        .await
        .unwrap();
    let expect = Session {
        principal: Principal::Agent(grace.id),
        csrf_token: "csrf-s1".into(),
        expires_at: t(200),
    };
    assert_eq!(
        s.session_by_hash("s1", t(101)).await.unwrap(),
        Some(expect.clone())
    );
    assert_eq!(
        s.session_by_hash("s1", Millis(t(200).0 - 1)).await.unwrap(),
        Some(expect)
    );
    assert_eq!(
        s.session_by_hash("s1", t(200)).await.unwrap(),
        None,
        "expired at expires_at"
    );
    assert_eq!(s.session_by_hash("s1", t(300)).await.unwrap(), None);
    assert_eq!(
        s.session_by_hash("s2", t(105)).await.unwrap(),
        Some(Session {
            principal: Principal::Customer(ada.id),
            csrf_token: "csrf-s2".into(),
            expires_at: t(110)
        })
    );
    assert_eq!(s.session_by_hash("nope", t(101)).await.unwrap(), None);
}

async fn a_deleted_session_is_gone_and_deleting_it_again_is_fine(db: &TestDb) {
    let s = &db.store;
    let People { grace, .. } = people(s).await;
    let session = |hash: &str, principal, now, expires_at| NewSession {
        id_hash: hash.into(),
        principal,
        csrf_token: format!("csrf-{hash}"),
        now,
        expires_at,
    };
    s.create_session(session("s1", Principal::Agent(grace.id), t(100), t(200)))
        .await
        .unwrap();
    s.delete_session("s1").await.unwrap();
    assert_eq!(s.session_by_hash("s1", t(101)).await.unwrap(), None);
    s.delete_session("s1").await.unwrap();
}

async fn starting_a_session_sweeps_expired_ones(db: &TestDb) {
    let s = &db.store;
    let People { grace, alan, .. } = people(s).await;
    let ada = customer(s, "ada@example.com").await;
    let session = |hash: &str, principal, now, expires_at| NewSession {
        id_hash: hash.into(),
        principal,
        csrf_token: format!("csrf-{hash}"),
        now,
        expires_at,
    };
    s.create_session(session("s1", Principal::Agent(grace.id), t(100), t(200)))
        .await
        .unwrap();
    s.create_session(session("s2", Principal::Customer(ada.id), t(100), t(110)))
        .await
        .unwrap();
    // Starting a session sweeps expired ones: s2 is gone even when asked about the past.
    s.create_session(session("s3", Principal::Agent(alan.id), t(150), t(500)))
        .await
        .unwrap();
    assert_eq!(s.session_by_hash("s2", t(105)).await.unwrap(), None);
    assert_eq!(
        s.session_by_hash("s3", t(151))
            .await
            .unwrap()
            .map(|x| x.principal),
        Some(Principal::Agent(alan.id))
    );
}

async fn session_ids_are_unique(db: &TestDb) {
    let s = &db.store;
    let People { grace, alan, .. } = people(s).await;
    let session = |hash: &str, principal, now, expires_at| NewSession {
        id_hash: hash.into(),
        principal,
        csrf_token: format!("csrf-{hash}"),
        now,
        expires_at,
    };
    s.create_session(session("s3", Principal::Agent(alan.id), t(150), t(500)))
        .await
        .unwrap();
    assert!(
        s.create_session(session("s3", Principal::Agent(grace.id), t(160), t(500)))
            .await
            .is_err(),
        "session ids are unique"
    );
    assert_eq!(
        s.session_by_hash("s3", t(161))
            .await
            .unwrap()
            .map(|x| x.principal),
        Some(Principal::Agent(alan.id))
    );
}
