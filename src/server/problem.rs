//! One mapping from service errors and request rejections to problem+json (RFC 9457).

use crate::domain::{FieldErrors, Problem};
use crate::service::ServiceError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Seconds a client is told to wait when the database refuses work.
pub const STORAGE_RETRY_AFTER: u64 = 5;

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub errors: FieldErrors,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            detail: detail.into(),
            errors: FieldErrors::new(),
            retry_after: None,
        }
    }

    pub fn validation(errors: FieldErrors) -> ApiError {
        ApiError {
            errors,
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Hay campos con errores",
            )
        }
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "No existe")
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> ApiError {
        match err {
            ServiceError::Unauthenticated => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Inicie sesión para continuar (sesión ausente, vencida o credenciales incorrectas)",
            ),
            ServiceError::Forbidden(detail) => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
            }
            ServiceError::NotFound => ApiError::not_found(),
            ServiceError::Validation(errors) => ApiError::validation(errors),
            ServiceError::Conflict {
                code,
                detail,
                errors,
            } => ApiError {
                errors,
                ..ApiError::new(StatusCode::CONFLICT, code, detail)
            },
            ServiceError::Stale => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "modified",
                "El registro fue modificado por otro usuario; recárguelo",
            ),
            ServiceError::TooManyRequests { retry_after } => ApiError {
                retry_after: Some(retry_after),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_requests",
                    format!("Demasiados intentos fallidos; reintente en {retry_after} s"),
                )
            },
            ServiceError::Unavailable(fault) => ApiError {
                retry_after: Some(STORAGE_RETRY_AFTER),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    fault.as_str(),
                    fault.detail(),
                )
            },
            ServiceError::Busy { retry_after } => ApiError {
                retry_after: Some(retry_after),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    format!("El servidor está ocupado; reintente en {retry_after} s"),
                )
            },
            ServiceError::Internal(err) => {
                tracing::error!(message = %err.detail(), "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Error interno del servidor; el detalle quedó en el registro",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: format!("urn:consola:{}", self.code),
            title: self
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_string(),
            status: self.status.as_u16(),
            detail: self.detail,
            errors: self.errors.0,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"consola\""),
            );
        }
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            headers.insert(header::RETRY_AFTER, value);
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The last line of defence when a handler panics: 500 problem+json. The log gets the
/// panic's message, never the request (its body may hold a password or a secret).
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    let message: String = message.chars().take(200).collect();
    tracing::error!(panic = %message, "a request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Error interno del servidor; el detalle quedó en el registro",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::InternalError;

    /// An internal error's cause goes to the log only: the caller gets the generic 500.
    #[tokio::test]
    async fn an_internal_error_answers_500_without_its_cause() {
        let cause = std::io::Error::other("disco roto");
        let err = ServiceError::Internal(InternalError::caused("no se pudo leer claves", cause));
        let response = ApiError::from(err).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap_or_default();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(problem["type"], "urn:consola:internal");
        assert_eq!(
            problem["detail"],
            "Error interno del servidor; el detalle quedó en el registro"
        );
        let text = String::from_utf8_lossy(&body);
        assert!(
            !text.contains("disco") && !text.contains("claves"),
            "{text}"
        );
    }
}
