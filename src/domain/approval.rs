//! Where a consumer came from, and whether a self-registered one may get tokens yet.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a consumer came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsumerOrigin {
    /// Made in the console, the CLI or the API by an administrator.
    #[default]
    Console,
    /// Registered itself (RFC 7591).
    Registration,
    /// Its client_id is the URL of its Client ID Metadata Document.
    MetadataDocument,
}

impl ConsumerOrigin {
    pub const ALL: [ConsumerOrigin; 3] = [
        ConsumerOrigin::Console,
        ConsumerOrigin::Registration,
        ConsumerOrigin::MetadataDocument,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsumerOrigin::Console => "console",
            ConsumerOrigin::Registration => "registration",
            ConsumerOrigin::MetadataDocument => "metadata_document",
        }
    }

    pub fn parse(text: &str) -> Option<ConsumerOrigin> {
        ConsumerOrigin::ALL.into_iter().find(|o| o.as_str() == text)
    }

    /// True for a client that registered itself, either way.
    pub fn is_self_registered(self) -> bool {
        self != ConsumerOrigin::Console
    }

    pub fn label_es(self) -> &'static str {
        match self {
            ConsumerOrigin::Console => "Consola",
            ConsumerOrigin::Registration => "Registro dinámico",
            ConsumerOrigin::MetadataDocument => "Documento de metadatos",
        }
    }
}

/// Whether a consumer may get tokens yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    #[default]
    Approved,
    /// *Pendiente*: registered, waiting for the Súper Administrador.
    Pending,
    /// *Rechazado*: kept, so that its document or registration does not come back pending.
    Rejected,
}

impl Approval {
    pub const ALL: [Approval; 3] = [Approval::Approved, Approval::Pending, Approval::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            Approval::Approved => "approved",
            Approval::Pending => "pending",
            Approval::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Approval> {
        Approval::ALL.into_iter().find(|a| a.as_str() == text)
    }

    pub fn label_es(self) -> &'static str {
        match self {
            Approval::Approved => "Aprobado",
            Approval::Pending => "Pendiente",
            Approval::Rejected => "Rechazado",
        }
    }
}
