//! `consola resources …` run as a process against a real server on 127.0.0.1:0: every verb
//! in the output formats, a resource named by name, URL or id, the server's field errors on
//! stderr, and the noun in `--help`, the completion scripts and the manual page.

mod binary;
mod cli_support;
mod common;

use binary::consola;
use cli_support::{signed_in, three};
use common::*;
use consola::domain::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_resource_verb_in_every_format() {
    let (t, cli) = signed_in().await;

    // create, in the three formats.
    let activos: ProtectedResource = cli
        .run(&[
            "resources",
            "create",
            "--name",
            "Activos",
            "--url",
            "https://activos.example/api",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(activos.url, "https://activos.example/api");
    assert_eq!(activos.created_by, "superadmin");
    let ordenes: ProtectedResource = cli
        .run(&[
            "resources",
            "create",
            "--name",
            "Órdenes",
            "--url",
            "https://ordenes.example/api",
            "-o",
            "yaml",
        ])
        .ok()
        .yaml();
    let table = cli
        .run(&[
            "resources",
            "create",
            "--name",
            "Local",
            "--url",
            "http://127.0.0.1:9000/api",
        ])
        .ok();
    assert!(table.stdout.starts_with("Campo"), "{}", table.stdout);
    assert!(table.stdout.contains("http://127.0.0.1:9000/api"));
    let quiet = cli
        .run(&[
            "resources",
            "create",
            "--name",
            "Inventario",
            "--url",
            "https://inventario.example/api",
            "-q",
        ])
        .ok();
    let inventario_id = quiet.stdout.trim().to_string();
    assert!(
        uuid::Uuid::parse_str(&inventario_id).is_ok(),
        "{}",
        quiet.stdout
    );

    // list: the table's headers, and the API's own document in JSON and YAML.
    let listed: Vec<ProtectedResource> = three(
        &cli,
        &["resources", "list"],
        &["Nombre", "URL", "Fecha de creación", "Creado por"],
    );
    let names: Vec<&str> = listed.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Activos", "Inventario", "Local", "Órdenes"]);
    assert_eq!(listed[0], activos);
    let ids = cli.run(&["resources", "list", "-q"]).ok();
    assert_eq!(ids.lines().len(), 4);
    assert!(ids.lines().contains(&ordenes.id.to_string().as_str()));

    // delete, by name (another case), by URL and by id.
    let gone = cli.run(&["resources", "delete", "activos", "--yes"]).ok();
    assert!(gone.stdout.contains("eliminado"), "{}", gone.stdout);
    let gone = cli
        .run(&[
            "resources",
            "delete",
            "https://ordenes.example/api",
            "--yes",
            "-q",
        ])
        .ok();
    assert_eq!(gone.lines(), vec![ordenes.id.to_string()]);
    cli.run(&["resources", "delete", &inventario_id, "--yes", "-o", "json"])
        .ok();
    let left: Vec<ProtectedResource> = cli.run(&["resources", "list", "-o", "json"]).ok().json();
    assert_eq!(
        left.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["Local"]
    );
    assert_eq!(t.server.service.resource_by_url(&activos.url), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_the_field_and_change_nothing() {
    let (t, cli) = signed_in().await;
    let bad = cli.run(&[
        "resources",
        "create",
        "--name",
        "API",
        "--url",
        "http://api.example.com/#parte",
    ]);
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(bad.stderr.contains("  url: "), "{}", bad.stderr);
    cli.run(&[
        "resources",
        "create",
        "--name",
        "API",
        "--url",
        "https://api.example.com",
    ])
    .ok();
    let taken = cli.run(&[
        "resources",
        "create",
        "--name",
        "api",
        "--url",
        "https://otra.example.com",
    ]);
    assert_eq!(taken.code, 1);
    assert!(taken.stderr.contains("  name: "), "{}", taken.stderr);

    // Deleting needs --yes without a terminal; an unknown name lists what is near.
    let unconfirmed = cli.run(&["resources", "delete", "API"]);
    assert_eq!(unconfirmed.code, 2, "{}", unconfirmed.stderr);
    assert!(
        unconfirmed.stderr.contains("--yes"),
        "{}",
        unconfirmed.stderr
    );
    let unknown = cli.run(&["resources", "delete", "AP", "--yes"]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown
            .stderr
            .contains("no hay ningún recurso protegido «AP»"),
        "{}",
        unknown.stderr
    );
    assert!(unknown.stderr.contains("https://api.example.com"));

    // An admin reads, and is refused the writes by the server.
    let sup = t.login("superadmin").await;
    t.user(&sup, "admin", Role::Admin).await;
    let admin = cli_support::Cli::server(&t.server.url());
    admin.login("admin", PASSWORD).ok();
    let listed: Vec<ProtectedResource> =
        admin.run(&["resources", "list", "-o", "json"]).ok().json();
    assert_eq!(listed.len(), 1);
    let refused = admin.run(&["resources", "delete", "API", "--yes"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("Súper Administrador"),
        "{}",
        refused.stderr
    );
    assert_eq!(sup.resources().await.unwrap(), listed);
}

#[test]
fn the_noun_is_in_the_help_the_completions_and_the_manual_page() {
    let help = consola().args(["resources", "--help"]).output().unwrap();
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    for verb in ["list", "create", "delete", "--output"] {
        assert!(help.contains(verb), "{verb}: {help}");
    }
    let create = consola()
        .args(["resources", "create", "--help"])
        .output()
        .unwrap();
    let create = String::from_utf8(create.stdout).unwrap();
    assert!(
        create.contains("--name") && create.contains("--url") && create.contains("fragment"),
        "{create}"
    );
    let missing = consola()
        .args(["resources", "create", "--name", "API"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2), "a usage error");

    for shell in ["bash", "zsh", "fish"] {
        let out = consola().args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains("resources"), "{shell}");
    }
    let man = consola().arg("man").output().unwrap();
    assert!(String::from_utf8_lossy(&man.stdout).contains("resources"));
}
