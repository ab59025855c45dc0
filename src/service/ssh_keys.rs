//! Users' SSH keys, and signing in with one (DESIGN §7). A user keeps their own keys; the
//! Súper Administrador lists and removes anyone's.

use super::*;
use crate::domain::ssh_key::{self, NewSshKey, SshKey};
use crate::store::SshKeyRecord;
use uuid::Uuid;

/// Who an SSH connection signed in as, and with which key.
#[derive(Debug)]
pub struct SshLogin {
    pub login: LoginResponse,
    pub key_id: Uuid,
    pub key_name: String,
}

impl Service {
    pub async fn my_ssh_keys(&self, caller: &Caller) -> ServiceResult<Vec<SshKey>> {
        let me = self.user(caller)?;
        self.keys_of(me.id).await
    }

    pub async fn add_my_ssh_key(&self, caller: &Caller, new: NewSshKey) -> ServiceResult<SshKey> {
        let me = self.user(caller)?;
        let valid = ssh_key::validate(&new).map_err(ServiceError::Validation)?;
        let record = SshKeyRecord {
            key: SshKey {
                id: new_id(),
                name: valid.name,
                fingerprint: valid.fingerprint,
                created_at: self.now(),
            },
            user_id: me.id,
            public_key: valid.public_key,
        };
        let event = self.audit(
            caller,
            AuditAction::Add,
            modules::SSH_KEYS,
            &me.username,
            format!(
                "Clave SSH «{}» añadida ({})",
                record.key.name, record.key.fingerprint
            ),
        );
        match self.store.insert_ssh_key(&record, &event).await {
            Err(StoreError::Duplicate(_)) => Err(ServiceError::Conflict {
                code: "ssh_key_taken",
                detail: "Esa clave SSH ya está registrada".into(),
                errors: FieldErrors::single("public_key", "Esa clave ya está registrada"),
            }),
            other => other.map(|()| record.key).map_err(Into::into),
        }
    }

    pub async fn delete_my_ssh_key(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        let me = self.user(caller)?;
        let username = me.username.clone();
        self.remove_key(caller, me.id, &username, id).await
    }

    /// Any user's keys: the Súper Administrador's view.
    pub async fn user_ssh_keys(
        &self,
        caller: &Caller,
        user_id: Uuid,
    ) -> ServiceResult<Vec<SshKey>> {
        self.super_admin(caller)?;
        self.store.user(user_id).await?;
        self.keys_of(user_id).await
    }

    pub async fn delete_user_ssh_key(
        &self,
        caller: &Caller,
        user_id: Uuid,
        id: Uuid,
    ) -> ServiceResult<()> {
        self.super_admin(caller)?;
        let user = self.store.user(user_id).await?.user;
        self.remove_key(caller, user_id, &user.username, id).await
    }

    async fn keys_of(&self, user_id: Uuid) -> ServiceResult<Vec<SshKey>> {
        Ok(self
            .store
            .ssh_keys_of(user_id)
            .await?
            .into_iter()
            .map(|r| r.key)
            .collect())
    }

    async fn remove_key(
        &self,
        caller: &Caller,
        user_id: Uuid,
        username: &str,
        id: Uuid,
    ) -> ServiceResult<()> {
        let keys = self.store.ssh_keys_of(user_id).await?;
        let key = keys
            .iter()
            .find(|k| k.key.id == id)
            .ok_or(ServiceError::NotFound)?;
        let event = self.audit(
            caller,
            AuditAction::Delete,
            modules::SSH_KEYS,
            username,
            format!(
                "Clave SSH «{}» eliminada ({})",
                key.key.name, key.key.fingerprint
            ),
        );
        self.store.delete_ssh_key(user_id, id, &event).await?;
        self.access_ended.send_replace(());
        Ok(())
    }

    /// Signs in the enabled user who holds the key with this fingerprint: a console
    /// session, audited as LOGIN with the fingerprint and the client's address. `None`
    /// for a key nobody holds, or whose user is disabled. Only call this for a key whose
    /// possession the client has proven (a verified signature).
    pub async fn ssh_login(
        &self,
        caller: &Caller,
        fingerprint: &str,
    ) -> ServiceResult<Option<SshLogin>> {
        let (key, record) = match self.store.ssh_key_by_fingerprint(fingerprint).await {
            Ok(found) => found,
            Err(StoreError::NotFound) => return Ok(None),
            Err(other) => return Err(other.into()),
        };
        if record.user.disabled {
            return Ok(None);
        }
        let user = record.user;
        let detail = format!(
            "Inicio de sesión por SSH con la clave «{}» ({})",
            key.key.name, key.key.fingerprint
        );
        let login = self.open_session(caller, &user, detail).await?;
        Ok(Some(SshLogin {
            login,
            key_id: key.key.id,
            key_name: key.key.name,
        }))
    }

    /// Whether a key is worth a signature: somebody enabled holds it. Signs nobody in.
    pub async fn ssh_key_usable(&self, fingerprint: &str) -> ServiceResult<bool> {
        match self.store.ssh_key_by_fingerprint(fingerprint).await {
            Ok((_, record)) => Ok(!record.user.disabled),
            Err(StoreError::NotFound) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// Changes each time access ends here (a user disabled or removed, a key removed):
    /// the moment to ask [`Service::ssh_session_allowed`] again. Other replicas' changes
    /// do not mark it; only asking again finds those.
    pub fn access_ended(&self) -> tokio::sync::watch::Receiver<()> {
        self.access_ended.subscribe()
    }

    /// Whether an SSH session may go on: its user is still enabled and, when it signed
    /// in with a key, that key is still theirs.
    pub async fn ssh_session_allowed(
        &self,
        user_id: Uuid,
        key_id: Option<Uuid>,
    ) -> ServiceResult<bool> {
        let holder = match key_id {
            Some(key_id) => self.store.ssh_key_holder(key_id).await,
            None => self.store.user(user_id).await,
        };
        match holder {
            Ok(record) => Ok(record.user.id == user_id && !record.user.disabled),
            Err(StoreError::NotFound) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }
}
