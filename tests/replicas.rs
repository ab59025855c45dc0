//! Three `consola serve` processes over one PostgreSQL database, each on its own loopback
//! port and data directory, with the same `--public-url` (DESIGN §6 "Replicas"): what one
//! replica changes is in force on the others within a second, grants and limits hold across
//! them, and a replica killed or a database restarted loses nothing.
//!
//! They need a PostgreSQL server: `CONSOLA_TEST_POSTGRES=postgres://…` (`.ci/run` starts
//! one and sets it for its second `cargo test`). Without it they say so and stop; the
//! variable set, they always run.

mod binary;
mod common;
mod key_support;
mod oauth_support;

use binary::{consola, served_url};
use common::hop::Hop;
use common::*;
use consola::client::Client;
use consola::domain::oauth::pkce_s256;
use consola::domain::secret::SecretText;
use consola::domain::*;
use oauth_support::raw;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// The bound DESIGN §6 sets on propagation.
const WITHIN: Duration = Duration::from_secs(1);
const CALLBACK: &str = "http://127.0.0.1:9/callback";
/// What the load balancer in front would be: the issuer of every replica.
const PUBLIC_URL: &str = "http://consola.replicas.test";

struct Replica {
    child: Child,
    url: String,
    anon: Client,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The replicas, the database they share, and the Súper Administrador's session (valid on
/// every replica: sessions live in the database).
struct Cluster {
    dir: tempfile::TempDir,
    database: String,
    replicas: Vec<Replica>,
    admin_token: SecretText,
}

impl Cluster {
    async fn start(n: usize) -> Option<Cluster> {
        database::postgres_or_say_so()?;
        let dir = tempfile::tempdir().unwrap();
        let database = database::url_for(&dir.path().join("db")).unwrap();
        Some(Cluster::start_over(dir, database, n).await)
    }

    async fn start_over(dir: tempfile::TempDir, database: String, n: usize) -> Cluster {
        let secret = dir.path().join("system-secret");
        std::fs::write(
            &secret,
            "un secreto del sistema de más de treinta y dos bytes\n",
        )
        .unwrap();
        let mut cluster = Cluster {
            dir,
            database,
            replicas: Vec::new(),
            admin_token: SecretText::from(String::new()),
        };
        for i in 0..n {
            let replica = cluster.spawn(i, &cluster.database.clone());
            cluster.replicas.push(replica);
        }
        let a = &cluster.replicas[0].anon;
        a.setup(
            &SetupRequest {
                account_name: "Planta Norte".into(),
                username: "superadmin".into(),
                display_name: "Sara".into(),
                password: PASSWORD.into(),
            },
            None,
        )
        .await
        .expect("setup");
        cluster.admin_token = a.login("superadmin", PASSWORD).await.unwrap().token;
        cluster
    }

    fn data_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("replica-{i}"))
    }

    /// Starts replica `i` over `database` (the shared one, or a hop before it).
    fn spawn(&self, i: usize, database: &str) -> Replica {
        let mut child = serve(
            &self.data_dir(i),
            database,
            &self.dir.path().join("system-secret"),
        );
        let url = served_url(&mut child);
        Replica {
            anon: Client::new(&url).unwrap(),
            url,
            child,
        }
    }

    fn anon(&self, i: usize) -> &Client {
        &self.replicas[i].anon
    }

    fn admin(&self, i: usize) -> Client {
        self.anon(i).with_token(self.admin_token.clone())
    }

    async fn consumer(
        &self,
        name: &str,
        grant_type: GrantType,
    ) -> (PermissionGroup, CreatedConsumer) {
        let admin = self.admin(0);
        let group = admin
            .create_permission_group(&NewPermissionGroup {
                name: format!("Grupo {name}"),
                description: String::new(),
                read_only: false,
                permissions: vec![
                    ModulePermission {
                        module: "reports".into(),
                        actions: vec![Action::View],
                    },
                    ModulePermission {
                        module: "assets".into(),
                        actions: vec![Action::View],
                    },
                ],
            })
            .await
            .unwrap();
        let mut new = new_consumer(name, group.id);
        new.grant_type = grant_type;
        if grant_type == GrantType::AuthorizationCode {
            new.redirect_uris = vec![CALLBACK.into()];
        }
        (group, admin.create_consumer(&new).await.unwrap())
    }

    async fn token(&self, i: usize, c: &CreatedConsumer) -> SecretText {
        self.anon(i)
            .token_client_credentials(
                &c.consumer.client_id,
                c.client_secret.as_ref().expect("a secret"),
                None,
            )
            .await
            .expect("token")
            .access_token
    }
}

fn serve(data: &Path, database: &str, secret: &Path) -> Child {
    consola()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            PUBLIC_URL,
        ])
        .arg("--data-dir")
        .arg(data)
        .args(["--database", database])
        .arg("--system-secret-file")
        .arg(secret)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Whether replica's protected endpoint takes the token for `reports`.
async fn accepted(replica: &Client, token: &SecretText) -> bool {
    replica.module_access(token, "reports").await.is_ok()
}

/// How long until `check` holds; fails the test past `limit`.
async fn until<F, Fut>(what: &str, limit: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Until every replica but `origin` holds `check`, within [`WITHIN`] of the change.
async fn everywhere_else<F, Fut>(cluster: &Cluster, origin: usize, what: &str, check: F)
where
    F: Fn(Client) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for i in (0..cluster.replicas.len()).filter(|i| *i != origin) {
        let replica = cluster.anon(i).clone();
        until(&format!("{what} on replica {i}"), WITHIN, || {
            check(replica.clone())
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_replica_is_in_force_on_every_replica_within_a_second() {
    let Some(cluster) = Cluster::start(3).await else {
        return;
    };
    let (group, erp) = cluster.consumer("ERP", GrantType::ClientCredentials).await;
    let (a, b) = (cluster.admin(0), cluster.admin(1));

    // Revoke on A: B and C refuse the token.
    let token = cluster.token(0, &erp).await;
    for i in 0..3 {
        assert!(
            accepted(cluster.anon(i), &token).await,
            "replica {i} takes it first"
        );
    }
    cluster
        .anon(0)
        .revoke(
            token.expose(),
            Some((
                &erp.consumer.client_id,
                erp.client_secret.as_ref().expect("a secret"),
            )),
        )
        .await
        .unwrap();
    everywhere_else(&cluster, 0, "a revoked token is refused", |r| {
        let token = token.clone();
        async move { !accepted(&r, &token).await }
    })
    .await;

    // Disable on B: A and C refuse its tokens and issue none.
    let token = cluster.token(2, &erp).await;
    let version = b.consumer(erp.consumer.id).await.unwrap().version;
    let patch = ConsumerPatch {
        enabled: Some(false),
        ..Default::default()
    };
    b.update_consumer(erp.consumer.id, &patch, Some(version))
        .await
        .unwrap();
    everywhere_else(&cluster, 1, "a disabled consumer's token is refused", |r| {
        let token = token.clone();
        async move { !accepted(&r, &token).await }
    })
    .await;
    for i in [0, 2] {
        let refused = cluster
            .anon(i)
            .token_client_credentials(
                &erp.consumer.client_id,
                erp.client_secret.as_ref().expect("a secret"),
                None,
            )
            .await;
        assert!(
            refused.is_err(),
            "replica {i} issues no token to a disabled consumer"
        );
    }
    let enable = ConsumerPatch {
        enabled: Some(true),
        ..Default::default()
    };
    b.update_consumer(erp.consumer.id, &enable, None)
        .await
        .unwrap();

    // A secret rotated on C without grace: A and B refuse the old secret at once.
    let old = erp.client_secret.clone().expect("a secret");
    let rotated = cluster
        .admin(2)
        .rotate_secret(
            erp.consumer.id,
            &RotateSecret {
                grace_seconds: 0,
                revoke_tokens: false,
            },
        )
        .await
        .unwrap();
    everywhere_else(&cluster, 2, "the old secret is refused", |r| {
        let (id, old) = (erp.consumer.client_id.clone(), old.clone());
        async move { r.token_client_credentials(&id, &old, None).await.is_err() }
    })
    .await;
    let fresh = CreatedConsumer {
        client_secret: Some(rotated.client_secret.clone()),
        ..erp.clone()
    };
    for i in 0..3 {
        cluster.token(i, &fresh).await;
    }

    // The group loses `reports` on A: B and C grant it no more.
    let token = cluster.token(1, &fresh).await;
    a.update_permission_group(
        group.id,
        &PermissionGroupPatch {
            permissions: Some(vec![ModulePermission {
                module: "assets".into(),
                actions: vec![Action::View],
            }]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    everywhere_else(
        &cluster,
        0,
        "a scope taken from the group is refused",
        |r| {
            let token = token.clone();
            async move { !accepted(&r, &token).await }
        },
    )
    .await;
    let scopes = cluster
        .anon(2)
        .token_client_credentials(
            &fresh.consumer.client_id,
            fresh.client_secret.as_ref().expect("a secret"),
            None,
        )
        .await
        .unwrap()
        .scope;
    assert!(!scopes.contains("reports"), "{scopes}");

    // Deleted on B: A and C refuse its tokens.
    let (_, wms) = cluster.consumer("WMS", GrantType::ClientCredentials).await;
    let token = cluster.token(0, &wms).await;
    b.delete_consumer(wms.consumer.id).await.unwrap();
    everywhere_else(&cluster, 1, "a deleted consumer's token is refused", |r| {
        let token = token.clone();
        async move { r.module_access(&token, "reports").await.is_err() }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signing_key_rotated_on_one_replica_signs_and_verifies_on_all() {
    let Some(cluster) = Cluster::start(3).await else {
        return;
    };
    let (group, _) = cluster.consumer("Base", GrantType::ClientCredentials).await;
    let mut new = new_consumer("Portal JWT", group.id);
    new.token_format = TokenFormat::Jwt;
    let jwt = cluster.admin(0).create_consumer(&new).await.unwrap();
    let before = cluster.token(1, &jwt).await;

    let rotated = cluster.admin(0).rotate_signing_key().await.unwrap();
    let current = rotated
        .iter()
        .find(|k| k.current && k.alg == AccessTokenAlg::EdDSA)
        .expect("a current EdDSA key")
        .kid
        .clone();
    everywhere_else(&cluster, 0, "the new key is in the JWKS", |r| {
        let current = current.clone();
        async move {
            r.jwks()
                .await
                .is_ok_and(|jwks| jwks.keys.iter().any(|k| k.kid == current))
        }
    })
    .await;
    for i in 0..3 {
        let token = cluster.token(i, &jwt).await;
        assert_eq!(
            kid_of(&token),
            current,
            "replica {i} signs with the new key"
        );
        for j in 0..3 {
            assert!(
                accepted(cluster.anon(j), &token).await,
                "{i}'s token on {j}"
            );
            assert!(
                accepted(cluster.anon(j), &before).await,
                "older token on {j}"
            );
        }
    }
}

fn kid_of(token: &SecretText) -> String {
    use base64::Engine;
    let header = token.expose().split('.').next().unwrap();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
    header["kid"].as_str().unwrap().to_string()
}

/// Logs in on `replica` and consents: the code from the redirect.
async fn code_on(replica: &Replica, app: &CreatedConsumer, challenge: &str) -> String {
    let form = [
        ("response_type", "code"),
        ("client_id", app.consumer.client_id.as_str()),
        ("redirect_uri", CALLBACK),
        ("state", "xyz"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("username", "superadmin"),
        ("password", PASSWORD),
        ("decision", "approve"),
    ];
    let answer = raw()
        .post(format!("{}/oauth/authorize", replica.url))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let location = url::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    let query: HashMap<String, String> = location.query_pairs().into_owned().collect();
    query["code"].clone()
}

/// `POST /oauth/token` on `replica` as `app`: the status and the body.
async fn grant(
    replica: &Replica,
    app: &CreatedConsumer,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let response = raw()
        .post(format!("{}/oauth/token", replica.url))
        .header(
            "authorization",
            Client::basic_header(
                &app.consumer.client_id,
                app.client_secret.as_ref().expect("a secret"),
            ),
        )
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_started_on_one_replica_goes_on_and_ends_on_the_others() {
    let Some(cluster) = Cluster::start(3).await else {
        return;
    };
    let (_, app) = cluster
        .consumer("Portal", GrantType::AuthorizationCode)
        .await;
    let verifier = format!("v{}", consola::domain::secret::generate_client_id()).repeat(2);
    let code = code_on(&cluster.replicas[0], &app, &pkce_s256(&verifier)).await;

    // Issued on A, exchanged on B, once.
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, first) = grant(&cluster.replicas[1], &app, &exchange).await;
    assert_eq!(status, 200, "{first}");

    // Refreshed on C.
    let old_refresh = first["refresh_token"].as_str().unwrap().to_string();
    let (status, second) = grant(
        &cluster.replicas[2],
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &old_refresh),
        ],
    )
    .await;
    assert_eq!(status, 200, "{second}");
    let access = SecretText::from(second["access_token"].as_str().unwrap().to_string());
    let new_refresh = second["refresh_token"].as_str().unwrap().to_string();
    assert!(accepted(cluster.anon(0), &access).await);

    // The old refresh token again, on A: the family ends on all three.
    let (status, reused) = grant(
        &cluster.replicas[0],
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &old_refresh),
        ],
    )
    .await;
    assert_eq!(status, 400, "{reused}");
    everywhere_else(&cluster, 0, "the family's access token is refused", |r| {
        let access = access.clone();
        async move { !accepted(&r, &access).await }
    })
    .await;
    for replica in &cluster.replicas {
        let (status, body) = grant(
            replica,
            &app,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &new_refresh),
            ],
        )
        .await;
        assert_eq!(
            status, 400,
            "the family's newest refresh token is void: {body}"
        );
    }
    let (status, again) = grant(&cluster.replicas[2], &app, &exchange).await;
    assert_eq!(status, 400, "a code works once across replicas: {again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hawk_nonce_used_on_one_replica_is_refused_on_another() {
    let Some(cluster) = Cluster::start(2).await else {
        return;
    };
    let legacy = cluster.admin(0).api_key_secret().await.unwrap();
    // One timestamp for both: a replay carries the one it was signed with (the same nonce
    // with another timestamp is another request, which only the key's holder can sign).
    let ts = chrono::Utc::now().timestamp();
    let signed = |replica: &Replica| {
        let url =
            url::Url::parse(&format!("{}/api/v1/modules/reports/access", replica.url)).unwrap();
        let (_, header) = consola::domain::hawk::sign(
            &legacy.key,
            legacy.secret.expose(),
            ts,
            "nonce-compartido",
            &consola::domain::hawk::HawkRequest {
                method: "GET",
                resource: url.path(),
                host: url.host_str().unwrap(),
                port: url.port_or_known_default().unwrap(),
            },
        );
        (url, header)
    };
    let (url, header) = signed(&cluster.replicas[0]);
    let first = raw()
        .get(url)
        .header("authorization", header)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200, "{}", first.text().await.unwrap());
    // The same nonce on B (signed for B's host and port, since Hawk covers them).
    let (url, header) = signed(&cluster.replicas[1]);
    let replayed = raw()
        .get(url)
        .header("authorization", header)
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), 401);
    let body = replayed.text().await.unwrap();
    assert!(body.contains("nonce"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_assertion_used_on_one_replica_is_refused_on_another() {
    let Some(cluster) = Cluster::start(2).await else {
        return;
    };
    let key = key_support::TestKey::new("ES256", "replicas");
    let admin = cluster.admin(0);
    let group = admin
        .create_permission_group(&NewPermissionGroup {
            name: "Máquinas".into(),
            description: String::new(),
            read_only: false,
            permissions: vec![ModulePermission {
                module: "reports".into(),
                actions: vec![Action::View],
            }],
        })
        .await
        .unwrap();
    let mut new = new_consumer("Máquina", group.id);
    new.auth_method = AuthMethod::PrivateKeyJwt;
    new.jwks = Some(key_support::TestKey::jwks(&[&key]));
    let machine = admin.create_consumer(&new).await.unwrap();
    let id = machine.consumer.client_id.as_str();
    // Every replica is the same issuer: an assertion is for all of them, and once.
    let aud = format!("{PUBLIC_URL}/oauth/token");
    let post = async |replica: &Replica, assertion: &str| {
        raw()
            .post(format!("{}/oauth/token", replica.url))
            .form(&[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    consola::domain::client_keys::JWT_BEARER_ASSERTION,
                ),
                ("client_assertion", assertion),
            ])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    let assertion = key.assertion(id, &aud);
    assert_eq!(post(&cluster.replicas[0], &assertion).await, 200);
    assert_eq!(
        post(&cluster.replicas[1], &assertion).await,
        401,
        "replayed on B"
    );
    assert_eq!(
        post(&cluster.replicas[0], &assertion).await,
        401,
        "replayed on A"
    );
    assert_eq!(
        post(&cluster.replicas[1], &key.assertion(id, &aud)).await,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dpop_proof_used_on_one_replica_is_refused_on_another() {
    let Some(cluster) = Cluster::start(2).await else {
        return;
    };
    let (_, app) = cluster.consumer("DPoP", GrantType::ClientCredentials).await;
    let key = key_support::TestKey::new("EdDSA", "dpop");
    let secret = app.client_secret.as_ref().expect("a secret");
    let token_with = async |replica: &Replica, proof: &str| {
        let response = raw()
            .post(format!("{}/oauth/token", replica.url))
            .basic_auth(&app.consumer.client_id, Some(secret.expose()))
            .header("DPoP", proof)
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (
            status,
            response
                .json::<serde_json::Value>()
                .await
                .unwrap_or_default(),
        )
    };
    // Every replica is the same issuer, so the same URL in every proof.
    let token_url = format!("{PUBLIC_URL}/oauth/token");
    let proof = key.dpop_proof("POST", &token_url, None, None);
    let (status, body) = token_with(&cluster.replicas[0], &proof).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        token_with(&cluster.replicas[1], &proof).await.0,
        400,
        "replayed on B"
    );
    // The bound token is taken on B with a proof of its key, once.
    let api = format!("{PUBLIC_URL}/api/v1/modules/reports/access");
    let call = async |replica: &Replica, proof: &str| {
        raw()
            .get(format!("{}/api/v1/modules/reports/access", replica.url))
            .header("authorization", format!("DPoP {token}"))
            .header("DPoP", proof)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    let resource_proof = key.dpop_proof("GET", &api, Some(&token), None);
    assert_eq!(call(&cluster.replicas[1], &resource_proof).await, 200);
    assert_eq!(
        call(&cluster.replicas[0], &resource_proof).await,
        401,
        "replayed on A"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_count_the_attempts_made_on_every_replica() {
    let Some(cluster) = Cluster::start(3).await else {
        return;
    };
    // Five wrong passwords spread over A, B and C lock the user on all three.
    for i in [0, 1, 2, 0, 1] {
        let wrong = cluster
            .anon(i)
            .login("superadmin", "no es la contraseña")
            .await;
        assert_eq!(status_of(wrong), 401, "attempt on replica {i}");
    }
    for i in 0..3 {
        let locked = cluster.anon(i).login("superadmin", PASSWORD).await;
        assert_eq!(status_of(locked), 429, "the right password on replica {i}");
    }

    // Ten wrong secrets for one Clave over A and B block it on C too, which saw none of
    // them. The right secret still passes, as on one server: a block slows guessing, and
    // nobody guesses a 256-bit secret.
    let (_, erp) = cluster.consumer("ERP", GrantType::ClientCredentials).await;
    let wrong = SecretText::from(consola::domain::secret::generate(
        consola::domain::secret::SecretKind::ClientSecret,
    ));
    for n in 0..10 {
        let refused = cluster
            .anon(n % 2)
            .token_client_credentials(&erp.consumer.client_id, &wrong, None)
            .await;
        assert_eq!(status_of(refused), 401, "wrong secret {n}");
    }
    let blocked = cluster
        .anon(2)
        .token_client_credentials(&erp.consumer.client_id, &wrong, None)
        .await;
    assert_eq!(status_of(blocked), 429, "the eleventh, on replica 2");
    cluster.token(2, &erp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_under_writes_loses_no_acknowledged_write_and_catches_up() {
    let Some(mut cluster) = Cluster::start(3).await else {
        return;
    };
    let (group, erp) = cluster.consumer("ERP", GrantType::ClientCredentials).await;
    let token = cluster.token(0, &erp).await;

    // Writers on all three; A dies with writes in flight.
    let writers: Vec<_> = (0..3)
        .map(|i| {
            let admin = cluster.admin(i);
            let group = group.id;
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for n in 0..40 {
                    match admin
                        .create_consumer(&new_consumer(&format!("Escritor {i}-{n}"), group))
                        .await
                    {
                        Ok(created) => acknowledged.push(created.consumer.id),
                        // Only the killed replica may fail, and only from its death on.
                        Err(err) if i == 0 => {
                            assert!(err.status().is_none(), "{err}");
                            break;
                        }
                        Err(err) => panic!("replica {i}: {err}"),
                    }
                }
                acknowledged
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let _ = cluster.replicas[0].child.kill();
    let _ = cluster.replicas[0].child.wait();
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }

    // While A is down, B revokes a token; C keeps serving.
    cluster
        .anon(1)
        .revoke(
            token.expose(),
            Some((
                &erp.consumer.client_id,
                erp.client_secret.as_ref().expect("a secret"),
            )),
        )
        .await
        .unwrap();
    let c = cluster.anon(2).clone();
    until("C refuses the token B revoked", WITHIN, || {
        let (c, token) = (c.clone(), token.clone());
        async move { !accepted(&c, &token).await }
    })
    .await;

    let listed: Vec<uuid::Uuid> = cluster
        .admin(2)
        .consumers(&ConsumerQuery {
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .iter()
        .map(|c| c.id)
        .collect();
    for id in &acknowledged {
        assert!(listed.contains(id), "acknowledged consumer {id} is stored");
    }

    // A comes back and knows what happened while it was away.
    let restarted = cluster.spawn(0, &cluster.database.clone());
    cluster.replicas[0] = restarted;
    assert!(
        !accepted(cluster.anon(0), &token).await,
        "A refuses the token revoked meanwhile"
    );
    let on_a = cluster
        .admin(0)
        .consumers(&ConsumerQuery {
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(on_a.items.len(), listed.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_is_answered_503_then_every_replica_catches_up_by_itself() {
    let Some(_) = database::postgres_or_say_so() else {
        return;
    };
    // A and B reach the database through a hop the test cuts; C directly, so that changes
    // are made while A and B cannot hear of them.
    let dir = tempfile::tempdir().unwrap();
    let direct = database::url_for(&dir.path().join("db")).unwrap();
    let (hop, through) = Hop::before(&direct).await;
    let mut cluster = Cluster::start_over(dir, direct.clone(), 1).await;
    for i in 1..3 {
        let replica = cluster.spawn(i, &through);
        cluster.replicas.push(replica);
    }
    cluster.replicas.swap(0, 2); // now 0 and 1 go through the hop, 2 is direct
    let (_, erp) = cluster.consumer("ERP", GrantType::ClientCredentials).await;
    let revoked_meanwhile = cluster.token(2, &erp).await;
    let (_, wms) = cluster.consumer("WMS", GrantType::ClientCredentials).await;
    let disabled_meanwhile = cluster.token(2, &wms).await;
    for i in 0..2 {
        assert!(accepted(cluster.anon(i), &revoked_meanwhile).await);
        assert!(accepted(cluster.anon(i), &disabled_meanwhile).await);
    }

    // Under load: token requests keep going while the database is away.
    let load = {
        let (anon, erp) = (cluster.anon(0).clone(), erp.clone());
        tokio::spawn(async move {
            let mut answered = 0u32;
            for _ in 0..200 {
                if anon
                    .token_client_credentials(
                        &erp.consumer.client_id,
                        erp.client_secret.as_ref().expect("a secret"),
                        None,
                    )
                    .await
                    .is_ok()
                {
                    answered += 1;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            answered
        })
    };

    hop.cut();
    for i in 0..2 {
        let url = cluster.replicas[i].url.clone();
        until(
            &format!("replica {i} not ready"),
            Duration::from_secs(10),
            || {
                let url = url.clone();
                async move { readyz(&url).await == 503 }
            },
        )
        .await;
    }
    cluster
        .anon(2)
        .revoke(
            revoked_meanwhile.expose(),
            Some((
                &erp.consumer.client_id,
                erp.client_secret.as_ref().expect("a secret"),
            )),
        )
        .await
        .unwrap();
    let c = cluster.admin(2);
    c.update_consumer(
        wms.consumer.id,
        &ConsumerPatch {
            enabled: Some(false),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();

    hop.restore();
    for i in 0..2 {
        let url = cluster.replicas[i].url.clone();
        until(
            &format!("replica {i} ready again"),
            Duration::from_secs(15),
            || {
                let url = url.clone();
                async move { readyz(&url).await == 200 }
            },
        )
        .await;
        let replica = cluster.anon(i).clone();
        until(
            &format!("replica {i} refuses what changed while it was away"),
            Duration::from_secs(5),
            || {
                let (replica, a, b) = (
                    replica.clone(),
                    revoked_meanwhile.clone(),
                    disabled_meanwhile.clone(),
                );
                async move { !accepted(&replica, &a).await && !accepted(&replica, &b).await }
            },
        )
        .await;
    }
    assert!(load.await.unwrap() > 0, "tokens were issued under the load");
}

#[test]
fn a_replica_without_a_public_url_warns_that_the_others_will_refuse_its_tokens() {
    let Some(_) = database::postgres_or_say_so() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let database = database::url_for(&dir.path().join("db")).unwrap();
    let secret = dir.path().join("system-secret");
    std::fs::write(
        &secret,
        "un secreto del sistema de más de treinta y dos bytes\n",
    )
    .unwrap();
    for (i, public_url) in [None, Some(PUBLIC_URL)].into_iter().enumerate() {
        let mut command = consola();
        command.args(["serve", "--listen", "127.0.0.1:0", "--database", &database]);
        if let Some(url) = public_url {
            command.args(["--public-url", url]);
        }
        let mut child = command
            .arg("--data-dir")
            .arg(dir.path().join(format!("replica-{i}")))
            .arg("--system-secret-file")
            .arg(&secret)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        served_url(&mut child);
        let _ = child.kill();
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            stderr.contains("necesitan la misma --public-url"),
            public_url.is_none(),
            "with --public-url {public_url:?}:\n{stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_approved_on_one_replica_gets_tokens_on_another_within_a_second() {
    let Some(cluster) = Cluster::start(2).await else {
        return;
    };
    let admin = cluster.admin(0);
    let group = admin
        .create_permission_group(&NewPermissionGroup {
            name: "Agentes".into(),
            description: String::new(),
            read_only: false,
            permissions: vec![ModulePermission {
                module: "reports".into(),
                actions: vec![Action::View],
            }],
        })
        .await
        .unwrap();
    admin
        .set_registration_settings(&consola::domain::registration::RegistrationPatch {
            policy: RegistrationPolicy::Approval,
            group_id: Some(group.id),
        })
        .await
        .unwrap();
    // Registered on B, which then refuses it (and keeps it in its cache, pending).
    let registered: serde_json::Value = raw()
        .post(format!("{}/oauth/register", cluster.replicas[1].url))
        .json(&serde_json::json!({
            "client_name": "Robot", "grant_types": ["client_credentials"],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(registered["approval"], "pending", "{registered}");
    let (id, secret) = (
        registered["client_id"].as_str().unwrap().to_string(),
        SecretText::new(registered["client_secret"].as_str().unwrap().to_string()),
    );
    let on_b = &cluster.replicas[1].anon;
    assert!(
        on_b.token_client_credentials(&id, &secret, None)
            .await
            .is_err()
    );
    // Approved on A: in force on B within a second.
    let pending = admin.pending_consumers().await.unwrap();
    admin
        .approve_consumer(pending[0].id, group.id)
        .await
        .unwrap();
    until("the approval on B", WITHIN, || async {
        on_b.token_client_credentials(&id, &secret, None)
            .await
            .is_ok()
    })
    .await;
}
