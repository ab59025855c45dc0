//! The typed client's calls for clients that register themselves (the policy, the
//! decisions, initial access tokens) and for protected resources.

use super::{Client, ClientResult};
use crate::domain::Consumer;
use crate::domain::registration::{
    ApproveConsumer, CreatedInitialAccessToken, InitialAccessToken, NewInitialAccessToken,
    RegistrationPatch, RegistrationSettings,
};
use crate::domain::resource::{NewProtectedResource, ProtectedResource};
use reqwest::Method;
use uuid::Uuid;

impl Client {
    // --- clients that register themselves -------------------------------------------------

    pub async fn registration_settings(&self) -> ClientResult<RegistrationSettings> {
        Self::json(self.request(Method::GET, "/api/v1/client-registration")).await
    }

    pub async fn set_registration_settings(
        &self,
        patch: &RegistrationPatch,
    ) -> ClientResult<RegistrationSettings> {
        Self::json(
            self.request(Method::PUT, "/api/v1/client-registration")
                .json(patch),
        )
        .await
    }

    /// The clients waiting for approval, oldest first.
    pub async fn pending_consumers(&self) -> ClientResult<Vec<Consumer>> {
        Self::json(self.request(Method::GET, "/api/v1/consumers/pending")).await
    }

    pub async fn approve_consumer(&self, id: Uuid, group: Uuid) -> ClientResult<Consumer> {
        Self::json(
            self.request(Method::POST, &format!("/api/v1/consumers/{id}/approve"))
                .json(&ApproveConsumer {
                    permission_group_id: group,
                }),
        )
        .await
    }

    pub async fn reject_consumer(&self, id: Uuid) -> ClientResult<Consumer> {
        Self::json(self.request(Method::POST, &format!("/api/v1/consumers/{id}/reject"))).await
    }

    pub async fn initial_access_tokens(&self) -> ClientResult<Vec<InitialAccessToken>> {
        Self::json(self.request(Method::GET, "/api/v1/initial-access-tokens")).await
    }

    pub async fn create_initial_access_token(
        &self,
        new: &NewInitialAccessToken,
    ) -> ClientResult<CreatedInitialAccessToken> {
        Self::json(
            self.request(Method::POST, "/api/v1/initial-access-tokens")
                .json(new),
        )
        .await
    }

    pub async fn delete_initial_access_token(&self, id: Uuid) -> ClientResult<()> {
        Self::empty(self.request(
            Method::DELETE,
            &format!("/api/v1/initial-access-tokens/{id}"),
        ))
        .await
    }

    // --- protected resources ------------------------------------------------------------

    pub async fn resources(&self) -> ClientResult<Vec<ProtectedResource>> {
        Self::json(self.request(Method::GET, "/api/v1/resources")).await
    }

    pub async fn create_resource(
        &self,
        resource: &NewProtectedResource,
    ) -> ClientResult<ProtectedResource> {
        Self::json(
            self.request(Method::POST, "/api/v1/resources")
                .json(resource),
        )
        .await
    }

    pub async fn delete_resource(&self, id: Uuid) -> ClientResult<()> {
        Self::empty(self.request(Method::DELETE, &format!("/api/v1/resources/{id}"))).await
    }
}
