//! The OAuth error (RFC 6749 §5.2), as the token, introspection and revocation endpoints
//! answer it.

use crate::service::{InternalError, ServiceError};
use crate::store::{Fault, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    #[error("invalid_client")]
    InvalidClient,
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    #[error("unauthorized_client")]
    UnauthorizedClient,
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error("invalid_scope")]
    InvalidScope,
    /// The `resource` asked for is unknown, or not the one of the grant (RFC 8707 §2).
    #[error("invalid_target: {0}")]
    InvalidTarget(String),
    /// The `DPoP` proof is missing where required, or fails (RFC 9449 §5.1).
    #[error("invalid_dpop_proof: {0}")]
    InvalidDpopProof(&'static str),
    /// The proof lacks the nonce the server gives (RFC 9449 §8).
    #[error("use_dpop_nonce")]
    UseDpopNonce(String),
    /// A console session that may not do this.
    #[error("access_denied")]
    AccessDenied,
    #[error("too many failures; retry in {retry_after} s")]
    TooManyRequests { retry_after: u64 },
    /// The database refuses work for now; nothing was stored.
    #[error("temporarily_unavailable: {}", .0.as_str())]
    Unavailable(Fault),
    /// Something broke inside; the detail goes to the log, not to the caller.
    #[error("internal")]
    Internal(#[from] InternalError),
}

impl From<ServiceError> for OAuthError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::TooManyRequests { retry_after } => {
                OAuthError::TooManyRequests { retry_after }
            }
            ServiceError::Unavailable(fault) => OAuthError::Unavailable(fault),
            ServiceError::Internal(err) => OAuthError::Internal(err),
            other => OAuthError::Internal(InternalError::of(other)),
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(fault) => OAuthError::Unavailable(fault),
            other => OAuthError::Internal(InternalError::of(other)),
        }
    }
}

impl OAuthError {
    /// The RFC 6749 error code.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnauthorizedClient => "unauthorized_client",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::InvalidScope => "invalid_scope",
            OAuthError::InvalidTarget(_) => "invalid_target",
            OAuthError::InvalidDpopProof(_) => "invalid_dpop_proof",
            OAuthError::UseDpopNonce(_) => "use_dpop_nonce",
            OAuthError::AccessDenied => "access_denied",
            OAuthError::TooManyRequests { .. } => "slow_down",
            OAuthError::Unavailable(_) => "temporarily_unavailable",
            OAuthError::Internal(_) => "server_error",
        }
    }

    /// Words for the integrator; never a secret.
    pub fn description(&self) -> String {
        match self {
            OAuthError::InvalidRequest(d)
            | OAuthError::InvalidGrant(d)
            | OAuthError::InvalidTarget(d) => d.clone(),
            OAuthError::InvalidClient => {
                "Autenticación del cliente fallida (Clave o Secreto incorrectos, o consumidor deshabilitado)".into()
            }
            OAuthError::UnauthorizedClient => {
                "El tipo de autorización del consumidor no permite este grant_type".into()
            }
            OAuthError::UnsupportedGrantType => "grant_type no soportado".into(),
            OAuthError::InvalidScope => {
                "El scope pedido excede lo que permite el grupo de permisos del consumidor".into()
            }
            OAuthError::AccessDenied => "Se necesita el rol Administrador".into(),
            OAuthError::InvalidDpopProof(why) => why.to_string(),
            OAuthError::UseDpopNonce(_) => {
                "La prueba DPoP debe llevar el nonce de la cabecera DPoP-Nonce".into()
            }
            OAuthError::TooManyRequests { retry_after } => {
                format!("Demasiados intentos fallidos; reintente en {retry_after} s")
            }
            OAuthError::Unavailable(fault) => fault.detail().into(),
            OAuthError::Internal(_) => "Error interno del servidor".into(),
        }
    }
}

impl From<super::DpopRefused> for OAuthError {
    fn from(refused: super::DpopRefused) -> Self {
        match refused {
            super::DpopRefused::Invalid(why) => OAuthError::InvalidDpopProof(why),
            super::DpopRefused::UseNonce(nonce) => OAuthError::UseDpopNonce(nonce),
        }
    }
}
