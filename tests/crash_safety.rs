//! Crash safety: `consola serve` is killed with SIGKILL while 4 writers create consumers
//! and rotate their secrets; after a restart on the same data directory every acknowledged
//! write is there, every acknowledged secret still gets a token, and SQLite's integrity
//! check passes. Five kill points while writing, and one right after a write that failed.

mod binary;

use binary::{consola, served_url};
use consola::client::Client;
use consola::domain::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

const WRITERS: usize = 4;
const KILL_POINTS: usize = 5;
const PASSWORD: &str = "contraseña segura";

fn serve(data: &Path) -> (Child, String) {
    let mut child = consola()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let url = served_url(&mut child);
    (child, url)
}

/// What the server acknowledged, per consumer.
#[derive(Default)]
struct Acknowledged {
    client_ids: HashMap<Uuid, String>,
    secrets: HashMap<Uuid, String>,
    /// Consumers with a rotation sent but not answered when the server died: their
    /// acknowledged secret may rightly have been replaced.
    in_flight: HashSet<Uuid>,
}

async fn gets_token(http: &reqwest::Client, url: &str, client_id: &str, secret: &str) -> bool {
    http.post(format!("{url}/oauth/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .map(|r| r.status() == 200)
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut child, url) = serve(&data);
    let anonymous = Client::new(&url).unwrap();
    anonymous
        .setup(
            &SetupRequest {
                account_name: "Cuenta".into(),
                username: "superadmin".into(),
                display_name: "Súper".into(),
                password: PASSWORD.into(),
            },
            None,
        )
        .await
        .unwrap();
    let token = anonymous.login("superadmin", PASSWORD).await.unwrap().token;
    let admin = anonymous.with_token(token.clone());
    let group = admin
        .create_permission_group(&NewPermissionGroup {
            name: "Reportes".into(),
            description: String::new(),
            read_only: false,
            permissions: vec![ModulePermission {
                module: "reports".into(),
                actions: vec![Action::View],
            }],
        })
        .await
        .unwrap();
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let http = reqwest::Client::new();
    let mut url = url;
    let mut counter = 0usize;
    for point in 0..KILL_POINTS {
        let client = Client::new(&url).unwrap().with_token(token.clone());
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let client = client.clone();
            let acked = acked.clone();
            let start = counter + w * 100_000;
            writers.push(tokio::spawn(async move {
                let mut mine: Vec<Uuid> = Vec::new();
                for i in 0.. {
                    if i % 3 == 2 && !mine.is_empty() {
                        let id = mine[i % mine.len()];
                        acked.lock().unwrap().in_flight.insert(id);
                        match client.rotate_secret(id, &RotateSecret::default()).await {
                            Ok(r) => {
                                let mut a = acked.lock().unwrap();
                                a.secrets.insert(id, r.client_secret.expose().to_string());
                                a.in_flight.remove(&id);
                            }
                            Err(_) => return,
                        }
                    } else {
                        let body = NewConsumer {
                            name: format!("Crash {}", start + i),
                            description: String::new(),
                            grant_type: GrantType::ClientCredentials,
                            permission_group_id: group.id,
                            hub_enabled: false,
                            redirect_uris: vec![],
                            token_format: TokenFormat::Opaque,
                            access_token_alg: Default::default(),
                            auth_method: Default::default(),
                            jwks: None,
                            jwks_uri: None,
                            require_dpop: false,
                        };
                        match client.create_consumer(&body).await {
                            Ok(c) => {
                                let mut a = acked.lock().unwrap();
                                a.client_ids
                                    .insert(c.consumer.id, c.consumer.client_id.clone());
                                a.secrets.insert(
                                    c.consumer.id,
                                    c.client_secret
                                        .as_ref()
                                        .expect("a secret")
                                        .expose()
                                        .to_string(),
                                );
                                mine.push(c.consumer.id);
                            }
                            Err(_) => return,
                        }
                    }
                }
            }));
        }
        counter += WRITERS * 100_000 * 10;
        // Let the writers run, then kill at a different moment each time.
        tokio::time::sleep(Duration::from_millis(150 + 130 * point as u64)).await;
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        for w in writers {
            w.await.unwrap();
        }
        let (next_child, next_url) = serve(&data);
        child = next_child;
        url = next_url;
        let admin = Client::new(&url).unwrap().with_token(token.clone());
        let (ids, secrets, in_flight) = {
            let a = acked.lock().unwrap();
            (a.client_ids.clone(), a.secrets.clone(), a.in_flight.clone())
        };
        assert!(
            !ids.is_empty(),
            "the writers got acknowledgements before the kill"
        );
        for (id, client_id) in &ids {
            let c = admin.consumer(*id).await.unwrap_or_else(|e| {
                panic!("kill point {point}: acknowledged consumer {id} lost: {e}")
            });
            assert_eq!(&c.client_id, client_id);
            if !in_flight.contains(id) {
                assert!(
                    gets_token(&http, &url, client_id, &secrets[id]).await,
                    "kill point {point}: the acknowledged secret of {id} no longer works"
                );
            }
        }
        acked.lock().unwrap().in_flight.clear();
        // A secret rotated in flight is either the old or an unknown new one; forget it.
        for id in in_flight {
            acked.lock().unwrap().secrets.remove(&id);
            acked.lock().unwrap().client_ids.remove(&id);
        }
    }

    // One more kill point, right after a failed write: another process holds the write
    // lock, a creation gets 503, and the server dies at once. Nothing acknowledged is lost,
    // the refused consumer does not exist, and writes work after the restart.
    let mut holder = {
        use sqlx::Connection;
        sqlx::SqliteConnection::connect_with(
            &sqlx::sqlite::SqliteConnectOptions::new().filename(data.join("consola.db")),
        )
        .await
        .unwrap()
    };
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let admin = Client::new(&url).unwrap().with_token(token.clone());
    let refused = NewConsumer {
        name: "Tras el fallo".into(),
        description: String::new(),
        grant_type: GrantType::ClientCredentials,
        permission_group_id: group.id,
        hub_enabled: false,
        redirect_uris: vec![],
        token_format: TokenFormat::Opaque,
        access_token_alg: Default::default(),
        auth_method: Default::default(),
        jwks: None,
        jwks_uri: None,
        require_dpop: false,
    };
    let answer = admin.create_consumer(&refused).await;
    assert_eq!(
        answer.as_ref().err().and_then(|e| e.status()),
        Some(503),
        "a write while another process holds the lock"
    );
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    {
        use sqlx::Connection;
        sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
        holder.close().await.unwrap();
    }
    let (next_child, next_url) = serve(&data);
    child = next_child;
    let admin = Client::new(&next_url).unwrap().with_token(token.clone());
    let acked = acked.lock().unwrap().client_ids.clone();
    for (id, client_id) in &acked {
        let c = admin.consumer(*id).await.unwrap_or_else(|e| {
            panic!("after a failed write: acknowledged consumer {id} lost: {e}")
        });
        assert_eq!(&c.client_id, client_id);
    }
    let found = admin
        .consumers(&ConsumerQuery {
            q: Some("Tras el fallo".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.total, 0, "the refused consumer was not stored");
    admin
        .create_consumer(&refused)
        .await
        .expect("writes work after the restart");

    child.kill().unwrap();
    child.wait().unwrap();

    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(data.join("consola.db"))
        .read_only(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(check, "ok");
}
