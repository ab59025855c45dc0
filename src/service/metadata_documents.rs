//! Clients named by their Client ID Metadata Document
//! (draft-ietf-oauth-client-id-metadata-document): the `client_id` is an HTTPS URL, and the
//! document there says who the client is and where it may be sent back. The server fetches
//! it (`fetch`, which refuses the server's own network), checks it, and keeps the client as
//! a consumer of origin `metadata_document`, pending or approved as the policy says, its
//! redirect URIs following the document.

use super::authorize::AuthorizeError;
use super::tokens::CachedClient;
use super::*;
use crate::domain::registration::{
    ClientMetadata, RegisteredClient, RegistrationSettings, document_host,
};
use crate::store::ConsumerInsert;

fn internal(err: impl std::fmt::Display) -> AuthorizeError {
    tracing::error!(error = %err, "metadata document client");
    AuthorizeError::Page("Error interno".into())
}

impl Service {
    /// The client a metadata document's URL names, as its document says now: made the
    /// first time (pending under `approval`), its redirect URIs updated when the document
    /// changed. Every refusal is a page: nothing can go back to a redirect URI that no
    /// checked document vouches for.
    pub(super) async fn document_client(
        &self,
        ip: IpAddr,
        url: &str,
    ) -> Result<Arc<CachedClient>, AuthorizeError> {
        let host = document_host(url).unwrap_or_default();
        let settings = self.store.registration_settings().await.map_err(internal)?;
        if settings.policy == RegistrationPolicy::Off {
            return Err(AuthorizeError::Page(
                "Este servidor no acepta clientes descritos por un documento de metadatos".into(),
            ));
        }
        let fetcher = self.fetcher.as_ref().ok_or_else(|| {
            AuthorizeError::Page("Los documentos de metadatos no están disponibles".into())
        })?;
        let document = fetcher.json(url).await.map_err(|err| {
            tracing::info!(host = %host, error = %err, "metadata document refused");
            AuthorizeError::Page(format!(
                "No se pudo obtener el documento de metadatos del cliente en {host}: {err}"
            ))
        })?;
        let metadata: ClientMetadata =
            serde_json::from_value(document.as_ref().clone()).map_err(|err| {
                AuthorizeError::Page(format!(
                    "El documento de metadatos de {host} no es válido: {err}"
                ))
            })?;
        let client = metadata.check_document(url).map_err(|refused| {
            AuthorizeError::Page(format!(
                "El documento de metadatos de {host} no sirve: {refused}"
            ))
        })?;
        match self.store.consumer_credentials(url).await {
            Ok(known) => self.follow_document(&known.consumer, client).await?,
            Err(StoreError::NotFound) => self.admit_document(ip, url, client, &settings).await?,
            Err(other) => return Err(internal(other)),
        }
        self.cached_client(url)
            .await
            .map_err(internal)?
            .ok_or_else(|| internal("a metadata document client vanished"))
    }

    /// A known client whose document changed: its description and redirect URIs as the
    /// document now says (the document is the client's; its group and approval are not).
    async fn follow_document(
        &self,
        consumer: &Consumer,
        client: RegisteredClient,
    ) -> Result<(), AuthorizeError> {
        if consumer.redirect_uris == client.redirect_uris
            && consumer.description == client.description
        {
            return Ok(());
        }
        let fields = ValidConsumer {
            name: consumer.name.clone(),
            description: client.description,
            grant_type: consumer.grant_type,
            permission_group_id: consumer.permission_group_id,
            hub_enabled: consumer.hub_enabled,
            enabled: consumer.enabled,
            token_format: consumer.token_format,
            access_token_alg: consumer.access_token_alg,
            redirect_uris: client.redirect_uris,
            auth_method: consumer.auth_method,
            jwks: None,
            jwks_uri: None,
            require_dpop: consumer.require_dpop,
        };
        let updated = self
            .store
            .refresh_document_client(consumer.id, &fields, self.now())
            .await
            .map_err(internal)?;
        self.consumer_changed(&updated);
        Ok(())
    }

    /// A client seen for the first time: recorded, pending under `approval`.
    async fn admit_document(
        &self,
        ip: IpAddr,
        url: &str,
        client: RegisteredClient,
        settings: &RegistrationSettings,
    ) -> Result<(), AuthorizeError> {
        // New clients from one address are counted as registrations are.
        let key = throttle::address_key("register-ip", ip);
        if let Err(retry_after) = self.throttle.check(&key) {
            return Err(AuthorizeError::TooManyRequests { retry_after });
        }
        let _ = self
            .throttle
            .fail(&key, super::registration::REGISTRATIONS_PER_ADDRESS);
        let (approval, group) = self
            .admission(settings)
            .await
            .map_err(|refused| AuthorizeError::Page(refused.to_string()))?;
        let fields = client.fields(group).check().map_err(|errors| {
            let why: Vec<String> = errors.0.into_values().collect();
            AuthorizeError::Page(format!(
                "El documento de metadatos no sirve: {}",
                why.join("; ")
            ))
        })?;
        let mut insert = ConsumerInsert {
            id: new_id(),
            client_id: url.to_string(),
            secret_digest: None,
            secret_last_four: String::new(),
            created_at: self.now(),
            created_by: "documento de metadatos".into(),
            origin: ConsumerOrigin::MetadataDocument,
            approval,
            registration_token_digest: None,
            fields,
        };
        let event = |insert: &ConsumerInsert| NewAuditEvent {
            at: self.now(),
            ip: ip.to_string(),
            actor: Actor::consumer(&crate::domain::names::shown_identifier(url)),
            action: AuditAction::Add,
            module: modules::REGISTRATION.into(),
            target: insert.fields.name.clone(),
            description: format!(
                "Cliente por documento de metadatos ({}); {url}; URL de retorno: {}",
                approval.label_es().to_lowercase(),
                insert.fields.redirect_uris.join(" ")
            ),
        };
        let inserted = match self.store.insert_consumer(&insert, &event(&insert)).await {
            // Another document on the same host: told apart by its URL's digest.
            Err(StoreError::Duplicate("name")) => {
                let digest = secret::digest(url);
                insert.fields.name = format!(
                    "{} ({:02x}{:02x}{:02x})",
                    insert.fields.name, digest[0], digest[1], digest[2]
                );
                self.store.insert_consumer(&insert, &event(&insert)).await
            }
            // Two first requests at once: the other made it.
            Err(StoreError::Duplicate(_)) => return Ok(()),
            other => other,
        };
        let consumer = inserted.map_err(internal)?;
        self.consumer_changed(&consumer);
        Ok(())
    }
}
