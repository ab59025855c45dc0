//! JWT access tokens' signatures (JWS compact, `typ: at+jwt`): signed with the current key
//! of an algorithm, verified against every kept key whose header matches exactly.

use super::*;

impl TokenKeys {
    /// A compact JWS of the claims (`typ: at+jwt`), signed with the current key of `alg`.
    pub fn sign_jwt(&self, alg: AccessTokenAlg, claims: &impl Serialize) -> ServiceResult<String> {
        let sets = self.sets();
        let current = sets
            .of(alg)
            .first()
            .ok_or_else(|| InternalError::said(format!("sin clave de firma {}", alg.as_str())))?;
        // Room for an access token's claims (about 300 bytes) without growing.
        let mut payload = Vec::with_capacity(512);
        serde_json::to_writer(&mut payload, claims)
            .map_err(|e| InternalError::caused("no se pudo escribir el JSON de un token", e))?;
        // header.payload.signature, built in one buffer: 4/3 of the payload, plus the
        // header and the signature (342 characters for RS256).
        let mut token = String::with_capacity(current.header.len() + payload.len() * 4 / 3 + 360);
        token.push_str(&current.header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let signature = current.key.sign(token.as_bytes())?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }

    /// The payload of a JWT whose signature one of our keys made; `None` otherwise. The
    /// header must be exactly the one that key writes, so its `alg` is the key's own and
    /// its `typ` is `at+jwt`.
    pub fn verify_jwt(&self, token: &str) -> Option<Vec<u8>> {
        let mut parts = token.split('.');
        let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let sets = self.sets();
        let entry = sets.iter().find(|e| e.header == header)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let signing_input = &token[..header.len() + 1 + payload.len()];
        if !entry.verifies(signing_input.as_bytes(), &signature) {
            return None;
        }
        URL_SAFE_NO_PAD.decode(payload).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header segment is built once per key: it must name the key that signs and say
    /// `at+jwt`, for every algorithm; a token whose header names another algorithm than its
    /// key's is refused (no algorithm confusion).
    #[test]
    fn jwt_header_names_the_current_key_and_its_alg() {
        let keys = TokenKeys::ephemeral();
        let mut tokens = Vec::new();
        for alg in AccessTokenAlg::ALL {
            let token = keys
                .sign_jwt(alg, &serde_json::json!({"sub": "x"}))
                .unwrap();
            let header = token.split('.').next().unwrap();
            let header: serde_json::Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
            assert_eq!(
                header,
                serde_json::json!({
                    "alg": alg.as_str(),
                    "typ": "at+jwt",
                    "kid": keys.current_kid(alg).unwrap(),
                })
            );
            let payload: serde_json::Value =
                serde_json::from_slice(&keys.verify_jwt(&token).unwrap()).unwrap();
            assert_eq!(payload, serde_json::json!({"sub": "x"}));
            tokens.push(token);
        }
        // The EdDSA signature under a header that claims ES256 with the same kid.
        let (_, rest) = tokens[0].split_once('.').unwrap();
        let kid = keys.current_kid(AccessTokenAlg::EdDSA).unwrap();
        let lying = URL_SAFE_NO_PAD
            .encode(serde_json::json!({"alg": "ES256", "typ": "at+jwt", "kid": kid}).to_string());
        assert!(keys.verify_jwt(&format!("{lying}.{rest}")).is_none());
        let untyped = URL_SAFE_NO_PAD
            .encode(serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": kid}).to_string());
        assert!(keys.verify_jwt(&format!("{untyped}.{rest}")).is_none());
    }
}
