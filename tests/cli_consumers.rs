//! `consola consumers …` run as a process against a real server on 127.0.0.1:0: every verb
//! in the three output formats, the JSON and YAML read back into the API's types, and the
//! seed flow of the README (a group, a consumer in it, its secret into a token).

mod binary;
mod cli_support;
mod common;

use cli_support::{signed_in, three};
use consola::domain::secret::SecretText;
use consola::domain::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_consumer_verb_in_every_format() {
    let (t, cli) = signed_in().await;
    let group: PermissionGroup = cli
        .run(&[
            "groups",
            "create",
            "--name",
            "Reportes",
            "--allow",
            "reports:view,report",
            "-o",
            "json",
        ])
        .ok()
        .json();

    // create, in the three formats: the secret once, the warning only in table mode.
    let created = cli
        .run(&[
            "consumers",
            "create",
            "--name",
            "ERP",
            "--group",
            "Reportes",
            "-o",
            "json",
        ])
        .ok();
    assert!(
        !created.stderr.contains("no se volverá a mostrar"),
        "{}",
        created.stderr
    );
    let erp: CreatedConsumer = created.json();
    assert_eq!(erp.consumer.permission_group_id, group.id);
    assert_eq!(erp.consumer.grant_type, GrantType::ClientCredentials);
    assert!(
        erp.client_secret
            .as_ref()
            .expect("a secret")
            .expose()
            .starts_with("consola_cs_")
    );

    let table = cli
        .run(&[
            "consumers",
            "create",
            "--name",
            "WMS",
            "--group",
            &group.id.to_string(),
        ])
        .ok();
    assert!(table.stdout.contains("Secreto"), "{}", table.stdout);
    assert!(
        table.stdout.contains("consola_cs_"),
        "the secret is printed once"
    );
    assert!(
        table.stderr.contains("no se volverá a mostrar"),
        "{}",
        table.stderr
    );
    assert!(!table.stderr.contains("consola_cs_"), "no secret on stderr");

    let portal: CreatedConsumer = cli
        .run(&[
            "consumers",
            "create",
            "--name",
            "Portal",
            "--group",
            "Reportes",
            "--type",
            "authorization_code",
            "--redirect-uri",
            "https://portal.example.com/cb",
            "--description",
            "Portal de clientes",
            "--hub",
            "--token-format",
            "jwt",
            "-o",
            "yaml",
        ])
        .ok()
        .yaml();
    assert_eq!(portal.consumer.grant_type, GrantType::AuthorizationCode);
    assert_eq!(
        portal.consumer.redirect_uris,
        vec!["https://portal.example.com/cb"]
    );
    assert!(portal.consumer.hub_enabled);
    assert_eq!(portal.consumer.token_format, TokenFormat::Jwt);
    assert_eq!(portal.consumer.description, "Portal de clientes");

    // list, get: by name, by Clave and by id, all the same consumer.
    let all: Vec<Consumer> = three(
        &cli,
        &["consumers", "list"],
        &[
            "Nombre",
            "Clave",
            "Tipo",
            "Grupo de permisos",
            "Fecha de creación",
            "Estado",
        ],
    );
    assert_eq!(all.len(), 3);
    let ids = cli.run(&["consumers", "list", "-q"]).ok();
    assert_eq!(
        ids.lines(),
        all.iter().map(|c| c.id.to_string()).collect::<Vec<_>>()
    );
    let limited: Vec<Consumer> = cli
        .run(&["consumers", "list", "--limit", "2", "-o", "json"])
        .ok()
        .json();
    assert_eq!(limited, all[..2].to_vec());
    let searched: Vec<Consumer> = cli
        .run(&["consumers", "list", "--search", "wm", "-o", "json"])
        .ok()
        .json();
    // The search matches the name (in any case) and the Clave (exactly); a random Clave
    // may contain "wm" too, so every consumer found must match one way or the other.
    let expected: Vec<&Consumer> = all
        .iter()
        .filter(|c| c.name == "WMS" || c.client_id.contains("wm"))
        .collect();
    assert_eq!(searched.iter().collect::<Vec<_>>(), expected);
    assert!(searched.iter().any(|c| c.name == "WMS"));
    for name in [
        "ERP",
        erp.consumer.client_id.as_str(),
        &erp.consumer.id.to_string(),
    ] {
        let got: Consumer = three(&cli, &["consumers", "get", name], &["Campo", "Valor"]);
        assert_eq!(got, erp.consumer, "named by {name}");
    }
    let shown = cli.run(&["consumers", "get", "ERP"]).ok().stdout;
    assert!(
        !shown.contains(erp.client_secret.as_ref().expect("a secret").expose()),
        "get never shows the secret"
    );

    // update, disable, enable.
    let updated: Consumer = cli
        .run(&[
            "consumers",
            "update",
            "Portal",
            "--description",
            "Nuevo",
            "--no-hub",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(updated.description, "Nuevo");
    assert!(!updated.hub_enabled);
    let disabled: Consumer = cli
        .run(&["consumers", "disable", "ERP", "-o", "yaml"])
        .ok()
        .yaml();
    assert!(!disabled.enabled);
    let listed = cli.run(&["consumers", "list"]).ok().stdout;
    assert!(listed.contains("Inactivo"), "{listed}");
    let enabled = cli.run(&["consumers", "enable", "ERP", "-q"]).ok();
    assert_eq!(enabled.lines(), vec![erp.consumer.id.to_string()]);

    // rotate-secret: the new secret works at once, the old one through the grace.
    let rotated: RotatedSecret = cli
        .run(&[
            "consumers",
            "rotate-secret",
            "ERP",
            "--grace",
            "1h",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_ne!(Some(&rotated.client_secret), erp.client_secret.as_ref());
    assert!(rotated.previous_secret_valid_until.is_some());
    for secret in [
        &rotated.client_secret,
        erp.client_secret.as_ref().expect("a secret"),
    ] {
        t.anonymous
            .token_client_credentials(&erp.consumer.client_id, secret, None)
            .await
            .expect("a token with the new and, in grace, the old secret");
    }
    let table = cli.run(&["consumers", "rotate-secret", "ERP"]).ok();
    assert!(table.stdout.contains("consola_cs_"));
    assert!(table.stderr.contains("no se volverá a mostrar"));

    // delete, in the three shapes of its (empty) answer.
    let gone = cli.run(&["consumers", "delete", "WMS", "--yes"]).ok();
    assert!(gone.stdout.contains("eliminado"), "{}", gone.stdout);
    let gone = cli
        .run(&["consumers", "delete", "Portal", "--yes", "-q"])
        .ok();
    assert_eq!(gone.lines(), vec![portal.consumer.id.to_string()]);
    let left: Vec<Consumer> = cli.run(&["consumers", "list", "-o", "json"]).ok().json();
    assert_eq!(
        left.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["ERP"]
    );
}

/// The README's seed flow, as a script runs it: a group, a consumer in it, and its secret,
/// read from the JSON the command printed, into a token request that succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_flow_is_scriptable_end_to_end() {
    let (t, cli) = signed_in().await;
    cli.run(&[
        "groups",
        "create",
        "--name",
        "Integraciones",
        "--allow",
        "reports:view,report",
        "--allow",
        "work_orders:view",
        "-q",
    ])
    .ok();
    let printed = cli
        .run(&[
            "consumers",
            "create",
            "--name",
            "ERP",
            "--group",
            "Integraciones",
            "-o",
            "json",
        ])
        .ok();
    let document: serde_json::Value = serde_json::from_str(&printed.stdout).unwrap();
    let client_id = document["client_id"].as_str().unwrap();
    let secret = SecretText::new(document["client_secret"].as_str().unwrap().to_string());
    let token = t
        .anonymous
        .token_client_credentials(client_id, &secret, Some("work_orders:view"))
        .await
        .expect("the printed secret gets a token");
    assert_eq!(token.scope, "work_orders:view");
    let access = t
        .anonymous
        .module_access(&token.access_token, "work_orders")
        .await
        .expect("the token opens the module");
    assert_eq!(access.actions, vec![Action::View]);
}

/// The public JWK of RFC 8037 §A.2 and its RFC 7638 thumbprint (§A.3).
const ED25519_JWK: &str = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"erp-1"}"#;
const ED25519_THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_pair_consumer_is_made_shown_and_rekeyed_from_the_command_line() {
    let (_t, cli) = signed_in().await;
    cli.run(&[
        "groups",
        "create",
        "--name",
        "Máquinas",
        "--allow",
        "reports:view",
    ])
    .ok();
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, format!("{{\"keys\": [{ED25519_JWK}]}}")).unwrap();
    let jwks = jwks.to_str().unwrap();
    let create = |extra: &[&str]| {
        let mut args = vec![
            "consumers",
            "create",
            "--name",
            "ERP",
            "--group",
            "Máquinas",
        ];
        args.extend_from_slice(extra);
        cli.run(&args)
    };
    // Without its keys, with a file that is not there or not JSON: usage errors, nothing made.
    let missing = create(&["--auth", "private-key-jwt"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("--jwks"), "{}", missing.stderr);
    let absent = create(&[
        "--auth",
        "private-key-jwt",
        "--jwks",
        "/nonexistent/jwks.json",
    ]);
    assert_eq!(absent.code, 2);
    assert!(
        absent.stderr.contains("no se pudo leer"),
        "{}",
        absent.stderr
    );
    let not_json = dir.path().join("key.pem");
    std::fs::write(&not_json, "-----BEGIN PRIVATE KEY-----\n").unwrap();
    let bad = create(&[
        "--auth",
        "private-key-jwt",
        "--jwks",
        not_json.to_str().unwrap(),
    ]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("no es JSON"), "{}", bad.stderr);
    let private = dir.path().join("private.json");
    std::fs::write(
        &private,
        r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}"#,
    )
    .unwrap();
    let refused = create(&[
        "--auth",
        "private-key-jwt",
        "--jwks",
        private.to_str().unwrap(),
    ]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("jwks") && refused.stderr.contains("privada"),
        "{}",
        refused.stderr
    );
    assert!(cli.run(&["consumers", "list", "-q"]).ok().stdout.is_empty());

    // Made: no secret printed or warned of; its key shown by thumbprint.
    let made = create(&["--auth", "private-key-jwt", "--jwks", jwks]).ok();
    assert!(made.stdout.contains(ED25519_THUMBPRINT), "{}", made.stdout);
    assert!(
        made.stdout.contains("Clave privada (JWT)"),
        "{}",
        made.stdout
    );
    assert!(!made.stdout.contains("consola_cs_") && !made.stderr.contains("consola_cs_"));
    assert!(
        !made.stderr.contains("no se volverá a mostrar"),
        "{}",
        made.stderr
    );
    let shown: Consumer = cli
        .run(&["consumers", "get", "ERP", "-o", "json"])
        .ok()
        .json();
    assert_eq!(shown.auth_method, AuthMethod::PrivateKeyJwt);
    assert_eq!(shown.jwks.unwrap().keys()[0].thumbprint, ED25519_THUMBPRINT);

    // No secret to rotate; new keys through update, from standard input.
    let rotate = cli.run(&["consumers", "rotate-secret", "ERP"]);
    assert_eq!(rotate.code, 1);
    assert!(
        rotate.stderr.contains("no tiene Secreto"),
        "{}",
        rotate.stderr
    );
    let other = r#"{"kty":"EC","crv":"P-256","kid":"erp-2","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
    let both = format!("{{\"keys\": [{ED25519_JWK}, {other}]}}");
    let updated: Consumer = cli
        .run_with(
            &["consumers", "update", "ERP", "--jwks", "-", "-o", "json"],
            Some(&both),
        )
        .ok()
        .json();
    let kids: Vec<_> = updated
        .jwks
        .unwrap()
        .keys()
        .iter()
        .map(|k| k.kid.clone().unwrap_or_default())
        .collect();
    assert_eq!(kids, ["erp-1", "erp-2"]);
    // DPoP only, then bearer tokens again.
    let dpop: Consumer = cli
        .run(&["consumers", "update", "ERP", "--require-dpop", "-o", "json"])
        .ok()
        .json();
    assert!(dpop.require_dpop);
    let shown = cli.run(&["consumers", "get", "ERP"]).ok().stdout;
    assert!(
        shown.contains("Solo tokens DPoP") && shown.contains("Sí"),
        "{shown}"
    );
    let both = cli.run(&[
        "consumers",
        "update",
        "ERP",
        "--require-dpop",
        "--no-require-dpop",
    ]);
    assert_eq!(both.code, 2, "{}", both.stderr);
    let bearer: Consumer = cli
        .run(&[
            "consumers",
            "update",
            "ERP",
            "--no-require-dpop",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert!(!bearer.require_dpop);
}

/// The README's "Keys instead of secrets" example, run as written with `openssl`, `jq`,
/// `curl` and this build of `consola`: a key pair, its consumer and a token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_gets_a_token_with_openssl_and_curl() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
        .split("## Keys instead of secrets")
        .nth(1)
        .expect("the README has the section");
    let script = section
        .split("```sh\n")
        .nth(1)
        .and_then(|block| block.split("```").next())
        .expect("the section has a shell example");
    let (t, cli) = signed_in().await;
    cli.run(&[
        "groups",
        "create",
        "--name",
        "Integraciones",
        "--allow",
        "reports:view",
    ])
    .ok();
    let work = tempfile::tempdir().unwrap();
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_consola"));
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let url = t.server.url();
    let run = |script: &str| {
        tokio::task::block_in_place(|| {
            std::process::Command::new("bash")
                .args(["-c", &format!("set -euo pipefail\n{script}")])
                .current_dir(work.path())
                // Nothing of the machine user's consola settings: only what the README says.
                .env_clear()
                .env("PATH", &path)
                .env("XDG_CONFIG_HOME", env!("CARGO_TARGET_TMPDIR"))
                .env("API", &url)
                .env("CONSOLA_SERVER", &url)
                .env("XDG_STATE_HOME", cli.state.path())
                .output()
                .expect("bash runs")
        })
    };
    let out = run(script);
    assert!(
        out.status.success(),
        "the README's example failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stdout)));
    let token = answer["access_token"].as_str().expect("a token");
    let access = t
        .anonymous
        .module_access(&SecretText::from(token.to_string()), "reports")
        .await
        .expect("the token reaches reports");
    assert_eq!(access.module, "reports");
    // Run again as written, the consumer's name is taken: the key pair's part stands alone.
    assert!(!run(script).status.success());
}

/// A client registers itself under `approval`; the Súper Administrador sees it pending, lets
/// it in by name into a group, and rejects another, all from the command line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_clients_are_approved_and_rejected_from_the_command_line() {
    let (t, cli) = signed_in().await;
    cli.run(&[
        "groups",
        "create",
        "--name",
        "Agentes",
        "--allow",
        "assets:view",
        "-q",
    ])
    .ok();
    let shown = cli.run(&["consumers", "registration", "-o", "json"]).ok();
    let settings: registration::RegistrationSettings = shown.json();
    assert_eq!(settings.policy, RegistrationPolicy::Off);
    let bad = cli.run(&["consumers", "registration", "--policy", "abierto"]);
    assert_eq!(bad.code, 2, "an unknown policy is refused");
    let set = cli
        .run(&[
            "consumers",
            "registration",
            "--policy",
            "approval",
            "--group",
            "Agentes",
            "-o",
            "json",
        ])
        .ok();
    let settings: registration::RegistrationSettings = set.json();
    assert_eq!(settings.policy, RegistrationPolicy::Approval);
    assert_eq!(settings.group_name.as_deref(), Some("Agentes"));

    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for name in ["Agente uno", "Agente dos"] {
        let answer: serde_json::Value = http
            .post(format!("{}/oauth/register", t.server.url()))
            .json(&serde_json::json!({
                "client_name": name,
                "redirect_uris": ["http://127.0.0.1:9/cb"],
                "token_endpoint_auth_method": "none",
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["approval"], "pending", "{answer}");
        ids.push(answer["client_id"].as_str().unwrap().to_string());
    }
    let table = cli.run(&["consumers", "pending"]).ok();
    assert!(table.stdout.contains("Agente uno") && table.stdout.contains("Pendiente"));
    let approved = cli
        .run(&[
            "consumers",
            "approve",
            "Agente uno",
            "--group",
            "Agentes",
            "-o",
            "json",
        ])
        .ok();
    let approved: Consumer = approved.json();
    assert_eq!(approved.approval, Approval::Approved);
    assert_eq!(approved.client_id, ids[0]);
    let rejected: Consumer = cli
        .run(&["consumers", "reject", &ids[1], "-o", "json"])
        .ok()
        .json();
    assert_eq!(rejected.approval, Approval::Rejected);
    let again = cli.run(&["consumers", "approve", &ids[1], "--group", "Agentes"]);
    assert_ne!(again.code, 0);
    assert!(
        again.stderr.contains("no espera aprobación"),
        "{}",
        again.stderr
    );
    let pending: Vec<Consumer> = cli.run(&["consumers", "pending", "-o", "json"]).ok().json();
    assert!(pending.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_pair_consumer_may_name_where_its_keys_are_published() {
    let (_t, cli) = signed_in().await;
    cli.run(&[
        "groups",
        "create",
        "--name",
        "Máquinas",
        "--allow",
        "reports:view",
        "-q",
    ])
    .ok();
    let missing = cli.run(&[
        "consumers",
        "create",
        "--name",
        "Robot",
        "--group",
        "Máquinas",
        "--auth",
        "private-key-jwt",
    ]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("--jwks-uri"), "{}", missing.stderr);
    let created: CreatedConsumer = cli
        .run(&[
            "consumers",
            "create",
            "--name",
            "Robot",
            "--group",
            "Máquinas",
            "--auth",
            "private-key-jwt",
            "--jwks-uri",
            "https://keys.example/jwks.json",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert!(created.client_secret.is_none());
    assert_eq!(
        created.consumer.jwks_uri.as_deref(),
        Some("https://keys.example/jwks.json")
    );
    let shown = cli.run(&["consumers", "get", "Robot"]).ok();
    assert!(
        shown
            .stdout
            .contains("publicadas en https://keys.example/jwks.json"),
        "{}",
        shown.stdout
    );
    let bad = cli.run(&[
        "consumers",
        "update",
        "Robot",
        "--jwks-uri",
        "http://keys.example/jwks.json",
    ]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("https://"), "{}", bad.stderr);
}
