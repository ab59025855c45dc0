//! Consumers through the HTTP API: create with a secret shown once, validation, conflicts,
//! edits with versions, rotation, deletion and their audit entries.

mod common;

use chrono::Duration;
use common::*;
use consola::domain::*;

#[tokio::test]
async fn create_returns_the_secret_once_and_reads_never_do() {
    let t = TestServer::start().await;
    let admin = t.setup().await;
    let g = group(&admin, "Reportes", "reports").await;
    let mut new = new_consumer("  ERP Planta Norte  ", g.id);
    new.hub_enabled = true;
    let created = admin.create_consumer(&new).await.unwrap();
    let c = &created.consumer;
    assert_eq!(c.name, "ERP Planta Norte", "name is trimmed");
    assert_eq!(c.permission_group_id, g.id);
    assert_eq!(c.permission_group_name, "Reportes");
    assert!(c.hub_enabled && c.enabled);
    assert_eq!(c.grant_type, GrantType::ClientCredentials);
    assert_eq!(c.token_format, TokenFormat::Opaque);
    assert_eq!(c.created_by, "superadmin");
    assert_eq!(c.client_id.len(), 32);
    let secret = created
        .client_secret
        .as_ref()
        .expect("a secret")
        .expose()
        .to_string();
    assert!(secret::is_well_formed(
        secret::SecretKind::ClientSecret,
        &secret
    ));
    assert_eq!(c.secret_last_four, secret::last_four(&secret));

    // No read returns the secret: not the list, not the item, not the raw JSON.
    let http = reqwest::Client::new();
    let token = admin.token().unwrap().expose().to_string();
    for path in [
        "/api/v1/consumers".to_string(),
        format!("/api/v1/consumers/{}", c.id),
        "/api/v1/audit".to_string(),
        "/api/v1/dashboard".to_string(),
    ] {
        let body = http
            .get(format!("{}{path}", t.server.url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!body.contains(&secret), "{path} leaks the secret");
        assert!(
            !body.contains("client_secret"),
            "{path} names a secret field"
        );
    }
    let page = admin.consumers(&ConsumerQuery::default()).await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].id, c.id);
    let fetched = admin.consumer(c.id).await.unwrap();
    assert_eq!(&fetched, c);
}

#[tokio::test]
async fn database_files_hold_no_secret_and_no_session_token() {
    // About SQLite's files (the database and its WAL); `tests/secrets_at_rest.rs` looks at
    // what the API and the logs show on either store.
    let t = TestServer::start_on_sqlite().await;
    let admin = t.setup().await;
    let g = group(&admin, "Reportes", "reports").await;
    let mut secrets = vec![admin.token().unwrap().expose().to_string()];
    for i in 0..5 {
        let created = admin
            .create_consumer(&new_consumer(&format!("c{i}"), g.id))
            .await
            .unwrap();
        secrets.push(
            created
                .client_secret
                .as_ref()
                .expect("a secret")
                .expose()
                .to_string(),
        );
        let rotated = admin
            .rotate_secret(
                created.consumer.id,
                &RotateSecret {
                    grace_seconds: 60,
                    revoke_tokens: false,
                },
            )
            .await
            .unwrap();
        secrets.push(rotated.client_secret.expose().to_string());
    }
    let legacy = admin.api_key_secret().await.unwrap();
    secrets.push(legacy.secret.expose().to_string());
    let mut files = 0;
    for entry in std::fs::read_dir(t.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("consola.db") {
            continue;
        }
        files += 1;
        let bytes = std::fs::read(&path).unwrap();
        for s in &secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "{name} holds a secret in clear"
            );
            // Nor the random part alone.
            let body = &s.as_bytes()[11..];
            assert!(!bytes.windows(body.len()).any(|w| w == body), "{name}");
        }
    }
    assert!(files >= 2, "the database and its WAL were scanned");
}

#[tokio::test]
async fn validation_errors_name_their_fields() {
    let t = TestServer::start().await;
    let admin = t.setup().await;
    let g = group(&admin, "Reportes", "reports").await;
    let cases: Vec<(NewConsumer, &str)> = vec![
        (new_consumer("   ", g.id), "name"),
        (new_consumer(&"x".repeat(101), g.id), "name"),
        (new_consumer("esc\u{1b}[2Jape", g.id), "name"),
        (new_consumer("nul\u{0}", g.id), "name"),
        (
            NewConsumer {
                description: "d".repeat(501),
                ..new_consumer("ok", g.id)
            },
            "description",
        ),
        (
            NewConsumer {
                grant_type: GrantType::AuthorizationCode,
                ..new_consumer("ok", g.id)
            },
            "redirect_uris",
        ),
        (
            NewConsumer {
                grant_type: GrantType::AuthorizationCode,
                redirect_uris: vec!["http://example.com/cb".into()],
                ..new_consumer("ok", g.id)
            },
            "redirect_uris",
        ),
        (
            new_consumer("ok", uuid::Uuid::now_v7()),
            "permission_group_id",
        ),
    ];
    for (body, field) in cases {
        let err = admin.create_consumer(&body).await.unwrap_err();
        assert_eq!(err.status(), Some(422), "{field}: {err}");
        assert!(
            err.field_errors().get(field).is_some(),
            "expected an error on {field}, got {:?}",
            err.field_errors()
        );
    }
    // 100 characters exactly is fine, and so is an authorization-code consumer with a
    // loopback redirect.
    admin
        .create_consumer(&new_consumer(&"y".repeat(100), g.id))
        .await
        .unwrap();
    let code = admin
        .create_consumer(&NewConsumer {
            grant_type: GrantType::AuthorizationCode,
            redirect_uris: vec![
                "http://127.0.0.1:9000/cb".into(),
                "https://app.example/cb".into(),
            ],
            ..new_consumer("web", g.id)
        })
        .await
        .unwrap();
    assert_eq!(code.consumer.redirect_uris.len(), 2);
    let page = admin.consumers(&ConsumerQuery::default()).await.unwrap();
    assert_eq!(
        page.total, 2,
        "nothing half-written by the rejected requests"
    );
}

#[tokio::test]
async fn names_are_unique_ignoring_case() {
    let t = TestServer::start().await;
    let admin = t.setup().await;
    let g = group(&admin, "Reportes", "reports").await;
    admin
        .create_consumer(&new_consumer("Ñandú ERP", g.id))
        .await
        .unwrap();
    for dup in ["ñandú erp", "ÑANDÚ ERP", " Ñandú ERP "] {
        let err = admin
            .create_consumer(&new_consumer(dup, g.id))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(409), "{dup}");
        assert!(err.field_errors().get("name").is_some());
    }
    // An edit into a taken name is a conflict too.
    let other = admin
        .create_consumer(&new_consumer("Otro", g.id))
        .await
        .unwrap();
    let err = admin
        .update_consumer(
            other.consumer.id,
            &ConsumerPatch {
                name: Some("ñandú erp".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
}

#[tokio::test]
async fn raw_json_errors_unknown_fields_wrong_types_and_size() {
    let t = TestServer::start().await;
    let admin = t.setup().await;
    let g = group(&admin, "Reportes", "reports").await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/consumers", t.server.url());
    let token = admin.token().unwrap().expose().to_string();
    let send = |body: String| {
        http.post(&url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let unknown = send(format!(
        r#"{{"name":"a","grant_type":"client_credentials","permission_group_id":"{}","admin":true}}"#,
        g.id
    ))
    .await
    .unwrap();
    assert_eq!(unknown.status(), 422);
    assert_eq!(
        unknown.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Problem = unknown.json().await.unwrap();
    assert!(problem.errors.contains_key("admin"), "{problem:?}");

    let wrong_type = send(format!(
        r#"{{"name":5,"grant_type":"client_credentials","permission_group_id":"{}"}}"#,
        g.id
    ))
    .await
    .unwrap();
    assert_eq!(wrong_type.status(), 422);
    let problem: Problem = wrong_type.json().await.unwrap();
    assert!(problem.errors.contains_key("name"), "{problem:?}");

    let bad_grant = send(format!(
        r#"{{"name":"a","grant_type":"implicit","permission_group_id":"{}"}}"#,
        g.id
    ))
    .await
    .unwrap();
    let problem: Problem = bad_grant.json().await.unwrap();
    assert_eq!(problem.status, 422);
    assert!(problem.errors.contains_key("grant_type"));

    // Deep nesting, as a whole body or inside a field: a clear 4xx, no crash.
    for deep in [
        format!("{}{}", "[".repeat(5000), "]".repeat(5000)),
        format!(
            r#"{{"description":{}{}}}"#,
            "[".repeat(5000),
            "]".repeat(5000)
        ),
    ] {
        let response = send(deep).await.unwrap();
        assert!(matches!(response.status().as_u16(), 400 | 422));
        let problem: Problem = response.json().await.unwrap();
        assert!(!problem.detail.is_empty());
    }
    assert_eq!(send("{".into()).await.unwrap().status(), 400);

    let huge = format!(
        r#"{{"name":"a","description":"{}","grant_type":"client_credentials","permission_group_id":"{}"}}"#,
        "x".repeat(70 * 1024),
        g.id
    );
    let too_large = send(huge).await.unwrap();
    assert_eq!(too_large.status(), 413);
    let problem: Problem = too_large.json().await.unwrap();
    assert_eq!(problem.status, 413);

    let not_json = http
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 415);
    assert_eq!(
        admin
            .consumers(&ConsumerQuery::default())
            .await
            .unwrap()
            .total,
        0,
        "no rejected request wrote anything"
    );
}

#[tokio::test]
async fn edit_checks_versions_and_delete_removes() {
    let t = TestServer::start().await;
    let admin = t.setup().await;
    let g = group(&admin, "Reportes", "reports").await;
    let g2 = group(&admin, "Activos", "assets").await;
    let c = admin
        .create_consumer(&new_consumer("ERP", g.id))
        .await
        .unwrap()
        .consumer;
    let edited = admin
        .update_consumer(
            c.id,
            &ConsumerPatch {
                description: Some("Nueva".into()),
                permission_group_id: Some(g2.id),
                hub_enabled: Some(true),
                enabled: Some(false),
                ..Default::default()
            },
            Some(c.version),
        )
        .await
        .unwrap();
    assert_eq!(edited.description, "Nueva");
    assert_eq!(edited.permission_group_name, "Activos");
    assert!(edited.hub_enabled && !edited.enabled);
    assert_eq!(edited.version, c.version + 1);
    assert_eq!(
        edited.client_id, c.client_id,
        "the key does not change on edit"
    );

    // A second edit from the old version is refused and writes nothing.
    let stale = admin
        .update_consumer(
            c.id,
            &ConsumerPatch {
                description: Some("Pisada".into()),
                ..Default::default()
            },
            Some(c.version),
        )
        .await
        .unwrap_err();
    assert_eq!(stale.status(), Some(412));
    assert_eq!(admin.consumer(c.id).await.unwrap().description, "Nueva");

    // ETag on reads matches the version.
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/consumers/{}", t.server.url(), c.id))
        .bearer_auth(admin.token().unwrap().expose())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["etag"],
        format!("\"{}\"", edited.version)
    );

    // An unknown group in an edit is a field error.
    let err = admin
        .update_consumer(
            c.id,
            &ConsumerPatch {
                permission_group_id: Some(uuid::Uuid::now_v7()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    assert!(err.field_errors().get("permission_group_id").is_some());

    admin.delete_consumer(c.id).await.unwrap();
    assert_eq!(status_of(admin.consumer(c.id).await), 404);
    assert_eq!(status_of(admin.delete_consumer(c.id).await), 404);
    assert_eq!(
        status_of(
            admin
                .update_consumer(c.id, &ConsumerPatch::default(), None)
                .await
        ),
        404
    );
    assert_eq!(
        admin
            .consumers(&ConsumerQuery::default())
            .await
            .unwrap()
            .total,
        0
    );
}

#[tokio::test]
async fn rotation_without_grace_ends_the_old_secret_at_once() {
    let t = TestServer::start().await;
    let admin = t.setup().await;
    let g = group(&admin, "Reportes", "reports").await;
    let created = admin
        .create_consumer(&new_consumer("ERP", g.id))
        .await
        .unwrap();
    let id = created.consumer.id;
    let client_id = created.consumer.client_id.clone();
    let old = created
        .client_secret
        .as_ref()
        .expect("a secret")
        .expose()
        .to_string();
    let server = &t.server;
    assert!(token_endpoint_accepts(server, &client_id, &old).await);

    let rotated = admin
        .rotate_secret(id, &RotateSecret::default())
        .await
        .unwrap();
    let new = rotated.client_secret.expose().to_string();
    assert_ne!(new, old);
    assert!(rotated.previous_secret_valid_until.is_none());
    assert!(!token_endpoint_accepts(server, &client_id, &old).await);
    assert!(token_endpoint_accepts(server, &client_id, &new).await);
    let c = admin.consumer(id).await.unwrap();
    assert_eq!(c.secret_last_four, rotated.secret_last_four);
}

#[tokio::test]
async fn rotation_with_grace_keeps_the_old_secret_until_it_ends() {
    let t = TestServer::start().await;
    let admin = t.setup().await;
    let g = group(&admin, "Reportes", "reports").await;
    let created = admin
        .create_consumer(&new_consumer("ERP", g.id))
        .await
        .unwrap();
    let client_id = created.consumer.client_id.clone();
    let old = created
        .client_secret
        .as_ref()
        .expect("a secret")
        .expose()
        .to_string();
    let rotated = admin
        .rotate_secret(
            created.consumer.id,
            &RotateSecret {
                grace_seconds: 3600,
                revoke_tokens: false,
            },
        )
        .await
        .unwrap();
    let new = rotated.client_secret.expose().to_string();
    assert_eq!(
        rotated.previous_secret_valid_until,
        Some(t.clock.now_for_tests() + Duration::seconds(3600))
    );
    let server = &t.server;
    assert!(token_endpoint_accepts(server, &client_id, &old).await);
    assert!(token_endpoint_accepts(server, &client_id, &new).await);
    t.clock.advance(Duration::seconds(3599));
    assert!(token_endpoint_accepts(server, &client_id, &old).await);
    t.clock.advance(Duration::seconds(2));
    assert!(!token_endpoint_accepts(server, &client_id, &old).await);
    assert!(token_endpoint_accepts(server, &client_id, &new).await);

    // A disabled consumer's secret does not verify.
    admin
        .update_consumer(
            created.consumer.id,
            &ConsumerPatch {
                enabled: Some(false),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    assert!(!token_endpoint_accepts(server, &client_id, &new).await);

    // Grace is bounded.
    let err = admin
        .rotate_secret(
            created.consumer.id,
            &RotateSecret {
                grace_seconds: MAX_GRACE_SECONDS + 1,
                revoke_tokens: false,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
}

#[tokio::test]
async fn every_write_leaves_one_audit_entry_without_secrets() {
    let t = TestServer::start().await;
    let admin = t.setup().await;
    let g = group(&admin, "Reportes", "reports").await;
    let created = admin
        .create_consumer(&new_consumer("ERP", g.id))
        .await
        .unwrap();
    let id = created.consumer.id;
    admin
        .update_consumer(
            id,
            &ConsumerPatch {
                name: Some("ERP 2".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let rotated = admin
        .rotate_secret(id, &RotateSecret::default())
        .await
        .unwrap();
    admin.delete_consumer(id).await.unwrap();
    // A refused write leaves a denial, not a write entry.
    let _ = admin
        .create_consumer(&new_consumer("", g.id))
        .await
        .unwrap_err();

    let log = admin.audit(&AuditQuery::default()).await.unwrap();
    let consumer_entries: Vec<&AuditEvent> = log
        .items
        .iter()
        .filter(|e| e.module == modules::CONSUMERS)
        .collect();
    let actions: Vec<AuditAction> = consumer_entries.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        vec![
            AuditAction::Delete,
            AuditAction::Rotate,
            AuditAction::Edit,
            AuditAction::Add
        ],
        "newest first, one per write"
    );
    for e in &consumer_entries {
        assert_eq!(e.actor, Actor::user("superadmin"));
        assert_eq!(e.ip, "127.0.0.1");
    }
    let everything = serde_json::to_string(&log).unwrap();
    for s in [
        created.client_secret.as_ref().expect("a secret").expose(),
        rotated.client_secret.expose(),
    ] {
        assert!(!everything.contains(s));
    }
    assert!(log.items.iter().any(|e| e.action == AuditAction::Login));
    assert!(log.items.iter().any(|e| e.action == AuditAction::Setup));

    // Filters: by action, and by dates.
    let only_rotations = admin
        .audit(&AuditQuery {
            action: Some(AuditAction::Rotate),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(only_rotations.total, 1);
    assert_eq!(only_rotations.items[0].target, "ERP 2");
    let future = admin
        .audit(&AuditQuery {
            since: Some(t.clock.now_for_tests() + Duration::days(1)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(future.total, 0);
    // Pages follow each other without overlap.
    let first = admin
        .audit(&AuditQuery {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    let second = admin
        .audit(&AuditQuery {
            limit: Some(2),
            cursor: first.next_cursor.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(first.items[1].id > second.items[0].id);
}
