//! Permission groups, users and roles, the account and legacy key, the dashboard and the
//! OpenAPI document, through the HTTP API.

mod common;

use common::*;
use consola::domain::*;

#[tokio::test]
async fn permission_groups_crud_and_in_use_conflict() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let adm = t.user(&sup, "admin", Role::Admin).await;
    let modules = adm.modules().await.unwrap();
    assert!(
        modules
            .iter()
            .any(|m| m.id == "reports" && m.name == "Reportes")
    );
    assert!(
        modules
            .iter()
            .any(|m| m.id == "work_orders" && m.name == "Órdenes de trabajo")
    );

    let g = adm
        .create_permission_group(&NewPermissionGroup {
            name: "Reportes".into(),
            description: "Solo lectura de reportes".into(),
            read_only: true,
            permissions: vec![ModulePermission {
                module: "reports".into(),
                actions: vec![Action::View, Action::Report],
            }],
        })
        .await
        .unwrap();
    assert_eq!(
        g.scopes().into_iter().collect::<Vec<_>>(),
        ["reports:report", "reports:view"]
    );
    // Read-only groups cannot write; unknown modules are refused; names are unique.
    let err = adm
        .update_permission_group(
            g.id,
            &PermissionGroupPatch {
                permissions: Some(vec![ModulePermission {
                    module: "reports".into(),
                    actions: vec![Action::Delete],
                }]),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    assert!(err.field_errors().get("permissions").is_some());
    let err = adm
        .create_permission_group(&NewPermissionGroup {
            name: "reportes".into(),
            description: String::new(),
            read_only: false,
            permissions: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert!(err.field_errors().get("name").is_some());
    let err = adm
        .create_permission_group(&NewPermissionGroup {
            name: "Raro".into(),
            description: String::new(),
            read_only: false,
            permissions: vec![ModulePermission {
                module: "naves_espaciales".into(),
                actions: vec![Action::View],
            }],
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));

    let edited = adm
        .update_permission_group(
            g.id,
            &PermissionGroupPatch {
                read_only: Some(false),
                permissions: Some(vec![ModulePermission {
                    module: "work_orders".into(),
                    actions: vec![Action::Edit, Action::View],
                }]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(edited.version, 2);
    assert_eq!(
        edited.permissions[0].actions,
        vec![Action::View, Action::Edit]
    );
    assert_eq!(adm.permission_group(g.id).await.unwrap(), edited);

    let c = sup
        .create_consumer(&new_consumer("ERP", g.id))
        .await
        .unwrap();
    assert_eq!(adm.permission_group(g.id).await.unwrap().consumer_count, 1);
    let err = adm.delete_permission_group(g.id).await.unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert!(err.problem().unwrap().detail.contains("Reportes"));
    sup.delete_consumer(c.consumer.id).await.unwrap();
    adm.delete_permission_group(g.id).await.unwrap();
    assert_eq!(status_of(adm.permission_group(g.id).await), 404);
    // A deleted group can no longer be chosen.
    let err = sup
        .create_consumer(&new_consumer("ERP", g.id))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    assert!(err.field_errors().get("permission_group_id").is_some());
}

#[tokio::test]
async fn users_roles_and_the_single_super_admin() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let me = sup.me().await.unwrap();
    let ana = sup
        .create_user(&NewUser {
            username: "ana".into(),
            display_name: "Ana".into(),
            password: PASSWORD.into(),
            role: Role::Admin,
        })
        .await
        .unwrap();
    let err = sup
        .create_user(&NewUser {
            username: "ANA".into(),
            display_name: "Otra Ana".into(),
            password: PASSWORD.into(),
            role: Role::ReadOnly,
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert!(err.field_errors().get("username").is_some());
    let err = sup
        .create_user(&NewUser {
            username: "segundo".into(),
            display_name: "Segundo".into(),
            password: PASSWORD.into(),
            role: Role::SuperAdmin,
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422), "a second super admin is refused");

    // The super admin can be neither deleted, demoted nor disabled.
    assert_eq!(status_of(sup.delete_user(me.id).await), 409);
    for patch in [
        UserPatch {
            role: Some(Role::Admin),
            ..Default::default()
        },
        UserPatch {
            disabled: Some(true),
            ..Default::default()
        },
    ] {
        assert_eq!(status_of(sup.update_user(me.id, &patch).await), 409);
    }

    // Disabling a user ends its sessions and stops its logins.
    let ana_client = t.login("ana").await;
    let disabled = sup
        .update_user(
            ana.id,
            &UserPatch {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(disabled.disabled);
    assert_eq!(status_of(ana_client.me().await), 401);
    assert_eq!(status_of(t.anonymous.login("ana", PASSWORD).await), 401);
    // Nor can the role go to a disabled user.
    let err = sup
        .update_user(
            ana.id,
            &UserPatch {
                role: Some(Role::SuperAdmin),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    sup.update_user(
        ana.id,
        &UserPatch {
            disabled: Some(false),
            role: Some(Role::ReadOnly),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    // Handing the role over: Ana becomes super admin, the former one admin.
    let handed = sup
        .update_user(
            ana.id,
            &UserPatch {
                role: Some(Role::SuperAdmin),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(handed.role, Role::SuperAdmin);
    let users = sup.users().await.unwrap();
    assert_eq!(
        users.iter().filter(|u| u.role == Role::SuperAdmin).count(),
        1
    );
    assert_eq!(sup.user(me.id).await.unwrap().role, Role::Admin);
    // The former super admin's session now carries the admin role.
    assert_eq!(status_of(sup.delete_user(ana.id).await), 403);
    let ana_sup = t.login("ana").await;
    ana_sup.delete_user(me.id).await.unwrap();
    assert_eq!(status_of(ana_sup.user(me.id).await), 404);
}

#[tokio::test]
async fn account_and_legacy_key() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let renamed = sup
        .update_account(&AccountPatch {
            name: "  Planta Norte  ".into(),
        })
        .await
        .unwrap();
    assert_eq!(renamed.name, "Planta Norte");
    let err = sup
        .update_account(&AccountPatch { name: "".into() })
        .await
        .unwrap_err();
    assert!(err.field_errors().get("account_name").is_some());

    let key = sup.api_key().await.unwrap();
    let secret = sup.api_key_secret().await.unwrap();
    assert_eq!(secret.key, key.key);
    assert!(secret::is_well_formed(
        secret::SecretKind::LegacyApiSecret,
        secret.secret.expose()
    ));
    let regenerated = sup.regenerate_api_key().await.unwrap();
    assert_ne!(regenerated.key, key.key);
    assert_ne!(regenerated.secret, secret.secret);
    assert_eq!(
        sup.api_key_secret().await.unwrap().secret,
        regenerated.secret
    );
    let log = sup.audit(&AuditQuery::default()).await.unwrap();
    assert!(log.items.iter().any(|e| e.action == AuditAction::Reveal));
    assert!(
        log.items
            .iter()
            .any(|e| e.action == AuditAction::Regenerate)
    );
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains(secret.secret.expose()));
    assert!(!text.contains(regenerated.secret.expose()));
}

#[tokio::test]
async fn dashboard_counts_and_range() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let g = group(&sup, "Reportes", "reports").await;
    for i in 0..3 {
        sup.create_consumer(&new_consumer(&format!("c{i}"), g.id))
            .await
            .unwrap();
    }
    let ro = t.user(&sup, "lector", Role::ReadOnly).await;
    let now = t.clock.now_for_tests();
    let d = ro
        .dashboard(&DashboardQuery {
            since: Some(now - chrono::Duration::days(6)),
            until: Some(now),
        })
        .await
        .unwrap();
    assert_eq!(d.consumers, 3);
    assert_eq!(d.enabled_consumers, 3);
    assert_eq!(d.permission_groups, 1);
    assert_eq!(d.users, 2);
    assert_eq!(d.series.len(), 7, "one point per day");
    assert_eq!(d.tokens_issued, 0);
    let err = ro
        .dashboard(&DashboardQuery {
            since: Some(now),
            until: Some(now - chrono::Duration::days(1)),
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
}

#[tokio::test]
async fn openapi_documents_every_route() {
    let t = TestServer::start().await;
    let doc = t.anonymous.openapi().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("/healthz", "get"),
        ("/api/v1/setup", "get"),
        ("/api/v1/setup", "post"),
        ("/api/v1/session", "post"),
        ("/api/v1/session", "delete"),
        ("/api/v1/me", "get"),
        ("/api/v1/me/password", "put"),
        ("/api/v1/modules", "get"),
        ("/api/v1/account", "get"),
        ("/api/v1/account", "patch"),
        ("/api/v1/api-key", "get"),
        ("/api/v1/api-key/secret", "get"),
        ("/api/v1/api-key/regenerate", "post"),
        ("/api/v1/audit", "get"),
        ("/api/v1/dashboard", "get"),
        ("/api/v1/users", "get"),
        ("/api/v1/users", "post"),
        ("/api/v1/users/{id}", "get"),
        ("/api/v1/users/{id}", "patch"),
        ("/api/v1/users/{id}", "delete"),
        ("/api/v1/permission-groups", "get"),
        ("/api/v1/permission-groups", "post"),
        ("/api/v1/permission-groups/{id}", "get"),
        ("/api/v1/permission-groups/{id}", "patch"),
        ("/api/v1/permission-groups/{id}", "delete"),
        ("/api/v1/consumers", "get"),
        ("/api/v1/consumers", "post"),
        ("/api/v1/consumers/{id}", "get"),
        ("/api/v1/consumers/{id}", "patch"),
        ("/api/v1/consumers/{id}", "delete"),
        ("/api/v1/consumers/{id}/rotate-secret", "post"),
        ("/api/v1/openapi.json", "get"),
    ];
    let mut ids = std::collections::HashSet::new();
    for (path, method) in expected {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} is documented");
        assert!(
            ids.insert(op["operationId"].as_str().unwrap().to_string()),
            "unique operationId"
        );
        assert!(
            op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .any(|k| k.starts_with('2'))
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "Consumer",
        "CreatedConsumer",
        "NewConsumer",
        "Problem",
        "PermissionGroup",
        "User",
    ] {
        assert!(schemas.contains_key(name), "{name}");
    }
    // The created consumer's schema carries the secret; the consumer's does not.
    let created = serde_json::to_string(&schemas["CreatedConsumer"]).unwrap();
    assert!(created.contains("client_secret"));
    assert!(
        !serde_json::to_string(&schemas["Consumer"])
            .unwrap()
            .contains("client_secret")
    );
}
