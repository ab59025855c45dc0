//! Resource indicators (RFC 8707): a token for one protected resource of the Súper
//! Administrador's list, whose `aud` it is. Without `resource`, a token is for consola's
//! own API, as before.

use super::*;

impl Service {
    /// The resource a request names, if it names one: it must be in the list (memory only).
    pub(crate) fn requested_resource(
        &self,
        resource: Option<&str>,
    ) -> Result<Option<String>, OAuthError> {
        let Some(asked) = resource.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(None);
        };
        match self.resource_by_url(asked) {
            Some(known) => Ok(Some(known.url)),
            None => Err(OAuthError::InvalidTarget(format!(
                "El recurso «{}» no está en la lista de recursos protegidos",
                crate::domain::names::shown_identifier(asked)
            ))),
        }
    }

    /// The resource of a token from a grant that was for `granted`: a request may repeat
    /// it, never name another (RFC 8707 §2.2).
    pub(super) fn grant_resource(
        &self,
        granted: Option<&str>,
        asked: Option<&str>,
    ) -> Result<Option<String>, OAuthError> {
        let asked = self.requested_resource(asked)?;
        match (granted, asked) {
            (_, None) => Ok(granted.map(str::to_string)),
            (Some(granted), Some(asked)) if granted == asked => Ok(Some(asked)),
            (_, Some(_)) => Err(OAuthError::InvalidTarget(
                "La autorización fue para otro recurso".into(),
            )),
        }
    }

    /// Whether a token's `aud` is one this server issues for: its API, or a listed resource.
    pub(super) fn is_issued_audience(&self, aud: &str) -> bool {
        aud == self.audience() || self.resource_by_url(aud).is_some()
    }
}
