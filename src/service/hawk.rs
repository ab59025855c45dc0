//! The legacy API key on the protected endpoint: Hawk-signed requests with the account's
//! key and secret get full access, within the allowed clock skew and never twice with the
//! same nonce. Every use is audited as deprecated.

use super::tokens::AccessDenied;
use super::*;
use crate::domain::hawk::{self, HawkPayload, HawkRequest};
use crate::domain::oauth::{ModuleAccess, module_exists};
use sha2::Digest;

/// Bound on remembered nonces; past it, the ones outside the skew window are dropped.
const MAX_NONCES: usize = 100_000;

impl Service {
    /// `GET /api/v1/modules/{module}/access` signed with Hawk.
    pub async fn module_access_hawk(
        &self,
        ip: IpAddr,
        authorization: &str,
        request: &HawkRequest<'_>,
        payload: HawkPayload<'_>,
        module: &str,
    ) -> Result<ModuleAccess, AccessDenied> {
        let outcome = self.check_hawk(ip, authorization, request, payload).await;
        if let Err(denied) = &outcome {
            let what = match denied {
                AccessDenied::Hawk(reason) => format!("API Key (Hawk) rechazada: {reason}"),
                AccessDenied::HawkStale { .. } => {
                    "API Key (Hawk) rechazada: hora fuera de tolerancia".to_string()
                }
                _ => "API Key (Hawk) rechazada".to_string(),
            };
            let event = NewAuditEvent {
                at: self.now(),
                ip: ip.to_string(),
                actor: Actor::anonymous(),
                action: AuditAction::Denied,
                module: modules::API_KEY.to_string(),
                target: module.chars().take(100).collect(),
                description: what,
            };
            if let Err(err) = self.store.record(&event).await {
                tracing::warn!(error = %err, "could not record a denial in the audit log");
            }
        }
        let key = outcome?;
        let event = NewAuditEvent {
            at: self.now(),
            ip: ip.to_string(),
            actor: Actor {
                kind: "api_key".into(),
                name: key,
            },
            action: AuditAction::Token,
            module: modules::API_KEY.to_string(),
            target: module.chars().take(100).collect(),
            description: "Acceso con API Key (método de autenticación deprecado)".into(),
        };
        if let Err(err) = self.store.record(&event).await {
            tracing::warn!(error = %err, "could not record a legacy key use");
        }
        if !module_exists(module) {
            return Err(AccessDenied::UnknownModule);
        }
        Ok(ModuleAccess {
            module: module.to_string(),
            actions: Action::ALL.to_vec(),
        })
    }

    /// Counts a failed Hawk request of an address, here and in the shared throttle; an
    /// address another replica already refuses is told so.
    async fn hawk_failure(&self, ip_key: &str, what: &'static str) -> AccessDenied {
        let limit = self.config.client_failures_per_ip;
        self.throttle.fail(ip_key, limit);
        match self.count_shared_failures(&[(ip_key, limit)]).await {
            Some(_) => AccessDenied::Hawk("demasiados intentos fallidos"),
            None => AccessDenied::Hawk(what),
        }
    }

    /// The key of a valid Hawk request.
    async fn check_hawk(
        &self,
        ip: IpAddr,
        authorization: &str,
        request: &HawkRequest<'_>,
        payload: HawkPayload<'_>,
    ) -> Result<String, AccessDenied> {
        let header =
            hawk::parse(authorization).ok_or(AccessDenied::Hawk("cabecera Hawk inválida"))?;
        let ip_key = format!("hawk-ip:{ip}");
        if self.throttle.check(&ip_key).is_err() {
            return Err(AccessDenied::Hawk("demasiados intentos fallidos"));
        }
        let (key, secret) = self
            .legacy_credentials()
            .await
            .map_err(|_| AccessDenied::Hawk("no hay API Key configurada"))?;
        let key_ok = bool::from(subtle::ConstantTimeEq::ct_eq(
            header.id.as_bytes(),
            key.as_bytes(),
        ));
        if !key_ok || !hawk::verify(&secret, &header, request) {
            return Err(self.hawk_failure(&ip_key, "firma inválida").await);
        }
        if !hawk::verify_payload(&header, payload) {
            return Err(self
                .hawk_failure(&ip_key, "hash del contenido inválido")
                .await);
        }
        let now = self.now().timestamp();
        let skew = self.config.hawk_skew.num_seconds();
        if !hawk::within_skew(header.ts, now, skew) {
            return Err(AccessDenied::HawkStale {
                ts: now,
                tsm: hawk::timestamp_mac(&secret, now),
            });
        }
        let nonce_key = format!("{}:{}", header.id, header.nonce);
        {
            let mut nonces = self.tokens.hawk_nonces.lock();
            if nonces.len() >= MAX_NONCES {
                nonces.retain(|_, ts| hawk::within_skew(*ts, now, skew));
            }
            if nonces.contains_key(&nonce_key) {
                return Err(AccessDenied::Hawk("nonce repetido"));
            }
            nonces.insert(nonce_key.clone(), header.ts);
        }
        // The database remembers the nonce too, so that a replay after a restart (or on
        // another replica) inside the window is refused as well.
        let digest: [u8; 32] = sha2::Sha256::digest(format!("hawk:{nonce_key}")).into();
        // Past `ts + skew` the request fails the clock check, so the nonce can go.
        let until = header.ts.saturating_add(skew);
        match self.use_once(digest, until).await {
            Ok(true) => Ok(key),
            Ok(false) => Err(AccessDenied::Hawk("nonce repetido")),
            Err(_) => Err(AccessDenied::Hawk("no se pudo comprobar el nonce")),
        }
    }
}
