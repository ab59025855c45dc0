//! `consola consumers …`: the Consumidores OAuth table and the Nuevo(a) Cliente OAuth modal.

use super::output::{Cell, Printer, Tone};
use super::{CliResult, Failure, groups, prompt, resolve};
use crate::client::Client;
use crate::domain::*;
use clap::{Subcommand, ValueEnum};
use uuid::Uuid;

/// Named as the API names them (`client_credentials`), not in clap's kebab-case.
#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum GrantArg {
    ClientCredentials,
    AuthorizationCode,
}

impl From<GrantArg> for GrantType {
    fn from(arg: GrantArg) -> GrantType {
        match arg {
            GrantArg::ClientCredentials => GrantType::ClientCredentials,
            GrantArg::AuthorizationCode => GrantType::AuthorizationCode,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TokenFormatArg {
    Opaque,
    Jwt,
}

impl From<TokenFormatArg> for TokenFormat {
    fn from(arg: TokenFormatArg) -> TokenFormat {
        match arg {
            TokenFormatArg::Opaque => TokenFormat::Opaque,
            TokenFormatArg::Jwt => TokenFormat::Jwt,
        }
    }
}

/// How the consumer authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AuthArg {
    /// A Secreto, made now and printed once (client_secret_basic or _post).
    Secret,
    /// A JWT signed with the consumer's private key (private_key_jwt); needs --jwks.
    PrivateKeyJwt,
}

impl From<AuthArg> for AuthMethod {
    fn from(arg: AuthArg) -> AuthMethod {
        match arg {
            AuthArg::Secret => AuthMethod::ClientSecret,
            AuthArg::PrivateKeyJwt => AuthMethod::PrivateKeyJwt,
        }
    }
}

/// The JWKS in a file (`-`: standard input): its public keys, as JSON.
fn read_jwks(path: &str) -> CliResult<serde_json::Value> {
    let text = if path == "-" {
        std::io::read_to_string(std::io::stdin().lock())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|err| Failure::Usage(format!("--jwks {path}: no se pudo leer ({err})")))?;
    serde_json::from_str(&text).map_err(|err| {
        Failure::Usage(format!(
            "--jwks {path}: no es JSON (línea {}, columna {}); se espera una JWKS \
             {{\"keys\": [...]}} o una JWK",
            err.line(),
            err.column()
        ))
    })
}

/// How JWT access tokens are signed (with `--token-format jwt`).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TokenAlgArg {
    #[value(name = "EdDSA")]
    EdDSA,
    #[value(name = "ES256")]
    ES256,
    #[value(name = "RS256")]
    RS256,
}

impl From<TokenAlgArg> for AccessTokenAlg {
    fn from(arg: TokenAlgArg) -> AccessTokenAlg {
        match arg {
            TokenAlgArg::EdDSA => AccessTokenAlg::EdDSA,
            TokenAlgArg::ES256 => AccessTokenAlg::ES256,
            TokenAlgArg::RS256 => AccessTokenAlg::RS256,
        }
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum Verb {
    /// List the consumers (every page, or the first --limit).
    List {
        /// Only those whose name or Clave contains this text.
        #[arg(long)]
        search: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Show one consumer (never its secret).
    Get {
        /// Id, Clave or exact name.
        consumer: String,
    },
    /// Create a consumer; prints its secret this once.
    Create {
        #[arg(long)]
        name: String,
        /// Permission group, by name or id.
        #[arg(long)]
        group: String,
        /// Tipo de autorización.
        #[arg(long = "type", value_enum, default_value = "client_credentials")]
        grant_type: GrantArg,
        /// A callback URL (repeat for several); authorization_code needs one.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// Activar Fracttal Hub (Middleware).
        #[arg(long)]
        hub: bool,
        /// Shape of its access tokens.
        #[arg(long, value_enum, default_value = "opaque")]
        token_format: TokenFormatArg,
        /// Signature of JWT access tokens (RS256 is the one every validator accepts).
        #[arg(long, value_enum, default_value = "EdDSA")]
        token_alg: TokenAlgArg,
        /// Método de autenticación: a Secreto, or a key pair (private-key-jwt).
        #[arg(long = "auth", value_enum, default_value = "secret")]
        auth_method: AuthArg,
        /// The public keys of a private-key-jwt consumer: a file with a JWKS or one JWK
        /// (`-` reads standard input). Never the private key.
        #[arg(long, value_name = "FILE", conflicts_with = "jwks_uri")]
        jwks: Option<String>,
        /// Or the https:// URL where a private-key-jwt consumer publishes its JWKS, fetched
        /// when a token is asked for (and kept as its Cache-Control says).
        #[arg(long, value_name = "URL")]
        jwks_uri: Option<String>,
        /// Issue it only DPoP-bound tokens (RFC 9449): a token request without a DPoP proof
        /// is refused.
        #[arg(long)]
        require_dpop: bool,
    },
    /// Change a consumer's fields; those not given stay as they are.
    Update {
        /// Id, Clave or exact name.
        consumer: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Permission group, by name or id.
        #[arg(long)]
        group: Option<String>,
        /// Turn Fracttal Hub on.
        #[arg(long, conflicts_with = "no_hub")]
        hub: bool,
        /// Turn Fracttal Hub off.
        #[arg(long)]
        no_hub: bool,
        /// Replace the callback URLs with these (repeat for several).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        #[arg(long, value_enum)]
        token_format: Option<TokenFormatArg>,
        /// Signature of JWT access tokens.
        #[arg(long, value_enum)]
        token_alg: Option<TokenAlgArg>,
        /// Replace a private-key-jwt consumer's public keys with this JWKS file (`-`:
        /// standard input). To roll a key over, register the new one beside the old, then
        /// the new one alone.
        #[arg(long, value_name = "FILE", conflicts_with = "jwks_uri")]
        jwks: Option<String>,
        /// Take a private-key-jwt consumer's keys from this https:// URL from now on (its
        /// registered JWKS is dropped).
        #[arg(long, value_name = "URL")]
        jwks_uri: Option<String>,
        /// Issue it only DPoP-bound tokens from now on.
        #[arg(long, conflicts_with = "no_require_dpop")]
        require_dpop: bool,
        /// Let it get bearer tokens again.
        #[arg(long)]
        no_require_dpop: bool,
    },
    /// Delete a consumer: its secret stops working at once.
    Delete {
        /// Id, Clave or exact name.
        consumer: String,
        /// Do not ask (needed without a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// The clients that registered themselves and wait for approval, oldest first.
    Pending,
    /// Let a pending client in, into a permission group.
    Approve {
        /// Id, Clave (client_id) or exact name.
        consumer: String,
        /// Permission group, by name or id.
        #[arg(long)]
        group: String,
    },
    /// Refuse a pending client: it stays, rejected, and gets nothing.
    Reject {
        /// Id, Clave (client_id) or exact name.
        consumer: String,
    },
    /// The policy for clients that register themselves (shown, or set with --policy).
    Registration {
        /// off: nobody registers; approval: new clients wait as Pendiente; open: they go
        /// straight into --group.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["off", "approval", "open"]))]
        policy: Option<String>,
        /// The group new clients go into (proposed, under approval), by name or id.
        #[arg(long, requires = "policy")]
        group: Option<String>,
    },
    /// Let the consumer get tokens again.
    Enable { consumer: String },
    /// Stop the consumer from getting tokens.
    Disable { consumer: String },
    /// A new secret, printed this once (a private-key-jwt consumer has none: give it new
    /// keys with `update --jwks`).
    RotateSecret {
        /// Id, Clave or exact name.
        consumer: String,
        /// How long the previous secret keeps working: 90s, 30m, 1h, 7d (default: 0).
        #[arg(long, value_parser = parse_grace, default_value = "0")]
        grace: u32,
        /// Also revoke the access tokens issued so far.
        #[arg(long)]
        revoke_tokens: bool,
    },
}

/// `90`, `90s`, `30m`, `1h` or `7d` as seconds.
pub fn parse_grace(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let scale: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("«{text}»: use segundos o 90s, 30m, 1h, 7d")),
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("«{text}»: use segundos o 90s, 30m, 1h, 7d"))?;
    let seconds = number.saturating_mul(scale);
    if seconds > u64::from(MAX_GRACE_SECONDS) {
        return Err(format!("«{text}»: como máximo 30d"));
    }
    u32::try_from(seconds).map_err(|_| format!("«{text}»: como máximo 30d"))
}

pub const HEADERS: [&str; 6] = [
    "Nombre",
    "Clave",
    "Tipo",
    "Grupo de permisos",
    "Fecha de creación",
    "Estado",
];

fn state(consumer: &Consumer) -> Cell {
    if consumer.approval != Approval::Approved {
        return Cell::toned(consumer.approval.label_es(), Tone::Plain);
    }
    if consumer.enabled {
        Cell::toned("Activo", Tone::Good)
    } else {
        Cell::toned("Inactivo", Tone::Dim)
    }
}

pub fn row(c: &Consumer) -> Vec<Cell> {
    vec![
        Cell::text(&c.name),
        Cell::text(&c.client_id),
        Cell::text(c.grant_type.label_es()),
        Cell::text(&c.permission_group_name),
        Cell::text(&c.created_at.format("%Y-%m-%d %H:%M").to_string()),
        state(c),
    ]
}

fn fields(c: &Consumer) -> Vec<(&'static str, Cell)> {
    let mut fields = vec![
        ("ID", Cell::text(&c.id.to_string())),
        ("Nombre", Cell::text(&c.name)),
        ("Descripción", Cell::text(&c.description)),
        ("Clave", Cell::text(&c.client_id)),
        ("Secreto", secret_cell(c)),
        ("Autenticación", Cell::text(c.auth_method.label_es())),
        (
            "Solo tokens DPoP",
            Cell::text(if c.require_dpop { "Sí" } else { "No" }),
        ),
        ("Tipo", Cell::text(c.grant_type.label_es())),
        ("Origen", Cell::text(c.origin.label_es())),
        ("Aprobación", Cell::text(c.approval.label_es())),
        ("URL de retorno", Cell::text(&c.redirect_uris.join("; "))),
        ("Grupo de permisos", Cell::text(&c.permission_group_name)),
        (
            "Fracttal Hub",
            Cell::text(if c.hub_enabled { "Sí" } else { "No" }),
        ),
        ("Formato de token", Cell::text(c.token_format.as_str())),
        (
            "Algoritmo de firma",
            Cell::text(c.access_token_alg.as_str()),
        ),
        ("URL de retorno", Cell::text(&c.redirect_uris.join(" "))),
        ("Estado", state(c)),
        ("Fecha de creación", Cell::text(&c.created_at.to_rfc3339())),
        ("Creado por", Cell::text(&c.created_by)),
        ("Actualizado", Cell::text(&c.updated_at.to_rfc3339())),
    ];
    if c.auth_method == AuthMethod::PrivateKeyJwt {
        fields.insert(7, ("Claves públicas", Cell::text(&key_lines(c))));
    }
    fields
}

fn secret_cell(c: &Consumer) -> Cell {
    match c.auth_method {
        AuthMethod::ClientSecret => Cell::text(&format!("…{}", c.secret_last_four)),
        AuthMethod::PrivateKeyJwt => Cell::toned("ninguno (Clave privada)", Tone::Dim),
        AuthMethod::Public => Cell::toned("ninguno (cliente público)", Tone::Dim),
    }
}

/// Each registered public key (kid, algorithm, RFC 7638 thumbprint), "; " between them.
fn key_lines(c: &Consumer) -> String {
    if let Some(uri) = &c.jwks_uri {
        return format!("publicadas en {uri}");
    }
    c.jwks
        .iter()
        .flat_map(|keys| keys.keys())
        .map(|key| key.summary())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every consumer that matches, page by page. A page that fails fails the whole list:
/// a broken connection never looks like the end of it.
async fn list(
    client: &Client,
    search: Option<String>,
    limit: Option<u32>,
) -> CliResult<Vec<Consumer>> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let want = limit.map(|l| l.saturating_sub(items.len() as u32));
        if want == Some(0) {
            break;
        }
        let page = client
            .consumers(&ConsumerQuery {
                q: search.clone(),
                limit: Some(want.unwrap_or(MAX_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE)),
                cursor,
            })
            .await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(next) if !next.is_empty() => cursor = Some(next),
            _ => break,
        }
    }
    if let Some(limit) = limit {
        items.truncate(limit as usize);
    }
    Ok(items)
}

/// The consumer named by id, Clave or exact name.
pub async fn find(client: &Client, given: &str) -> CliResult<Consumer> {
    if let Ok(id) = Uuid::parse_str(given.trim()) {
        return Ok(client.consumer(id).await?);
    }
    let candidates = list(client, Some(given.trim().to_string()), None).await?;
    resolve::pick(("consumidor", "consumidores"), given, candidates, |c| {
        (c.id.to_string(), vec![c.name.clone(), c.client_id.clone()])
    })
}

/// A client to decide on: among the pending ones by id, exact Clave (a metadata
/// document's URL may be longer than a search takes) or exact name; else as [`find`] does.
async fn find_pending(client: &Client, given: &str) -> CliResult<Consumer> {
    let given_trimmed = given.trim();
    let pending = client.pending_consumers().await?;
    if let Some(found) = pending.into_iter().find(|c| {
        c.id.to_string() == given_trimmed || c.client_id == given_trimmed || c.name == given_trimmed
    }) {
        return Ok(found);
    }
    find(client, given).await
}

pub async fn run(client: Client, out: Printer, verb: Verb) -> CliResult {
    match verb {
        Verb::List { search, limit } => {
            let items = list(&client, search, limit).await?;
            out.list(&items, |c| c.id.to_string(), &HEADERS, row)
        }
        Verb::Get { consumer } => {
            let c = find(&client, &consumer).await?;
            out.one(&c, &c.id.to_string(), fields(&c))
        }
        Verb::Create {
            name,
            group,
            grant_type,
            redirect_uris,
            description,
            hub,
            token_format,
            token_alg,
            auth_method,
            jwks,
            jwks_uri,
            require_dpop,
        } => {
            if matches!(auth_method, AuthArg::PrivateKeyJwt) && jwks.is_none() && jwks_uri.is_none()
            {
                return Err(Failure::Usage(
                    "--auth private-key-jwt necesita --jwks FILE o --jwks-uri URL".into(),
                ));
            }
            let jwks = jwks.as_deref().map(read_jwks).transpose()?;
            let group = groups::find(&client, &group).await?;
            let created = client
                .create_consumer(&NewConsumer {
                    name,
                    description,
                    grant_type: grant_type.into(),
                    permission_group_id: group.id,
                    hub_enabled: hub,
                    redirect_uris,
                    token_format: token_format.into(),
                    access_token_alg: token_alg.into(),
                    auth_method: auth_method.into(),
                    jwks,
                    jwks_uri,
                    require_dpop,
                })
                .await?;
            let mut shown = fields(&created.consumer);
            let Some(secret) = &created.client_secret else {
                // A key pair's consumer: nothing secret was made, nothing to warn of.
                return out.one(&created, &created.consumer.id.to_string(), shown);
            };
            shown[4] = ("Secreto", Cell::text(secret.expose()));
            out.one(&created, &created.consumer.id.to_string(), shown)?;
            if out.quiet {
                out.warn(
                    "con -q no se imprimió el secreto; obtenga uno nuevo con \
                     `consola consumers rotate-secret`",
                )?;
            } else {
                out.secret_warning()?;
            }
            Ok(())
        }
        Verb::Update {
            consumer,
            name,
            description,
            group,
            hub,
            no_hub,
            redirect_uris,
            token_format,
            token_alg,
            jwks,
            jwks_uri,
            require_dpop,
            no_require_dpop,
        } => {
            let jwks = jwks.as_deref().map(read_jwks).transpose()?;
            let current = find(&client, &consumer).await?;
            let permission_group_id = match group {
                Some(group) => Some(groups::find(&client, &group).await?.id),
                None => None,
            };
            let patch = ConsumerPatch {
                name,
                description,
                permission_group_id,
                hub_enabled: (hub || no_hub).then_some(hub),
                enabled: None,
                redirect_uris: (!redirect_uris.is_empty()).then_some(redirect_uris),
                token_format: token_format.map(Into::into),
                access_token_alg: token_alg.map(Into::into),
                jwks,
                jwks_uri,
                require_dpop: (require_dpop || no_require_dpop).then_some(require_dpop),
            };
            if patch.is_empty() {
                return Err(Failure::Usage(
                    "nada que cambiar: indique al menos un campo (vea --help)".into(),
                ));
            }
            let updated = client
                .update_consumer(current.id, &patch, Some(current.version))
                .await?;
            out.one(&updated, &updated.id.to_string(), fields(&updated))
        }
        Verb::Pending => {
            let items = client.pending_consumers().await?;
            out.list(&items, |c| c.id.to_string(), &HEADERS, row)
        }
        Verb::Approve { consumer, group } => {
            let c = find_pending(&client, &consumer).await?;
            let group = groups::find(&client, &group).await?;
            let approved = client.approve_consumer(c.id, group.id).await?;
            out.one(&approved, &approved.id.to_string(), fields(&approved))?;
            out.note(&format!(
                "«{}» aprobado en el grupo «{}»",
                crate::terminal::clean(&approved.name),
                crate::terminal::clean(&group.name)
            ))
        }
        Verb::Reject { consumer } => {
            let c = find_pending(&client, &consumer).await?;
            let rejected = client.reject_consumer(c.id).await?;
            out.one(&rejected, &rejected.id.to_string(), fields(&rejected))?;
            out.note(&format!(
                "«{}» rechazado",
                crate::terminal::clean(&rejected.name)
            ))
        }
        Verb::Registration { policy, group } => {
            let settings = match policy {
                None => client.registration_settings().await?,
                Some(policy) => {
                    let group_id = match group {
                        Some(group) => Some(groups::find(&client, &group).await?.id),
                        None => client.registration_settings().await?.group_id,
                    };
                    client
                        .set_registration_settings(
                            &crate::domain::registration::RegistrationPatch {
                                policy: RegistrationPolicy::parse(&policy)
                                    .ok_or_else(|| Failure::failed("política desconocida"))?,
                                group_id,
                            },
                        )
                        .await?
                }
            };
            out.one(
                &settings,
                settings.policy.as_str(),
                vec![
                    ("Política", Cell::text(settings.policy.label_es())),
                    (
                        "Grupo de permisos",
                        Cell::text(settings.group_name.as_deref().unwrap_or("—")),
                    ),
                    ("Cambiada por", Cell::text(&settings.updated_by)),
                ],
            )
        }
        Verb::Enable { consumer } => set_enabled(&client, &out, &consumer, true).await,
        Verb::Disable { consumer } => set_enabled(&client, &out, &consumer, false).await,
        Verb::Delete { consumer, yes } => {
            let c = find(&client, &consumer).await?;
            let question = format!(
                "¿Eliminar el consumidor «{}»?",
                crate::terminal::clean(&c.name)
            );
            if !prompt::confirm(&question, yes, &out.streams)? {
                return Err(Failure::failed("cancelado: no se eliminó nada"));
            }
            client.delete_consumer(c.id).await?;
            if out.quiet {
                out.line(&c.id.to_string())?;
            }
            out.note(&format!("Consumidor «{}» eliminado", c.name))
        }
        Verb::RotateSecret {
            consumer,
            grace,
            revoke_tokens,
        } => {
            let c = find(&client, &consumer).await?;
            let rotated = client
                .rotate_secret(
                    c.id,
                    &RotateSecret {
                        grace_seconds: grace,
                        revoke_tokens,
                    },
                )
                .await?;
            let until = rotated
                .previous_secret_valid_until
                .map(|t| t.to_rfc3339())
                .unwrap_or_else(|| "ya no vale".into());
            out.one(
                &rotated,
                &c.id.to_string(),
                vec![
                    ("Clave", Cell::text(&c.client_id)),
                    ("Secreto", Cell::text(rotated.client_secret.expose())),
                    ("Secreto anterior", Cell::text(&until)),
                ],
            )?;
            if out.quiet {
                out.warn("con -q no se imprimió el secreto nuevo")?;
            } else {
                out.secret_warning()?;
            }
            Ok(())
        }
    }
}

async fn set_enabled(client: &Client, out: &Printer, given: &str, enabled: bool) -> CliResult {
    let current = find(client, given).await?;
    let updated = client
        .update_consumer(
            current.id,
            &ConsumerPatch {
                enabled: Some(enabled),
                ..Default::default()
            },
            Some(current.version),
        )
        .await?;
    out.one(&updated, &updated.id.to_string(), fields(&updated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_takes_units() {
        assert_eq!(parse_grace("90"), Ok(90));
        assert_eq!(parse_grace("30m"), Ok(1800));
        assert_eq!(parse_grace("1h"), Ok(3600));
        assert_eq!(parse_grace("7d"), Ok(7 * 86_400));
        assert!(parse_grace("1w").is_err());
        assert!(parse_grace("h").is_err());
        assert!(parse_grace("31d").is_err());
    }
}
