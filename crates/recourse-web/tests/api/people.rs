//! The admin's side of people: teams, changing and switching off an agent (who then
//! cannot sign in or use a token, and whose tickets move on), and tokens made for others
//! and listed without secrets.

use crate::harness::*;

on_both!(
    a_team_name_is_trimmed,
    a_second_team_with_the_same_name_is_a_conflict,
    a_blank_team_name_is_refused,
    agents_list_the_teams,
    an_admin_changes_an_agents_role_experience_and_team,
    an_unknown_team_is_refused,
    a_capacity_of_zero_is_refused,
    fields_left_out_of_a_change_stay,
    changing_a_missing_agent_is_404,
    an_admin_cannot_switch_themselves_off,
    an_admin_cannot_demote_themselves,
    a_switched_off_agents_tickets_move_on,
    a_switched_off_agent_cannot_use_a_token,
    a_switched_off_agent_cannot_sign_in,
    switching_off_is_in_the_event_log,
    no_token_is_made_for_a_switched_off_agent,
    switching_an_agent_back_on_restores_their_token,
    agents_cannot_make_tokens_for_others,
    an_admin_makes_a_read_token_for_a_customer,
    a_token_for_an_unknown_customer_is_refused,
    a_token_has_one_holder,
    tokens_are_listed_newest_first_without_secrets,
    a_revoked_token_is_401_and_listed_as_revoked,
);

/// The admin, Jo (junior) and Eli (experienced).
struct People {
    admin_id: i64,
    admin: String,
    jo_id: i64,
    jo: String,
    eli: String,
}

async fn people(app: &TestApp) -> People {
    let (admin_id, admin) = app
        .agent("root@example.com", Role::Admin, Experience::Senior)
        .await;
    let (jo_id, jo) = app
        .agent("jo@example.com", Role::Agent, Experience::Junior)
        .await;
    let (_, eli) = app
        .agent("eli@example.com", Role::Agent, Experience::Experienced)
        .await;
    People {
        admin_id,
        admin,
        jo_id,
        jo,
        eli,
    }
}

/// The Billing team: the answer.
async fn billing(app: &TestApp, p: &People) -> (StatusCode, Value) {
    app.client(&p.admin).create_team(" Billing ").await
}

async fn a_team_name_is_trimmed(app: TestApp) {
    let p = people(&app).await;
    let (status, team) = billing(&app, &p).await;
    assert_eq!(
        (status, team["name"].as_str()),
        (StatusCode::CREATED, Some("Billing"))
    );
}

async fn a_second_team_with_the_same_name_is_a_conflict(app: TestApp) {
    let p = people(&app).await;
    billing(&app, &p).await;
    let (status, _) = app.client(&p.admin).create_team("Billing").await;
    assert_eq!(status, StatusCode::CONFLICT);
}

async fn a_blank_team_name_is_refused(app: TestApp) {
    let p = people(&app).await;
    let (status, e) = app.client(&p.admin).create_team("  ").await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_name"))
    );
}

async fn agents_list_the_teams(app: TestApp) {
    let p = people(&app).await;
    let (_, team) = billing(&app, &p).await;
    let (_, teams) = app.client(&p.jo).teams().await;
    assert_eq!(teams, json!([{"id": team["id"], "name": "Billing"}]));
}

/// Changing an agent: role, experience, team; bad values are 422, not 500.
async fn an_admin_changes_an_agents_role_experience_and_team(app: TestApp) {
    let p = people(&app).await;
    let (_, team) = billing(&app, &p).await;
    let (status, a) = app
        .client(&p.admin)
        .update_agent(
            p.jo_id,
            &AgentPatch {
                experience: Some("experienced".into()),
                team_id: Some(team["id"].clone()),
                role: Some("manager".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(
        (a["experience"].as_str(), a["role"].as_str(), &a["team_id"]),
        (Some("experienced"), Some("manager"), &team["id"])
    );
}

async fn an_unknown_team_is_refused(app: TestApp) {
    let p = people(&app).await;
    let (status, e) = app
        .client(&p.admin)
        .update_agent(
            p.jo_id,
            &AgentPatch {
                team_id: Some(json!(999_999)),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_team"))
    );
}

async fn a_capacity_of_zero_is_refused(app: TestApp) {
    let p = people(&app).await;
    let (status, e) = app
        .client(&p.admin)
        .update_agent(
            p.jo_id,
            &AgentPatch {
                capacity: Some(0),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_capacity"))
    );
}

async fn fields_left_out_of_a_change_stay(app: TestApp) {
    let p = people(&app).await;
    let (_, team) = billing(&app, &p).await;
    let admin = app.client(&p.admin);
    admin
        .update_agent(
            p.jo_id,
            &AgentPatch {
                experience: Some("experienced".into()),
                team_id: Some(team["id"].clone()),
                role: Some("manager".into()),
                ..Default::default()
            },
        )
        .await;
    let (status, a) = admin
        .update_agent(
            p.jo_id,
            &AgentPatch {
                team_id: Some(Value::Null),
                role: Some("agent".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(
        (status, &a["team_id"], a["experience"].as_str()),
        (StatusCode::OK, &Value::Null, Some("experienced")),
        "absent fields stay"
    );
}

async fn changing_a_missing_agent_is_404(app: TestApp) {
    let p = people(&app).await;
    let (status, _) = app
        .client(&p.admin)
        .update_agent(
            999999,
            &AgentPatch {
                capacity: Some(3),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// No admin can lock themselves out.
async fn an_admin_cannot_switch_themselves_off(app: TestApp) {
    let p = people(&app).await;
    let (status, e) = app
        .client(&p.admin)
        .update_agent(p.admin_id, &AgentPatch::active(false))
        .await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_yourself"))
    );
}

async fn an_admin_cannot_demote_themselves(app: TestApp) {
    let p = people(&app).await;
    let (status, _) = app
        .client(&p.admin)
        .update_agent(
            p.admin_id,
            &AgentPatch {
                role: Some("manager".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Jo holds a ticket and is switched off: the ticket's id.
async fn jo_switched_off(app: &TestApp, p: &People) -> i64 {
    let tid = app
        .open_ticket(
            &p.eli,
            &CreateTicket::for_customer("c@example.com", "Broken", "It broke."),
        )
        .await;
    let admin = app.client(&p.admin);
    let (status, _) = admin
        .update_ticket(tid, &TicketPatch::assignee(p.jo_id))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, a) = admin
        .update_agent(p.jo_id, &AgentPatch::active(false))
        .await;
    assert_eq!(
        (status, a["active"].as_bool(), a["present"].as_bool()),
        (StatusCode::OK, Some(false), Some(false)),
        "{a}"
    );
    tid
}

/// Switching Jo off hands the ticket on and closes every door.
async fn a_switched_off_agents_tickets_move_on(app: TestApp) {
    let p = people(&app).await;
    let tid = jo_switched_off(&app, &p).await;
    let (_, t) = app.client(&p.admin).ticket(tid).await;
    assert_ne!(
        t["assignee_id"],
        json!(p.jo_id),
        "the switched-off agent's ticket moved on"
    );
}

async fn a_switched_off_agent_cannot_use_a_token(app: TestApp) {
    let p = people(&app).await;
    jo_switched_off(&app, &p).await;
    let (status, e) = app.client(&p.jo).me().await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::UNAUTHORIZED, Some("account_disabled"))
    );
}

async fn a_switched_off_agent_cannot_sign_in(app: TestApp) {
    let p = people(&app).await;
    jo_switched_off(&app, &p).await;
    let resp = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": "jo@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

async fn switching_off_is_in_the_event_log(app: TestApp) {
    let p = people(&app).await;
    jo_switched_off(&app, &p).await;
    let events = recourse_store::table::TABLES
        .iter()
        .find(|t| t.name == "events")
        .unwrap();
    let rows = app.store.export_rows(events, 0, 10_000).await.unwrap();
    let changed = recourse_store::table::Cell::Text(Some("agent_changed".into()));
    assert!(
        rows.iter().any(|r| r.contains(&changed)),
        "the change is in the log"
    );
}

async fn no_token_is_made_for_a_switched_off_agent(app: TestApp) {
    let p = people(&app).await;
    jo_switched_off(&app, &p).await;
    let (status, e) = app
        .client(&p.admin)
        .create_token(&NewToken {
            agent_id: Some(p.jo_id),
            ..NewToken::named("for jo")
        })
        .await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("agent_inactive"))
    );
}

async fn switching_an_agent_back_on_restores_their_token(app: TestApp) {
    let p = people(&app).await;
    jo_switched_off(&app, &p).await;
    let (status, a) = app
        .client(&p.admin)
        .update_agent(p.jo_id, &AgentPatch::active(true))
        .await;
    assert_eq!(
        (status, a["active"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    assert_eq!(app.client(&p.jo).me().await.0, StatusCode::OK);
}

/// Tokens for someone else: admins only; listed without the secret; revoked → 401.
async fn agents_cannot_make_tokens_for_others(app: TestApp) {
    let p = people(&app).await;
    let (status, e) = app
        .client(&p.eli)
        .create_token(&NewToken {
            agent_id: Some(p.jo_id),
            ..NewToken::named("sneaky")
        })
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{e}");
}

/// A customer (their id) and a read token an admin made for them (the answer).
async fn shop_integration(app: &TestApp, p: &People) -> (Value, Value) {
    let (_, customer_token) = app.customer_token("cust@example.com").await;
    let (_, me) = app.client(&customer_token).me().await;
    let (status, made) = app
        .client(&p.admin)
        .create_token(&NewToken {
            customer_id: Some(me["id"].clone()),
            scope: Some("read".into()),
            ..NewToken::named("shop integration")
        })
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    (me["id"].clone(), made)
}

async fn an_admin_makes_a_read_token_for_a_customer(app: TestApp) {
    let p = people(&app).await;
    let (customer, made) = shop_integration(&app, &p).await;
    let (status, who) = app.client(made["token"].as_str().unwrap()).me().await;
    assert_eq!(
        (status, who["type"].as_str(), &who["id"]),
        (StatusCode::OK, Some("customer"), &customer)
    );
}

async fn a_token_for_an_unknown_customer_is_refused(app: TestApp) {
    let p = people(&app).await;
    let (status, e) = app
        .client(&p.admin)
        .create_token(&NewToken {
            customer_id: Some(json!(999_999)),
            ..NewToken::named("x")
        })
        .await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_customer"))
    );
}

async fn a_token_has_one_holder(app: TestApp) {
    let p = people(&app).await;
    let (customer, _) = shop_integration(&app, &p).await;
    let (status, e) = app
        .client(&p.admin)
        .create_token(&NewToken {
            customer_id: Some(customer),
            agent_id: Some(p.jo_id),
            ..NewToken::named("x")
        })
        .await;
    assert_eq!(
        (status, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("one_holder"))
    );
}

async fn tokens_are_listed_newest_first_without_secrets(app: TestApp) {
    let p = people(&app).await;
    let (_, made) = shop_integration(&app, &p).await;
    let secret = made["token"].as_str().unwrap();
    let (status, list) = app.client(&p.admin).tokens().await;
    assert_eq!(status, StatusCode::OK);
    let listed = &list[0];
    assert_eq!(
        (
            listed["id"].clone(),
            listed["principal_kind"].as_str(),
            listed["scope"].as_str()
        ),
        (made["id"].clone(), Some("customer"), Some("read")),
        "newest first: {list}"
    );
    assert!(
        !list.to_string().contains(secret) && !list.to_string().contains("hash"),
        "{list}"
    );
}

async fn a_revoked_token_is_401_and_listed_as_revoked(app: TestApp) {
    let p = people(&app).await;
    let (_, made) = shop_integration(&app, &p).await;
    let admin = app.client(&p.admin);
    let (status, _) = admin.revoke_token(&made["id"]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.client(made["token"].as_str().unwrap()).me().await.0,
        StatusCode::UNAUTHORIZED
    );
    let (_, list) = admin.tokens().await;
    assert!(list[0]["revoked_at"].is_string(), "{list}");
}
