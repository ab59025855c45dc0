//! Hostile input through the API: huge, control, escape, right-to-left, emoji and combining
//! text; malformed JSON. Each gets a clear 4xx naming the field, or is stored exactly.

mod common;

use common::*;
use consola::domain::*;

#[tokio::test]
async fn hostile_names_are_refused_by_field_or_kept_exactly() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let g = group(&sup, "Reportes", "reports").await;
    let refused = [
        "n".repeat(10_000),
        "con\u{0}nul".to_string(),
        "rojo \u{1b}[31m".to_string(),
        "titulo \u{1b}]0;pwned\u{7}".to_string(),
        "salto\nde línea".to_string(),
        "\u{9b}31m csi de 8 bits".to_string(),
        "\u{7f}borrar".to_string(),
        "\u{202e}invertido".to_string(),
        "aislado \u{2067}x\u{2069}".to_string(),
    ];
    for name in &refused {
        let err = sup
            .create_consumer(&new_consumer(name, g.id))
            .await
            .unwrap_err();
        assert_eq!(
            err.status(),
            Some(422),
            "{:?}",
            name.escape_debug().to_string()
        );
        assert!(err.field_errors().get("name").is_some());
        let detail = &err.problem().unwrap().detail;
        assert!(
            !detail.contains('\u{1b}'),
            "the problem does not echo escapes"
        );
    }
    let kept = [
        "مستهلك عربي",
        "צרכן עברי ERP",
        "🚀 Integración 🛠️",
        "e\u{301}\u{301}\u{301} combinada",
        "混合 中文 ERP",
    ];
    for name in kept {
        let created = sup
            .create_consumer(&new_consumer(name, g.id))
            .await
            .unwrap();
        assert_eq!(created.consumer.name, name, "stored exactly");
    }
    let page = sup.consumers(&ConsumerQuery::default()).await.unwrap();
    for c in &page.items {
        assert!(!has_control_chars(&c.name));
    }
    // Descriptions: 500 is the limit, tabs and line breaks are allowed, escapes are not.
    let err = sup
        .create_consumer(&NewConsumer {
            description: "d".repeat(10_000),
            ..new_consumer("larga", g.id)
        })
        .await
        .unwrap_err();
    assert!(err.field_errors().get("description").is_some());
    let err = sup
        .create_consumer(&NewConsumer {
            description: "texto \u{1b}[2J".into(),
            ..new_consumer("escape", g.id)
        })
        .await
        .unwrap_err();
    assert!(err.field_errors().get("description").is_some());
    let ok = sup
        .create_consumer(&NewConsumer {
            description: "línea 1\nlínea 2\tcon tab".into(),
            ..new_consumer("multilínea", g.id)
        })
        .await
        .unwrap();
    assert_eq!(ok.consumer.description, "línea 1\nlínea 2\tcon tab");
}

#[tokio::test]
async fn hostile_usernames_groups_and_account_names() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let err = sup
        .create_user(&NewUser {
            username: "x\u{1b}[1m".into(),
            display_name: "y\u{0}".into(),
            password: "p".repeat(10_000).into(),
            role: Role::ReadOnly,
        })
        .await
        .unwrap_err();
    let fields = err.field_errors();
    for field in ["username", "display_name", "password"] {
        assert!(fields.get(field).is_some(), "{field}");
    }
    let err = sup
        .create_permission_group(&NewPermissionGroup {
            name: "g\u{1b}".into(),
            description: String::new(),
            read_only: false,
            permissions: vec![],
        })
        .await
        .unwrap_err();
    assert!(err.field_errors().get("name").is_some());
    let err = sup
        .update_account(&AccountPatch {
            name: "a".repeat(10_000),
        })
        .await
        .unwrap_err();
    assert!(err.field_errors().get("account_name").is_some());
    assert!(
        sup.users().await.unwrap().len() == 1,
        "nothing half-written"
    );
    assert!(sup.permission_groups().await.unwrap().is_empty());
}

#[tokio::test]
async fn malformed_bodies_get_a_clear_4xx() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let http = reqwest::Client::new();
    let token = sup.token().unwrap().expose().to_string();
    let cases: Vec<(&str, String, u16, Option<&str>)> = vec![
        (
            "/api/v1/permission-groups",
            r#"{"name":"a","extra":{}}"#.into(),
            422,
            Some("extra"),
        ),
        (
            "/api/v1/permission-groups",
            r#"{"name":["a"]}"#.into(),
            422,
            Some("name"),
        ),
        (
            "/api/v1/permission-groups",
            r#"{"name":"a","permissions":[{"module":"assets","actions":["fly"]}]}"#.into(),
            422,
            Some("permissions[0].actions[0]"),
        ),
        ("/api/v1/permission-groups", "null".into(), 422, None),
        ("/api/v1/permission-groups", "[]".into(), 422, None),
        (
            "/api/v1/permission-groups",
            "{\"name\":\"a\"".into(),
            400,
            None,
        ),
        (
            "/api/v1/permission-groups",
            "{\"name\":\"\\ud800\"}".into(),
            400,
            None,
        ),
        ("/api/v1/permission-groups", "\u{feff}{}".into(), 400, None),
        (
            "/api/v1/users",
            r#"{"username":"u","display_name":"d","password":"p","role":"root"}"#.into(),
            422,
            Some("role"),
        ),
        (
            "/api/v1/session",
            r#"{"username":1,"password":2}"#.into(),
            422,
            Some("username"),
        ),
    ];
    for (path, body, status, field) in cases {
        let response = http
            .post(format!("{}{path}", t.server.url()))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{path} {body}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Problem = response.json().await.unwrap();
        assert!(!problem.detail.is_empty());
        if let Some(field) = field {
            assert!(problem.errors.contains_key(field), "{body}: {problem:?}");
        }
    }
    assert!(sup.permission_groups().await.unwrap().is_empty());
    assert_eq!(sup.users().await.unwrap().len(), 1);
}
