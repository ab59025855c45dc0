//! The authorization code flow's front half (RFC 6749 §4.1, PKCE RFC 7636): checking an
//! authorization request, the console user's login and consent, and the single-use code.

use super::sessions::{PasswordDenials, PasswordRefused};
use super::*;
use crate::domain::oauth::*;
use crate::store::AuthorizationCodeRecord;

/// The query of `GET /oauth/authorize` (and the hidden fields of its form).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct AuthorizeRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    /// The protected resource the grant is for (RFC 8707).
    pub resource: Option<String>,
}

/// A valid request, ready for the login and consent page.
#[derive(Debug, Clone)]
pub struct AuthorizePrompt {
    pub consumer_name: String,
    pub scopes: Vec<String>,
    /// The host the browser goes back to: shown, since a name proves nothing.
    pub redirect_host: String,
    /// For a client named by its metadata document, the document's host.
    pub document_host: Option<String>,
    /// A client that registered itself.
    pub self_registered: bool,
    /// The resource's name and URL, when the request names one.
    pub resource: Option<(String, String)>,
    pub request: AuthorizeRequest,
}

#[derive(Debug, Clone)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: show an error page, never redirect.
    Page(String),
    /// Tell the client, at its registered redirect URI.
    Redirect(String),
    TooManyRequests {
        retry_after: u64,
    },
    /// Too many password checks at once: 503 with `Retry-After`.
    Busy {
        retry_after: u64,
    },
}

#[derive(Debug, Clone)]
pub enum AuthorizeOutcome {
    /// Send the browser here (with `code` or `error`).
    Redirect(String),
    /// Wrong username or password: show the page again with a message.
    LoginFailed(Box<AuthorizePrompt>, String),
}

/// An authorization response: `params`, the client's `state`, and the issuer as `iss`
/// (RFC 9207), so that a client talking to several servers can tell which one answered
/// (mix-up attacks).
fn redirect_with(
    redirect_uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> String {
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(url) => url,
        Err(_) => return redirect_uri.to_string(),
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", issuer);
    }
    url.to_string()
}

fn error_redirect(
    request: &AuthorizeRequest,
    redirect_uri: &str,
    error: &str,
    what: &str,
    issuer: &str,
) -> String {
    redirect_with(
        redirect_uri,
        &[("error", error), ("error_description", what)],
        request.state.as_deref(),
        issuer,
    )
}

impl Service {
    /// Checks an authorization request. Problems with the client or the redirect URI are
    /// pages; the others go back to the (verified) redirect URI.
    pub async fn check_authorize(
        &self,
        ip: IpAddr,
        request: &AuthorizeRequest,
    ) -> Result<AuthorizePrompt, AuthorizeError> {
        let client_id = request
            .client_id
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= MAX_CLIENT_ID)
            .ok_or_else(|| AuthorizeError::Page("Falta client_id o no es válido".into()))?;
        let client = if crate::domain::registration::is_metadata_document_url(client_id) {
            self.document_client(ip, client_id).await?
        } else {
            self.cached_client(client_id)
                .await
                .map_err(|_| AuthorizeError::Page("Error interno".into()))?
                .ok_or_else(|| AuthorizeError::Page("Consumidor OAuth desconocido".into()))?
        };
        let consumer = &client.credentials.consumer;
        if !consumer.enabled {
            return Err(AuthorizeError::Page(
                "El consumidor OAuth está deshabilitado".into(),
            ));
        }
        match consumer.approval {
            Approval::Approved => {}
            // No code, and nothing the client can act on: a person must decide first.
            Approval::Pending => {
                return Err(AuthorizeError::Page(format!(
                    "«{}» se registró y espera la aprobación del Súper Administrador. \
                     Vuelva a intentarlo cuando esté aprobado.",
                    consumer.name
                )));
            }
            Approval::Rejected => {
                return Err(AuthorizeError::Page(format!(
                    "El Súper Administrador rechazó a «{}»",
                    consumer.name
                )));
            }
        }
        let redirect_uri = request
            .redirect_uri
            .as_deref()
            .ok_or_else(|| AuthorizeError::Page("Falta redirect_uri".into()))?;
        if !consumer
            .redirect_uris
            .iter()
            .any(|r| crate::domain::consumer::redirect_uri_matches(r, redirect_uri))
        {
            return Err(AuthorizeError::Page(
                "redirect_uri no coincide con ninguna URL de retorno registrada".into(),
            ));
        }
        let issuer = self.issuer();
        let fail = |error: &str, what: &str| {
            AuthorizeError::Redirect(error_redirect(request, redirect_uri, error, what, issuer))
        };
        if consumer.grant_type != GrantType::AuthorizationCode {
            return Err(fail(
                "unauthorized_client",
                "El consumidor no usa Código de autorización",
            ));
        }
        if request.response_type.as_deref() != Some("code") {
            return Err(fail(
                "unsupported_response_type",
                "response_type debe ser code",
            ));
        }
        match request.code_challenge_method.as_deref() {
            Some("S256") => {}
            None => {
                return Err(fail(
                    "invalid_request",
                    "PKCE requerido: code_challenge_method=S256",
                ));
            }
            Some(_) => {
                return Err(fail(
                    "invalid_request",
                    "Solo se acepta code_challenge_method=S256",
                ));
            }
        }
        if !request
            .code_challenge
            .as_deref()
            .is_some_and(is_valid_code_challenge)
        {
            return Err(fail(
                "invalid_request",
                "PKCE requerido: code_challenge (S256)",
            ));
        }
        let scopes = grantable_scopes(&client.scopes, request.scope.as_deref()).map_err(|_| {
            fail(
                "invalid_scope",
                "Ninguno de los scopes pedidos está en el grupo de permisos",
            )
        })?;
        let resource = match self.requested_resource(request.resource.as_deref()) {
            Ok(None) => None,
            Ok(Some(url)) => self.resource_by_url(&url).map(|r| (r.name, r.url)),
            Err(err) => return Err(fail("invalid_target", &err.description())),
        };
        Ok(AuthorizePrompt {
            consumer_name: consumer.name.clone(),
            scopes: scopes.into_iter().collect(),
            redirect_host: url::Url::parse(redirect_uri)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| redirect_uri.to_string()),
            document_host: (consumer.origin == ConsumerOrigin::MetadataDocument)
                .then(|| crate::domain::registration::document_host(&consumer.client_id))
                .flatten(),
            self_registered: consumer.origin.is_self_registered(),
            resource,
            request: request.clone(),
        })
    }

    /// The form's answer: a console user's login and their consent (or refusal).
    pub async fn authorize(
        &self,
        ip: IpAddr,
        request: &AuthorizeRequest,
        username: &str,
        password: String,
        approve: bool,
    ) -> Result<AuthorizeOutcome, AuthorizeError> {
        let prompt = self.check_authorize(ip, request).await?;
        let redirect_uri = request.redirect_uri.clone().unwrap_or_default();
        let caller = Caller::anonymous(ip);
        fn internal(err: impl std::fmt::Display) -> AuthorizeError {
            tracing::error!(error = %err, "authorization failed");
            AuthorizeError::Page("Error interno".into())
        }
        let denials = PasswordDenials {
            module: modules::OAUTH,
            throttled: "autorización frenada",
            wrong: "autorización: usuario o contraseña incorrectos",
        };
        let checked = match self
            .check_password(&caller, username, password.into(), &denials)
            .await
        {
            Ok(checked) => checked,
            Err(ServiceError::Busy { retry_after }) => {
                return Err(AuthorizeError::Busy { retry_after });
            }
            Err(other) => return Err(internal(other)),
        };
        let user = match checked {
            Ok(user) => user,
            Err(PasswordRefused::Throttled(retry_after)) => {
                return Err(AuthorizeError::TooManyRequests { retry_after });
            }
            // The page answers at once; the throttle still counts the failure.
            Err(PasswordRefused::Wrong(_)) => {
                return Ok(AuthorizeOutcome::LoginFailed(
                    Box::new(prompt),
                    "Usuario o contraseña incorrectos".into(),
                ));
            }
        };
        if !approve {
            return Ok(AuthorizeOutcome::Redirect(error_redirect(
                request,
                &redirect_uri,
                "access_denied",
                "El usuario no autorizó el acceso",
                self.issuer(),
            )));
        }
        let client_id = request.client_id.clone().unwrap_or_default();
        let client = self
            .cached_client(&client_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| AuthorizeError::Page("Consumidor OAuth desconocido".into()))?;
        let code = secret::generate(SecretKind::AuthorizationCode);
        let now = self.now();
        let record = AuthorizationCodeRecord {
            digest: secret::digest(&code),
            consumer_id: client.credentials.consumer.id,
            client_id: client_id.clone(),
            user_id: user.id,
            redirect_uri: redirect_uri.clone(),
            scope: prompt.scopes.join(" "),
            code_challenge: request.code_challenge.clone().unwrap_or_default(),
            family_id: new_id(),
            expires_at: now + self.config.authorization_code_ttl,
            resource: prompt.resource.as_ref().map(|(_, url)| url.clone()),
        };
        self.store
            .insert_authorization_code(&record)
            .await
            .map_err(internal)?;
        let event = NewAuditEvent {
            actor: Actor::user(&user.username),
            ..self.audit(
                &caller,
                AuditAction::Token,
                modules::OAUTH,
                &client_id,
                match &record.resource {
                    Some(resource) => format!(
                        "Autorizó a «{}»: {}; para {resource}",
                        prompt.consumer_name, record.scope
                    ),
                    None => format!("Autorizó a «{}»: {}", prompt.consumer_name, record.scope),
                },
            )
        };
        if let Err(err) = self.store.record(&event).await {
            tracing::warn!(error = %err, "could not record a consent");
        }
        Ok(AuthorizeOutcome::Redirect(redirect_with(
            &redirect_uri,
            &[("code", &code)],
            request.state.as_deref(),
            self.issuer(),
        )))
    }
}
