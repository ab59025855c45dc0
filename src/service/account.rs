//! The account's name and its legacy API key.

use super::*;
use crate::domain::secret::SecretText;

impl Service {
    pub async fn account(&self, caller: &Caller) -> ServiceResult<Account> {
        self.user(caller)?;
        Ok(self.store.account().await?.account)
    }

    pub async fn rename_account(
        &self,
        caller: &Caller,
        patch: AccountPatch,
    ) -> ServiceResult<Account> {
        self.super_admin(caller)?;
        let name = validate_account_name(&patch.name).map_err(ServiceError::Validation)?;
        let event = self.audit(
            caller,
            AuditAction::Edit,
            modules::ACCOUNT,
            &name,
            format!("Nombre de la cuenta: «{name}»"),
        );
        Ok(self.store.rename_account(&name, &event).await?)
    }

    pub async fn api_key(&self, caller: &Caller) -> ServiceResult<ApiKey> {
        self.admin(caller)?;
        let record = self.store.account().await?;
        Ok(ApiKey {
            key: record.api_key,
            created_at: record.api_key_created_at,
        })
    }

    /// "Ver API Secret": the Súper Administrador only; every reveal is audited.
    pub async fn api_key_secret(&self, caller: &Caller) -> ServiceResult<ApiKeySecret> {
        if let Err(err) = self.super_admin(caller) {
            if caller.session.is_some() {
                self.record_denied(
                    caller,
                    modules::API_KEY,
                    "api-secret",
                    "Ver API Secret sin permiso",
                )
                .await;
            }
            return Err(err);
        }
        let record = self.store.account().await?;
        let secret = self.vault.open(&record.api_secret_sealed)?;
        let event = self.audit(
            caller,
            AuditAction::Reveal,
            modules::API_KEY,
            &record.api_key,
            "API Secret mostrado",
        );
        self.store.record(&event).await?;
        Ok(ApiKeySecret {
            key: record.api_key,
            secret: SecretText::new(secret),
            created_at: record.api_key_created_at,
        })
    }

    pub async fn regenerate_api_key(&self, caller: &Caller) -> ServiceResult<ApiKeySecret> {
        self.super_admin(caller)?;
        let key = secret::generate_api_key();
        let api_secret = secret::generate(SecretKind::LegacyApiSecret);
        let sealed = self.vault.seal(&api_secret)?;
        let now = self.now();
        let event = self.audit(
            caller,
            AuditAction::Regenerate,
            modules::API_KEY,
            &key,
            "API Key y API Secret regenerados",
        );
        self.store
            .replace_api_key(&key, &sealed, now, &event)
            .await?;
        Ok(ApiKeySecret {
            key,
            secret: SecretText::new(api_secret),
            created_at: now,
        })
    }

    /// The legacy key and secret in clear, for verifying Hawk signatures.
    pub async fn legacy_credentials(&self) -> ServiceResult<(String, String)> {
        let record = self.store.account().await?;
        Ok((record.api_key, self.vault.open(&record.api_secret_sealed)?))
    }
}
