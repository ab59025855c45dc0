//! Shared by the storage-fault suites: writes of every kind, a ledger of what the server
//! acknowledged, and the checks that find each acknowledged write again.
#![allow(dead_code)]

use crate::common::{PASSWORD, group, new_consumer};
use consola::client::{Client, ClientError};
use consola::domain::secret::{self, SecretText};
use consola::domain::*;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;
use uuid::Uuid;

/// Ballast written by a connection of the test's own, as another process would write it,
/// with no size limit of its own: it fills a database capped at `max_pages` (the store's
/// `max_page_count`, standing for a full disk) until `free` pages are left.
pub struct Ballast {
    pool: SqlitePool,
}

impl Ballast {
    pub async fn leaving(db_file: &Path, max_pages: u32, free: u32) -> Ballast {
        let options = SqliteConnectOptions::new()
            .filename(db_file)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .expect("own connection");
        sqlx::query("CREATE TABLE ballast (filler BLOB)")
            .execute(&pool)
            .await
            .unwrap();
        let pages = async || -> i64 {
            sqlx::query_scalar("PRAGMA page_count")
                .fetch_one(&pool)
                .await
                .unwrap()
        };
        while pages().await < i64::from(max_pages - free) {
            sqlx::query("INSERT INTO ballast VALUES (zeroblob(2000))")
                .execute(&pool)
                .await
                .unwrap();
        }
        Ballast { pool }
    }

    /// Drops it: the space returns.
    pub async fn remove(self) {
        sqlx::query("DROP TABLE ballast")
            .execute(&self.pool)
            .await
            .unwrap();
        self.pool.close().await;
    }
}

/// Writes sent while the fault holds.
pub const WRITES_UNDER_FAULT: usize = 50;

/// A read-only connection of the test's own, as another process would open the file.
pub async fn read_only(db_file: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(db_file)
        .read_only(true)
        .busy_timeout(Duration::from_secs(10));
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("read-only connection")
}

pub async fn readyz(url: &str) -> u16 {
    reqwest::get(format!("{url}/readyz"))
        .await
        .expect("readyz answers")
        .status()
        .as_u16()
}

/// What the server acknowledged, to be found again.
#[derive(Default)]
pub struct Ledger {
    pub consumers: HashMap<Uuid, (String, SecretText, String)>,
    pub deleted: HashSet<Uuid>,
    pub groups: HashMap<Uuid, String>,
    pub users: HashMap<Uuid, String>,
    pub sessions: Vec<SecretText>,
    pub tried: usize,
    pub acknowledged: usize,
    pub refused: usize,
}

impl Ledger {
    /// A consumer acknowledged and not deleted, to edit.
    pub fn live_consumer(&self, n: usize) -> Uuid {
        let mut ids: Vec<_> = self.consumers.keys().copied().collect();
        ids.sort();
        ids[n % ids.len()]
    }

    /// Counts an answer: an error must be a 503 that says the storage refused.
    pub fn answer<T>(&mut self, result: Result<T, ClientError>, expected_words: &str) -> Option<T> {
        self.tried += 1;
        match result {
            Ok(value) => {
                self.acknowledged += 1;
                Some(value)
            }
            Err(err) => {
                assert_eq!(err.status(), Some(503), "a write under a fault: {err}");
                let problem = err.problem().expect("a problem+json body");
                assert!(
                    problem.kind.starts_with("urn:consola:storage_"),
                    "a storage fault: {}",
                    problem.kind
                );
                let detail = problem.detail.to_lowercase();
                assert!(
                    detail.contains(expected_words),
                    "the detail says why ({expected_words}): {detail}"
                );
                self.refused += 1;
                None
            }
        }
    }
}

fn long_description(i: usize) -> String {
    format!("{i:04} {}", "x".repeat(400))
}

/// One write of each kind in turn: consumers (create, edit, rotate, delete), groups (create,
/// edit), users (create, edit) and a login.
pub async fn write(
    admin: &Client,
    anonymous: &Client,
    group_id: Uuid,
    ledger: &mut Ledger,
    i: usize,
    words: &str,
) {
    // Names unique across the whole test.
    let n = ledger.tried;
    match i % 9 {
        0 => {
            let mut new = new_consumer(&format!("Fallo {n}"), group_id);
            new.description = long_description(i);
            if let Some(created) = ledger.answer(admin.create_consumer(&new).await, words) {
                ledger.consumers.insert(
                    created.consumer.id,
                    (
                        created.consumer.client_id,
                        created.client_secret.expect("a secret"),
                        new.description,
                    ),
                );
            }
        }
        1 => {
            let id = ledger.live_consumer(i);
            let description = format!("editado {i}");
            let patch = ConsumerPatch {
                description: Some(description.clone()),
                ..Default::default()
            };
            if ledger
                .answer(admin.update_consumer(id, &patch, None).await, words)
                .is_some()
            {
                ledger.consumers.get_mut(&id).unwrap().2 = description;
            }
        }
        2 => {
            let id = ledger.live_consumer(i);
            let rotate = RotateSecret::default();
            if let Some(rotated) = ledger.answer(admin.rotate_secret(id, &rotate).await, words) {
                ledger.consumers.get_mut(&id).unwrap().1 = rotated.client_secret;
            }
        }
        3 => {
            if ledger.consumers.len() > 2 {
                let id = ledger.live_consumer(i);
                if ledger
                    .answer(admin.delete_consumer(id).await, words)
                    .is_some()
                {
                    ledger.consumers.remove(&id);
                    ledger.deleted.insert(id);
                }
            }
        }
        4 => {
            let new = NewPermissionGroup {
                name: format!("Grupo {n}"),
                description: long_description(i),
                read_only: false,
                permissions: vec![],
            };
            if let Some(created) = ledger.answer(admin.create_permission_group(&new).await, words) {
                ledger.groups.insert(created.id, new.description);
            }
        }
        5 => {
            let description = format!("grupo editado {i}");
            let patch = PermissionGroupPatch {
                description: Some(description.clone()),
                ..Default::default()
            };
            if ledger
                .answer(admin.update_permission_group(group_id, &patch).await, words)
                .is_some()
            {
                ledger.groups.insert(group_id, description);
            }
        }
        6 => {
            let new = NewUser {
                username: format!("usuario{n}"),
                display_name: format!("Usuario {n}"),
                password: PASSWORD.into(),
                role: Role::ReadOnly,
            };
            if let Some(user) = ledger.answer(admin.create_user(&new).await, words) {
                ledger.users.insert(user.id, new.display_name);
            }
        }
        7 => {
            let Some(&id) = ledger.users.keys().next() else {
                return;
            };
            let name = format!("Renombrado {i}");
            let patch = UserPatch {
                display_name: Some(name.clone()),
                ..Default::default()
            };
            if ledger
                .answer(admin.update_user(id, &patch).await, words)
                .is_some()
            {
                ledger.users.insert(id, name);
            }
        }
        _ => {
            if let Some(session) =
                ledger.answer(anonymous.login("superadmin", PASSWORD).await, words)
            {
                ledger.sessions.push(session.token);
            }
        }
    }
}

/// Every acknowledged write, as an independent read-only connection sees the file.
pub async fn assert_stored(db_file: &Path, ledger: &Ledger) {
    let db = read_only(db_file).await;
    for (id, (client_id, secret, description)) in &ledger.consumers {
        let row =
            sqlx::query("SELECT client_id, secret_digest, description FROM consumers WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(&db)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("acknowledged consumer {id} is not in the file"));
        assert_eq!(row.get::<String, _>("client_id"), *client_id);
        assert_eq!(row.get::<String, _>("description"), *description);
        assert_eq!(
            row.get::<Vec<u8>, _>("secret_digest"),
            secret::digest(secret.expose()).to_vec(),
            "the acknowledged secret of {id} is the stored one"
        );
    }
    for id in &ledger.deleted {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM consumers WHERE id = ?")
            .bind(id.to_string())
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(n, 0, "acknowledged deletion of {id}");
    }
    for (id, description) in &ledger.groups {
        let stored: String =
            sqlx::query_scalar("SELECT description FROM permission_groups WHERE id = ?")
                .bind(id.to_string())
                .fetch_one(&db)
                .await
                .unwrap_or_else(|e| panic!("acknowledged group {id}: {e}"));
        assert_eq!(stored, *description);
    }
    for (id, name) in &ledger.users {
        let stored: String = sqlx::query_scalar("SELECT display_name FROM users WHERE id = ?")
            .bind(id.to_string())
            .fetch_one(&db)
            .await
            .unwrap_or_else(|e| panic!("acknowledged user {id}: {e}"));
        assert_eq!(stored, *name);
    }
    for session in &ledger.sessions {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE digest = ?")
            .bind(secret::digest(session.expose()).to_vec())
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(n, 1, "an acknowledged login's session is stored");
    }
    db.close().await;
}

/// Every acknowledged write, through the API of a restarted server: consumers get tokens with
/// their acknowledged secret, and sessions still sign in.
pub async fn assert_served(url: &str, ledger: &Ledger) {
    let anonymous = Client::new(url).unwrap();
    for (id, (client_id, secret, _)) in &ledger.consumers {
        anonymous
            .token_client_credentials(client_id, secret, None)
            .await
            .unwrap_or_else(|e| panic!("acknowledged consumer {id} gets no token: {e}"));
    }
    for session in &ledger.sessions {
        anonymous
            .with_token(session.clone())
            .me()
            .await
            .expect("an acknowledged session works after a restart");
    }
}

pub async fn signed_in(url: &str) -> (Client, Client, Uuid) {
    let anonymous = Client::new(url).unwrap();
    if anonymous.setup_status().await.unwrap().needed {
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
    }
    let token = anonymous.login("superadmin", PASSWORD).await.unwrap().token;
    let admin = anonymous.with_token(token);
    let group = group(&admin, "Reportes", "reports").await;
    (anonymous, admin, group.id)
}
