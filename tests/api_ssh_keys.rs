//! Users' SSH keys through the HTTP API: each user keeps their own, the Súper
//! Administrador lists and removes anyone's, and every change is audited.

mod common;

use common::*;
use consola::domain::ssh_key::NewSshKey;
use consola::domain::*;
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::ssh_key::{HashAlg, PrivateKey};

/// A key made now: its OpenSSH public line (with a comment) and its fingerprint.
fn key(comment: &str) -> (String, String) {
    let mut key = PrivateKey::from(Ed25519Keypair::from_seed(&rand::random()));
    key.set_comment(comment);
    let public = key.public_key();
    (
        public.to_openssh().unwrap(),
        public.fingerprint(HashAlg::Sha256).to_string(),
    )
}

fn new_key(name: &str, line: &str) -> NewSshKey {
    NewSshKey {
        name: name.into(),
        public_key: line.into(),
    }
}

#[tokio::test]
async fn a_user_adds_lists_and_removes_their_own_keys() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let reader = t.user(&sup, "lectora", Role::ReadOnly).await;
    let (line, fingerprint) = key("lectora@portatil");

    // Even a read-only user keeps their own keys.
    let added = reader
        .add_my_ssh_key(&new_key("Portátil", &format!("  {line}\n")))
        .await
        .unwrap();
    assert_eq!(added.name, "Portátil");
    assert_eq!(added.fingerprint, fingerprint);
    assert_eq!(reader.my_ssh_keys().await.unwrap(), vec![added.clone()]);
    // Nobody else sees it as theirs.
    assert!(sup.my_ssh_keys().await.unwrap().is_empty());

    // A key belongs to one user: the same key (another comment) is refused for anyone.
    let again = line.replace("lectora@portatil", "otra");
    let err = sup
        .add_my_ssh_key(&new_key("Mía", &again))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert!(err.field_errors().get("public_key").is_some());

    // Someone else's key id is not found for me.
    let err = sup.delete_my_ssh_key(added.id).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    reader.delete_my_ssh_key(added.id).await.unwrap();
    assert!(reader.my_ssh_keys().await.unwrap().is_empty());
    let err = reader.delete_my_ssh_key(added.id).await.unwrap_err();
    assert_eq!(err.status(), Some(404));

    let log = sup
        .audit(&AuditQuery {
            limit: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    let ssh: Vec<_> = log
        .items
        .iter()
        .filter(|e| e.module == modules::SSH_KEYS)
        .collect();
    assert_eq!(ssh.len(), 2, "{ssh:?}");
    assert!(ssh.iter().any(|e| e.action == AuditAction::Add
        && e.description.contains(&fingerprint)
        && e.actor.name == "lectora"));
    assert!(
        ssh.iter()
            .any(|e| e.action == AuditAction::Delete && e.description.contains("Portátil"))
    );
    // The key line itself is never written to the log.
    let key_body = line.split_whitespace().nth(1).unwrap();
    assert!(log.items.iter().all(|e| !e.description.contains(key_body)));
}

#[tokio::test]
async fn bad_keys_name_the_field_and_nothing_is_stored() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let (line, _) = key("x");
    for (name, text, field) in [
        ("", line.as_str(), "name"),
        ("k", "", "public_key"),
        ("k", "ssh-ed25519 AAAA", "public_key"),
        ("k", "-----BEGIN OPENSSH PRIVATE KEY-----", "public_key"),
        ("k", &format!("{line}\n{line}"), "public_key"),
        ("k", "ssh-dss AAAAB3NzaC1kc3MAAACBAP", "public_key"),
    ] {
        let err = sup.add_my_ssh_key(&new_key(name, text)).await.unwrap_err();
        assert_eq!(err.status(), Some(422), "{text:?}");
        assert!(err.field_errors().get(field).is_some(), "{text:?}: {err:?}");
    }
    assert!(sup.my_ssh_keys().await.unwrap().is_empty());
    // Without a session, nothing at all.
    let err = t.anonymous.my_ssh_keys().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    let err = t
        .anonymous
        .add_my_ssh_key(&new_key("k", &line))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
}

#[tokio::test]
async fn the_super_admin_lists_and_removes_anyones_keys_and_nobody_else_does() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let admin = t.user(&sup, "admin", Role::Admin).await;
    let (line, _) = key("admin");
    let added = admin
        .add_my_ssh_key(&new_key("Trabajo", &line))
        .await
        .unwrap();
    let admin_id = admin.me().await.unwrap().id;

    assert_eq!(
        sup.user_ssh_keys(admin_id).await.unwrap(),
        vec![added.clone()]
    );
    // An Administrador manages consumers, not other people's keys.
    let err = admin.user_ssh_keys(admin_id).await.unwrap_err();
    assert_eq!(err.status(), Some(403));
    let err = admin
        .delete_user_ssh_key(admin_id, added.id)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    // An id that is no user's, or a key that is not that user's: not found.
    let err = sup.user_ssh_keys(uuid::Uuid::now_v7()).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    let sup_id = sup.me().await.unwrap().id;
    let err = sup.delete_user_ssh_key(sup_id, added.id).await.unwrap_err();
    assert_eq!(err.status(), Some(404));

    sup.delete_user_ssh_key(admin_id, added.id).await.unwrap();
    assert!(admin.my_ssh_keys().await.unwrap().is_empty());
    let log = sup
        .audit(&AuditQuery {
            action: Some(AuditAction::Delete),
            ..Default::default()
        })
        .await
        .unwrap();
    let entry = log
        .items
        .iter()
        .find(|e| e.module == modules::SSH_KEYS)
        .expect("audited");
    assert_eq!(entry.actor.name, "superadmin");
    assert_eq!(entry.target, "admin");
}

#[tokio::test]
async fn a_users_keys_go_with_the_user() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let admin = t.user(&sup, "temporal", Role::Admin).await;
    let (line, _) = key("temporal");
    admin.add_my_ssh_key(&new_key("k", &line)).await.unwrap();
    let id = admin.me().await.unwrap().id;
    sup.delete_user(id).await.unwrap();
    // The key is free again: another user may register it.
    sup.add_my_ssh_key(&new_key("k", &line)).await.unwrap();
}

#[tokio::test]
async fn the_openapi_document_lists_the_ssh_key_routes() {
    let t = TestServer::start().await;
    let doc = t.anonymous.openapi().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/me/ssh-keys",
        "/api/v1/me/ssh-keys/{id}",
        "/api/v1/users/{id}/ssh-keys",
        "/api/v1/users/{id}/ssh-keys/{key_id}",
    ] {
        assert!(paths.contains_key(path), "{path}");
    }
}
