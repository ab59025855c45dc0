//! How `consola <noun> <verb>` fails: validation errors exit 1 with the field on stderr and
//! create nothing; usage errors exit 2; a delete without a terminal needs --yes; names that
//! match none or several list what matched; a list through a broken connection fails.

mod binary;
mod cli_support;
mod common;

use cli_support::{Cli, signed_in};
use consola::domain::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

fn consumers(cli: &Cli) -> Vec<Consumer> {
    cli.run(&["consumers", "list", "-o", "json"]).ok().json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_validation_error_exits_1_names_the_field_and_creates_nothing() {
    let (_t, cli) = signed_in().await;
    cli.run(&[
        "groups",
        "create",
        "--name",
        "Reportes",
        "--allow",
        "reports:view",
        "-q",
    ])
    .ok();
    cli.run(&[
        "consumers",
        "create",
        "--name",
        "ERP",
        "--group",
        "Reportes",
        "-q",
    ])
    .ok();
    let long_name = "x".repeat(101);
    let long_description = "d".repeat(501);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--name", ""], "name"),
        (vec!["--name", "   "], "name"),
        (vec!["--name", &long_name], "name"),
        (vec!["--name", "a\u{1b}[31mb"], "name"),
        (vec!["--name", "ERP"], "name"),
        (
            vec!["--name", "Nuevo", "--description", &long_description],
            "description",
        ),
        (
            vec!["--name", "Nuevo", "--type", "authorization_code"],
            "redirect_uris",
        ),
        (
            vec![
                "--name",
                "Nuevo",
                "--type",
                "authorization_code",
                "--redirect-uri",
                "http://example.com/cb",
            ],
            "redirect_uris",
        ),
        (
            vec!["--name", "Nuevo", "--redirect-uri", "no es una url"],
            "redirect_uris",
        ),
    ];
    for (fields, field) in cases {
        let args = [&["consumers", "create", "--group", "Reportes"][..], &fields].concat();
        for format in ["table", "json"] {
            let run = cli.run(&[&args[..], &["-o", format]].concat());
            assert_eq!(run.code, 1, "{fields:?}: {run:?}");
            assert!(
                run.stdout.is_empty(),
                "{fields:?}: nothing on stdout: {}",
                run.stdout
            );
            assert!(run.stderr.starts_with("consola: "), "{}", run.stderr);
            assert!(
                run.stderr.contains(&format!("\n  {field}: ")),
                "{fields:?}: {}",
                run.stderr
            );
            assert!(!run.stderr.contains('\u{1b}'), "stderr is sanitised");
        }
    }
    // A group that does not exist: nothing is created, and the error says so.
    let run = cli.run(&["consumers", "create", "--name", "Nuevo", "--group", "Nada"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("no hay ningún grupo «Nada»"),
        "{}",
        run.stderr
    );
    assert_eq!(consumers(&cli).len(), 1, "no consumer was created");

    let group_cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--name", ""], "name"),
        (vec!["--name", "Reportes"], "name"),
        (
            vec!["--name", "Otro", "--allow", "nope:view"],
            "permissions",
        ),
        (
            vec!["--name", "Otro", "--read-only", "--allow", "assets:add"],
            "permissions",
        ),
    ];
    for (fields, field) in group_cases {
        let run = cli.run(&[&["groups", "create"][..], &fields].concat());
        assert_eq!(run.code, 1, "{fields:?}: {run:?}");
        assert!(
            run.stderr.contains(&format!("\n  {field}: ")),
            "{fields:?}: {}",
            run.stderr
        );
    }
    let groups: Vec<PermissionGroup> = cli.run(&["groups", "list", "-o", "json"]).ok().json();
    assert_eq!(groups.len(), 1);

    for (username, password, field) in [
        ("ana", "corta", "password"),
        ("a b", "una clave larga", "username"),
    ] {
        let run = cli.run_with(
            &[
                "users",
                "create",
                "--username",
                username,
                "--display-name",
                "Ana",
                "--role",
                "admin",
                "--password-stdin",
            ],
            Some(password),
        );
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains(&format!("\n  {field}: ")),
            "{}",
            run.stderr
        );
        assert!(
            !run.stderr.contains(password),
            "the password is never echoed"
        );
    }
    let users: Vec<User> = cli.run(&["users", "list", "-o", "json"]).ok().json();
    assert_eq!(users.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_2_and_delete_needs_yes_without_a_terminal() {
    let (_t, cli) = signed_in().await;
    cli.run(&["groups", "create", "--name", "Reportes", "-q"])
        .ok();
    cli.run(&[
        "consumers",
        "create",
        "--name",
        "ERP",
        "--group",
        "Reportes",
        "-q",
    ])
    .ok();
    let usage = [
        vec![
            "consumers",
            "create",
            "--name",
            "X",
            "--group",
            "Reportes",
            "--type",
            "implicit",
        ],
        vec!["consumers", "create", "--name", "X"],
        vec!["consumers", "rotate-secret", "ERP", "--grace", "1w"],
        vec!["consumers", "list", "-o", "xml"],
        vec!["consumers", "update", "ERP"],
        vec!["consumers", "frobnicate"],
        vec!["groups", "create", "--name", "X", "--allow", "reports:ver"],
        vec!["audit", "list", "--since", "ayer"],
        vec!["audit", "list", "--action", "NOPE"],
        vec!["login", "--username", "superadmin", "--password", "x"],
        vec![
            "users",
            "create",
            "--username",
            "ana",
            "--display-name",
            "Ana",
            "--role",
            "root",
            "--password-stdin",
        ],
        // Without a terminal the password must come from --password-stdin.
        vec!["login", "--username", "superadmin"],
    ];
    for args in usage {
        let run = cli.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stdout.is_empty(), "{args:?}");
    }
    // No terminal: delete refuses without --yes, and deletes nothing.
    for args in [
        vec!["consumers", "delete", "ERP"],
        vec!["groups", "delete", "Reportes"],
        vec!["users", "delete", "superadmin"],
    ] {
        let run = cli.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    }
    assert_eq!(consumers(&cli).len(), 1, "nothing was deleted");
    let groups: Vec<PermissionGroup> = cli.run(&["groups", "list", "-o", "json"]).ok().json();
    assert_eq!(groups.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_ambiguous_names_list_what_matched() {
    let (_t, cli) = signed_in().await;
    cli.run(&["groups", "create", "--name", "Reportes", "-q"])
        .ok();
    for name in ["ERP Norte", "ERP Sur", "Bodega"] {
        cli.run(&[
            "consumers",
            "create",
            "--name",
            name,
            "--group",
            "Reportes",
            "-q",
        ])
        .ok();
    }
    let run = cli.run(&["consumers", "get", "ERP"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("no hay ningún consumidor «ERP»"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("ERP Norte") && run.stderr.contains("ERP Sur"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("Bodega"));
    // A consumer named like another's Clave: which one is meant is ambiguous.
    let bodega: Consumer = cli
        .run(&["consumers", "get", "Bodega", "-o", "json"])
        .ok()
        .json();
    cli.run(&[
        "consumers",
        "create",
        "--name",
        &bodega.client_id,
        "--group",
        "Reportes",
        "-q",
    ])
    .ok();
    let run = cli.run(&["consumers", "get", &bodega.client_id]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("nombra a 2 consumidores"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&bodega.id.to_string()),
        "{}",
        run.stderr
    );
    let by_id = cli
        .run(&["consumers", "get", &bodega.id.to_string(), "-q"])
        .ok();
    assert_eq!(by_id.lines(), vec![bodega.id.to_string()]);
    let run = cli.run(&["users", "get", "nadie"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("no hay ningún usuario «nadie»"),
        "{}",
        run.stderr
    );
}

/// A server that signs anyone in and serves a consumer list of two pages; with `broken`
/// it closes the connection instead of answering the second page.
fn paged_server(broken: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let consumer = |n: u32| Consumer {
        id: uuid::Uuid::now_v7(),
        name: format!("Consumidor {n}"),
        description: String::new(),
        grant_type: GrantType::ClientCredentials,
        permission_group_id: uuid::Uuid::now_v7(),
        permission_group_name: "Reportes".into(),
        hub_enabled: false,
        enabled: true,
        token_format: TokenFormat::Opaque,
        access_token_alg: Default::default(),
        redirect_uris: vec![],
        client_id: format!("clave{n}"),
        auth_method: Default::default(),
        jwks: None,
        jwks_uri: None,
        require_dpop: false,
        origin: Default::default(),
        approval: Default::default(),
        secret_last_four: "abcd".into(),
        created_at: chrono::Utc::now(),
        created_by: "superadmin".into(),
        updated_at: chrono::Utc::now(),
        version: 1,
    };
    let first = serde_json::json!({"items": [consumer(1)], "next_cursor": "pagina-2", "total": 2});
    let second = serde_json::json!({"items": [consumer(2)], "next_cursor": null, "total": 2});
    let login = serde_json::json!({
        "token": "consola_st_de_prueba",
        "expires_at": chrono::Utc::now() + chrono::Duration::hours(1),
        "user": {"id": uuid::Uuid::now_v7(), "username": "superadmin", "display_name": "S", "role": "super_admin"},
    });
    std::thread::spawn(move || {
        // Bounded: the test makes a login and two list runs of two pages at most.
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let mut length = 0usize;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
                if let Some(value) = header.to_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            let _ = std::io::Read::read_exact(&mut reader, &mut body);
            let answer = if request_line.starts_with("POST /api/v1/session") {
                login.to_string()
            } else if request_line.contains("cursor=pagina-2") {
                if broken {
                    // Half a page, then the connection breaks.
                    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"items\": [");
                    continue;
                }
                second.to_string()
            } else {
                first.to_string()
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    url
}

#[test]
fn a_list_pages_to_the_end_and_fails_on_a_broken_connection() {
    let whole = Cli::server(&paged_server(false));
    whole.login("superadmin", "cualquiera").ok();
    let listed: Vec<Consumer> = whole.run(&["consumers", "list", "-o", "json"]).ok().json();
    assert_eq!(
        listed.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["Consumidor 1", "Consumidor 2"],
        "every page"
    );

    let broken = Cli::server(&paged_server(true));
    broken.login("superadmin", "cualquiera").ok();
    for format in ["table", "json", "yaml"] {
        let run = broken.run(&["consumers", "list", "-o", format]);
        assert_eq!(run.code, 1, "{format}: {run:?}");
        assert!(run.stdout.is_empty(), "no partial list: {}", run.stdout);
        assert!(run.stderr.starts_with("consola: "), "{}", run.stderr);
    }
}
