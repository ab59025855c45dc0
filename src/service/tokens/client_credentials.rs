//! The client credentials grant (RFC 6749 §4.4): a consumer of that grant type gets a token
//! of its own, with its group's scopes or the part of them it asks for.

use super::*;

/// The scope of a client_credentials token for `client`, given the `scope` it asked for.
pub(super) fn client_credentials_scope<'c>(
    client: &'c CachedClient,
    asked: Option<&str>,
) -> Result<Cow<'c, str>, OAuthError> {
    if client.credentials.consumer.grant_type != GrantType::ClientCredentials {
        return Err(OAuthError::UnauthorizedClient);
    }
    match asked.filter(|asked| !asked.bytes().all(|b| b == b' ')) {
        // No scope asked for: all of the group's, joined once per client.
        None => Ok(Cow::Borrowed(&client.all_scopes)),
        Some(asked) => {
            let scopes =
                narrow_scopes(&client.scopes, Some(asked)).map_err(|_| OAuthError::InvalidScope)?;
            Ok(Cow::Owned(join_scopes(&scopes)))
        }
    }
}
