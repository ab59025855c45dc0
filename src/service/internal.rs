//! What broke inside, with its cause: the admin at start and the log see all of it, an API
//! caller only that something did (see `server::problem`).

use std::borrow::Cow;
use std::error::Error;

/// The error that caused an internal failure, whatever its type.
pub type Cause = Box<dyn Error + Send + Sync + 'static>;

/// An internal failure. Its words name what was being done, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum InternalError {
    /// Words alone: a state that should not happen, or a failure without an error value.
    #[error("{0}")]
    Said(Cow<'static, str>),
    /// What was being done, and the error that stopped it.
    #[error("{context}")]
    Caused {
        context: Cow<'static, str>,
        #[source]
        source: Cause,
    },
    /// An error that says everything by itself (the database's, a sealed key's).
    #[error(transparent)]
    Of(Cause),
}

impl InternalError {
    /// A failure told in words.
    pub fn said(words: impl Into<Cow<'static, str>>) -> InternalError {
        InternalError::Said(words.into())
    }

    /// `source` stopped what `context` says.
    pub fn caused(
        context: impl Into<Cow<'static, str>>,
        source: impl Into<Cause>,
    ) -> InternalError {
        InternalError::Caused {
            context: context.into(),
            source: source.into(),
        }
    }

    /// An error that needs no words of ours.
    pub fn of(source: impl Into<Cause>) -> InternalError {
        InternalError::Of(source.into())
    }

    /// The whole chain, `what: why: why…`: for the log and the admin at start.
    pub fn detail(&self) -> String {
        let mut text = self.to_string();
        let mut next = self.source();
        while let Some(cause) = next {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            next = cause.source();
        }
        text
    }
}

impl From<&'static str> for InternalError {
    fn from(words: &'static str) -> InternalError {
        InternalError::said(words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detail_is_the_words_then_each_cause() {
        assert_eq!(InternalError::said("sin clave").detail(), "sin clave");
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permiso denegado");
        let caused = InternalError::caused("no se pudo leer x.json", io);
        assert_eq!(caused.to_string(), "no se pudo leer x.json");
        assert_eq!(caused.detail(), "no se pudo leer x.json: permiso denegado");
        assert!(caused.source().is_some(), "the cause is kept, typed");
        let of = InternalError::of(crate::store::StoreError::Corrupt("user role"));
        assert_eq!(of.detail(), "bad user role in the database");
    }
}
