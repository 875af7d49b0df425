//! The practice desk over HTTP: agents rehearse on the shipped scenarios and get a
//! score, a verdict and the example answer; attempts are stored and show in their own
//! progress; managers see the team's practice together (no per-agent figures); admins
//! add and edit scenarios; bad input is refused with a stable code and a sentence.

use crate::harness::*;

on_both!(
    an_agent_rehearses_and_sees_the_verdict_and_example,
    the_library_lists_every_kind,
    progress_counts_only_your_own_attempts,
    managers_see_the_team_together_and_agents_may_not,
    admins_add_and_edit_scenarios_others_may_not,
    bad_replies_and_unknown_scenarios_are_refused_clearly,
    practice_creates_no_ticket,
    the_console_page_scores_a_reply_and_refuses_bad_input_in_words,
);

const GOOD: &str = "I'm sorry, you took a day off for us twice and we let you down both times. I have booked your sofa on the first van this Thursday between 8 and 10 am, and I will call you on Wednesday evening to confirm. I can also refund the delivery charge today.";

/// An agent's token and the sofa scenario's id.
async fn kim_and_the_sofa(app: &TestApp) -> (String, i64) {
    let (_, kim) = app
        .agent("kim@example.com", Role::Agent, Experience::Junior)
        .await;
    let (status, list) = app.client(&kim).practice_scenarios().await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let sofa = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slug"] == "fr-late-sofa")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    (kim, sofa)
}

async fn an_agent_rehearses_and_sees_the_verdict_and_example(app: TestApp) {
    let (kim, sofa) = kim_and_the_sofa(&app).await;
    let api = app.client(&kim);
    let (status, s) = api.practice_scenario(sofa).await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["kind"], "frontline_recovery");
    assert_eq!(s["kind_label"], "Putting it right");
    assert!(s["customer_message"].as_str().unwrap().contains("sofa"));

    let (status, r) = api.practise(sofa, GOOD).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert!(r["score"].as_i64().unwrap() >= 85, "{r}");
    assert_eq!(r["verdict"], "Ready to send");
    assert_eq!(r["attempt"]["reply"], GOOD);
    assert_eq!(r["attempt"]["scenario_id"], sofa);
    assert_eq!(r["example_answer"], s["example_answer"]);
    assert_eq!(r["good_answer"], s["good_answer"]);
    assert_eq!(r["checks"].as_array().unwrap().len(), 8);

    let (status, r) = api
        .practise(sofa, "Not our fault. You should have been in.")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert!(r["score"].as_i64().unwrap() < 60, "{r}");
    assert_eq!(r["verdict"], "Try again");
    let flags = r["flags"].as_array().unwrap();
    assert!(!flags.is_empty());
    assert!(flags.iter().all(|f| f["label"].as_str().is_some()));
    assert_eq!(
        r["attempt"]["flags"].as_array().unwrap().len(),
        flags.len(),
        "the stored attempt keeps its flags"
    );
    assert!(
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["passed"] == false)
    );
}

async fn the_library_lists_every_kind(app: TestApp) {
    let (kim, _) = kim_and_the_sofa(&app).await;
    let (_, list) = app.client(&kim).practice_scenarios().await;
    let list = list.as_array().unwrap();
    assert!(list.len() >= 40, "{}", list.len());
    for kind in [
        "frontline_recovery",
        "repeated_contact",
        "cant_help",
        "abuse",
        "referral",
        "inconsolable",
    ] {
        assert!(
            list.iter().filter(|s| s["kind"] == kind).count() >= 6,
            "{kind}"
        );
    }
    // Customers have no practice desk.
    let (_, customer) = app.customer_token("pat@example.com").await;
    let (status, body) = app.client(&customer).practice_scenarios().await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

async fn progress_counts_only_your_own_attempts(app: TestApp) {
    let (kim, sofa) = kim_and_the_sofa(&app).await;
    let (_, lee) = app
        .agent("lee@example.com", Role::Agent, Experience::Junior)
        .await;
    let (_, empty) = app.client(&kim).practice_progress().await;
    assert_eq!(empty["recent"], json!([]));
    let (_, first) = app.client(&kim).practise(sofa, GOOD).await;
    app.client(&kim)
        .practise(sofa, "Not our fault. You should have been in.")
        .await;
    app.client(&lee).practise(sofa, GOOD).await;

    let (status, p) = app.client(&kim).practice_progress().await;
    assert_eq!(status, StatusCode::OK, "{p}");
    let recent = p["recent"].as_array().unwrap();
    assert_eq!(recent.len(), 2, "Kim's two, not Lee's");
    assert_eq!(recent[1]["id"], first["attempt"]["id"], "newest first");
    assert_eq!(p["by_kind"][0]["key"], "frontline_recovery");
    assert_eq!(p["by_kind"][0]["attempts"], 2);
    let days = p["by_day"].as_array().unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!(days[0]["attempts"], 2);
    assert_eq!(days[0]["key"].as_str().unwrap().len(), 10, "a date");
}

async fn managers_see_the_team_together_and_agents_may_not(app: TestApp) {
    let (kim, sofa) = kim_and_the_sofa(&app).await;
    let (_, lee) = app
        .agent("lee@example.com", Role::Agent, Experience::Junior)
        .await;
    let (_, lead) = app
        .agent("lead@example.com", Role::Manager, Experience::Senior)
        .await;
    let (_, a) = app.client(&kim).practise(sofa, GOOD).await;
    let (_, b) = app
        .client(&lee)
        .practise(sofa, "Not our fault. You should have been in.")
        .await;

    let (status, body) = app.client(&kim).practice_team().await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, team) = app.client(&lead).practice_team().await;
    assert_eq!(status, StatusCode::OK, "{team}");
    assert_eq!(team["attempts"], 2);
    assert_eq!(team["by_kind"][0]["attempts"], 2);
    let average = (a["score"].as_f64().unwrap() + b["score"].as_f64().unwrap()) / 2.0;
    assert_eq!(
        team["by_kind"][0]["average_score"].as_f64().unwrap(),
        average
    );
    // Never a ranking of people: no agent appears anywhere in the answer.
    let text = team.to_string();
    assert!(!text.contains("kim") && !text.contains("lee") && !text.contains("agent"));
}

async fn admins_add_and_edit_scenarios_others_may_not(app: TestApp) {
    let (_, admin) = app
        .agent("ada@example.com", Role::Admin, Experience::Senior)
        .await;
    let (_, lead) = app
        .agent("lead@example.com", Role::Manager, Experience::Senior)
        .await;
    let new = PracticeScenario::new("repeated_contact", "  Week-late parcel ");

    let (status, body) = app.client(&lead).create_practice_scenario(&new).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, made) = app.client(&admin).create_practice_scenario(&new).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["subject"], "Week-late parcel");
    assert_eq!(made["slug"], Value::Null);
    let id = made["id"].as_i64().unwrap();

    let edited = PracticeScenario {
        need: "the parcel delivered by Friday".into(),
        ..PracticeScenario::new("abuse", "Week-late parcel, shouting")
    };
    let (status, e) = app
        .client(&admin)
        .replace_practice_scenario(id, &edited)
        .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    assert_eq!(e["kind"], "abuse");
    assert_eq!(e["need"], "the parcel delivered by Friday");
    let (_, read) = app.client(&lead).practice_scenario(id).await;
    assert_eq!(read["subject"], "Week-late parcel, shouting");

    let (status, body) = app
        .client(&lead)
        .replace_practice_scenario(id, &edited)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = app
        .client(&admin)
        .replace_practice_scenario(987_654, &edited)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = app
        .client(&admin)
        .create_practice_scenario(&PracticeScenario::new("grumpy", "X"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), Some("invalid_kind"));
    let (status, body) = app
        .client(&admin)
        .create_practice_scenario(&PracticeScenario {
            example_answer: "  ".into(),
            ..PracticeScenario::new("abuse", "X")
        })
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), Some("invalid_text"));
}

async fn bad_replies_and_unknown_scenarios_are_refused_clearly(app: TestApp) {
    let (kim, sofa) = kim_and_the_sofa(&app).await;
    let api = app.client(&kim);
    let huge = "I am so sorry. ".repeat(50 * 1024 / 15 + 1);
    for (scenario, reply, status, want) in [
        (sofa, "", StatusCode::UNPROCESSABLE_ENTITY, "empty_reply"),
        (
            sofa,
            "   \n ",
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_reply",
        ),
        (
            sofa,
            huge.as_str(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "reply_too_long",
        ),
        (987_654, GOOD, StatusCode::NOT_FOUND, "not_found"),
    ] {
        let (got, body) = api.practise(scenario, reply).await;
        assert_eq!(got, status, "{body}");
        assert_eq!(code(&body), Some(want), "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.ends_with('.') && message.len() > 10, "{message}");
    }
    let (status, body) = api.practice_scenario(987_654).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/practice/scenarios/abc/attempts",
            &kim,
            Some(json!({"reply": GOOD})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(code(&body), Some("invalid_id"));
    // Nothing was stored for the refusals.
    let (_, p) = api.practice_progress().await;
    assert_eq!(p["recent"], json!([]));
}

async fn practice_creates_no_ticket(app: TestApp) {
    let (kim, sofa) = kim_and_the_sofa(&app).await;
    app.client(&kim).practise(sofa, GOOD).await;
    let (_, lead) = app
        .agent("lead@example.com", Role::Manager, Experience::Senior)
        .await;
    let (status, list) = app.client(&lead).tickets("").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert!(ticket_ids(&list).is_empty(), "{list}");
}

/// The console's practice pages: the scenario, a scored reply with the example answer,
/// and the refusals drawn on the page with their status.
async fn the_console_page_scores_a_reply_and_refuses_bad_input_in_words(app: TestApp) {
    let (kim, sofa) = kim_and_the_sofa(&app).await;
    let (cookie, csrf) = app.sign_in("kim@example.com").await;
    let http = app.no_redirect();
    let get = |path: String| {
        let req = http
            .get(format!("{}{path}", app.base))
            .header("cookie", &cookie);
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let post = |path: String, reply: String| {
        let req = http
            .post(format!("{}{path}", app.base))
            .header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str()), ("reply", reply.as_str())]);
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (status, home) = get("/console/practice".into()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains(&format!("/console/practice/{sofa}")));
    let (status, page) = get(format!("/console/practice/{sofa}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("took a day off work for your sofa"));

    let (status, done) = post(format!("/console/practice/{sofa}"), GOOD.into()).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done.contains("Ready to send"), "{done}");
    assert!(done.contains("An example answer"));

    let (status, empty) = post(format!("/console/practice/{sofa}"), "  ".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.contains("Write a reply to the customer"), "{empty}");
    let (status, long) = post(format!("/console/practice/{sofa}"), "sorry ".repeat(9000)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(long.contains("at most 10000 bytes"), "{long}");
    let (status, _) = get("/console/practice/987654".into()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = post("/console/practice/987654".into(), GOOD.into()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Agents have no team page; only the one scored reply was stored.
    let (status, _) = get("/console/practice/team".into()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, p) = app.client(&kim).practice_progress().await;
    assert_eq!(p["recent"].as_array().unwrap().len(), 1);
}
