//! `consola groups|users|audit|signing-keys|api-key …` run as a process against a real
//! server on 127.0.0.1:0, in the three output formats, read back into the API's types.

mod binary;
mod cli_support;
mod common;

use cli_support::{Cli, signed_in, three};
use common::PASSWORD;
use consola::domain::oauth::SigningKeyInfo;
use consola::domain::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_group_verb_in_every_format() {
    let (_t, cli) = signed_in().await;
    let reports: PermissionGroup = cli
        .run(&[
            "groups",
            "create",
            "--name",
            "Reportes",
            "--description",
            "Lectura",
            "--allow",
            "reports:view,report",
            "--allow",
            "work_orders:view",
            "-o",
            "json",
        ])
        .ok()
        .json();
    let scopes: Vec<String> = reports.scopes().into_iter().collect();
    assert_eq!(
        scopes,
        ["reports:report", "reports:view", "work_orders:view"]
    );
    let table = cli
        .run(&[
            "groups",
            "create",
            "--name",
            "Compras",
            "--read-only",
            "--allow",
            "purchases:view",
        ])
        .ok();
    assert!(table.stdout.contains("purchases:view"), "{}", table.stdout);
    let stock: PermissionGroup = cli
        .run(&["groups", "create", "--name", "Bodega", "-o", "yaml"])
        .ok()
        .yaml();
    assert!(stock.permissions.is_empty());

    let all: Vec<PermissionGroup> = three(
        &cli,
        &["groups", "list"],
        &[
            "Nombre",
            "Descripción",
            "Solo lectura",
            "Módulos",
            "Consumidores",
        ],
    );
    assert_eq!(all.len(), 3);
    let ids = cli.run(&["groups", "list", "-q"]).ok();
    assert_eq!(
        ids.lines(),
        all.iter().map(|g| g.id.to_string()).collect::<Vec<_>>()
    );
    for name in ["Reportes", &reports.id.to_string()] {
        let got: PermissionGroup = three(&cli, &["groups", "get", name], &["Campo", "Valor"]);
        assert_eq!(got, reports);
    }
    let updated: PermissionGroup = cli
        .run(&[
            "groups",
            "update",
            "Reportes",
            "--description",
            "Solo reportes",
            "--allow",
            "reports:view",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(updated.description, "Solo reportes");
    assert_eq!(
        updated.scopes().into_iter().collect::<Vec<_>>(),
        ["reports:view"]
    );
    let cleared: PermissionGroup = cli
        .run(&[
            "groups",
            "update",
            "Reportes",
            "--clear-permissions",
            "-o",
            "yaml",
        ])
        .ok()
        .yaml();
    assert!(cleared.permissions.is_empty());

    let gone = cli.run(&["groups", "delete", "Bodega", "--yes"]).ok();
    assert!(gone.stdout.contains("eliminado"));
    let gone = cli
        .run(&["groups", "delete", "Compras", "--yes", "-o", "json"])
        .ok();
    assert_eq!(gone.stdout, "", "no document for an empty answer");
    let left: Vec<PermissionGroup> = cli.run(&["groups", "list", "-o", "json"]).ok().json();
    assert_eq!(left.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_user_verb_in_every_format() {
    let (t, cli) = signed_in().await;
    let ana: User = cli
        .run_with(
            &[
                "users",
                "create",
                "--username",
                "ana",
                "--display-name",
                "Ana",
                "--role",
                "admin",
                "--password-stdin",
                "-o",
                "json",
            ],
            Some("la clave de ana\n"),
        )
        .ok()
        .json();
    assert_eq!(ana.role, Role::Admin);
    let table = cli
        .run_with(
            &[
                "users",
                "create",
                "--username",
                "luis",
                "--display-name",
                "Luis",
                "--role",
                "read_only",
                "--password-stdin",
            ],
            Some("la clave de luis"),
        )
        .ok();
    assert!(table.stdout.contains("Solo lectura"), "{}", table.stdout);
    // The password given on stdin is the one that signs in.
    let as_ana = Cli::server(&t.server.url());
    as_ana.login("ana", "la clave de ana").ok();

    let all: Vec<User> = three(
        &cli,
        &["users", "list"],
        &["Usuario", "Nombre", "Rol", "Estado", "Creado"],
    );
    assert_eq!(all.len(), 3);
    let got: User = three(&cli, &["users", "get", "ana"], &["Campo", "Valor"]);
    assert_eq!(got, ana);
    let renamed: User = cli
        .run(&[
            "users",
            "update",
            "ana",
            "--display-name",
            "Ana María",
            "-o",
            "yaml",
        ])
        .ok()
        .yaml();
    assert_eq!(renamed.display_name, "Ana María");
    let disabled: User = cli
        .run(&["users", "update", "luis", "--disable", "-o", "json"])
        .ok()
        .json();
    assert!(disabled.disabled);
    cli.run_with(
        &["users", "update", "ana", "--password-stdin", "-q"],
        Some("otra clave larga\n"),
    )
    .ok();
    as_ana.login("ana", "otra clave larga").ok();
    let gone = cli.run(&["users", "delete", "luis", "--yes", "-q"]).ok();
    assert_eq!(gone.lines(), vec![disabled.id.to_string()]);
    let left: Vec<User> = cli.run(&["users", "list", "-o", "json"]).ok().json();
    assert_eq!(left.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_signing_keys_and_api_key_in_every_format() {
    let (t, cli) = signed_in().await;
    for name in ["A", "B", "C"] {
        cli.run(&["groups", "create", "--name", name, "-q"]).ok();
    }
    let added: Vec<AuditEvent> = three(
        &cli,
        &["audit", "list", "--action", "ADD"],
        &[
            "Fecha",
            "IP",
            "Actor",
            "Acción",
            "Módulo",
            "Objetivo",
            "Descripción",
        ],
    );
    assert_eq!(added.len(), 3);
    assert!(
        added
            .iter()
            .all(|e| e.action == AuditAction::Add && e.actor.name == "superadmin")
    );
    let two: Vec<AuditEvent> = cli
        .run(&["audit", "list", "--limit", "2", "-o", "json"])
        .ok()
        .json();
    assert_eq!(two.len(), 2);
    let tomorrow = (t.clock.now_for_tests() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let none: Vec<AuditEvent> = cli
        .run(&["audit", "list", "--since", &tomorrow, "-o", "json"])
        .ok()
        .json();
    assert!(none.is_empty());

    let keys: Vec<SigningKeyInfo> = three(
        &cli,
        &["signing-keys", "list"],
        &["Clave (kid)", "Algoritmo", "Creada", "Estado"],
    );
    let rotated: Vec<SigningKeyInfo> = cli
        .run(&["signing-keys", "rotate", "-o", "json"])
        .ok()
        .json();
    // A rotation makes a new current key for each of the three algorithms.
    assert_eq!(rotated.len(), keys.len() + 3);
    let new: Vec<_> = rotated
        .iter()
        .filter(|k| !keys.iter().any(|old| old.kid == k.kid))
        .collect();
    assert_eq!(new.len(), 3);
    assert!(new.iter().all(|k| k.current));
    let kids = cli.run(&["signing-keys", "list", "-q"]).ok();
    assert_eq!(
        kids.lines(),
        rotated.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>()
    );

    let key: ApiKey = three(&cli, &["api-key", "show"], &["Campo", "Valor"]);
    let shown = cli.run(&["api-key", "show"]).ok().stdout;
    assert!(shown.contains("Método de autenticación deprecado"));
    let revealed = cli.run(&["api-key", "reveal", "-o", "json"]).ok();
    let secret: serde_json::Value = revealed.json();
    assert_eq!(secret["key"], key.key.as_str());
    assert!(
        secret["secret"]
            .as_str()
            .unwrap()
            .starts_with("consola_ak_")
    );
    let yaml: serde_json::Value = cli.run(&["api-key", "reveal", "-o", "yaml"]).ok().yaml();
    assert_eq!(yaml, secret);
    let regenerated: serde_json::Value = cli
        .run(&["api-key", "regenerate", "-o", "json"])
        .ok()
        .json();
    assert_ne!(regenerated["secret"], secret["secret"]);
    let table = cli.run(&["api-key", "reveal"]).ok().stdout;
    assert!(table.contains(regenerated["secret"].as_str().unwrap()));

    // Only the Súper Administrador sees the secret, as in the console.
    let super_admin = t.login("superadmin").await;
    let _ = t.user(&super_admin, "ana", Role::Admin).await;
    let ana = Cli::server(&t.server.url());
    ana.login("ana", PASSWORD).ok();
    ana.run(&["api-key", "show", "-q"]).ok();
    let refused = ana.run(&["api-key", "reveal"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stdout.is_empty());
    assert!(
        refused.stderr.starts_with("consola: "),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("consola_ak_"));
}
