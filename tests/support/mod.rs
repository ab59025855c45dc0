//! Shared by the TUI tests: fixed fake data (never real secrets), answering requests as the
//! server would, pressing keys, and drawing to a `TestBackend`.
#![allow(dead_code)]

use chrono::{NaiveDate, TimeZone, Utc};
use consola::domain::secret::SecretText;
use consola::domain::*;
use consola::tui::Lang;
use consola::tui::action::{Action, Effect};
use consola::tui::api::{Request, Response};
use consola::tui::state::State;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use uuid::Uuid;

pub const API_URL: &str = "http://127.0.0.1:8787";
/// As long as a real secret (60 characters), so layouts are tested at full width.
pub const FAKE_SECRET: &str = "consola_cs_SECRETO-FICTICIO-DE-PRUEBA-0000000000000000000000";

thread_local! {
    /// The language the fixtures sign in with (each test runs on its own thread).
    static LANG: std::cell::Cell<Lang> = const { std::cell::Cell::new(Lang::Es) };
}

/// From now on, on this thread, the fixtures run the console in `lang`.
pub fn set_lang(lang: Lang) {
    LANG.with(|l| l.set(lang));
}

pub fn lang() -> Lang {
    LANG.with(|l| l.get())
}

pub fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5)
        .single()
        .expect("fixed date")
}

pub fn new_state(lang: Lang) -> State {
    State::new(
        lang,
        API_URL.into(),
        NaiveDate::from_ymd_opt(2024, 3, 31).expect("fixed date"),
    )
}

/// Answers the oldest pending request named `name`.
pub fn answer(
    state: &mut State,
    name: &str,
    result: Result<Response, consola::client::ClientError>,
) {
    let mut ids: Vec<_> = state
        .ctx
        .pending
        .iter()
        .filter(|(_, r)| r.name() == name)
        .map(|(id, _)| *id)
        .collect();
    ids.sort_unstable();
    let id = *ids
        .first()
        .unwrap_or_else(|| panic!("no pending {name}: {:?}", state.ctx.pending));
    state.update(Action::Api { id, result });
}

pub fn ok(state: &mut State, name: &str, response: Response) {
    answer(state, name, Ok(response));
}

pub fn problem(status: u16, errors: &[(&str, &str)]) -> consola::client::ClientError {
    consola::client::ClientError::Api(Problem {
        // As the server names them.
        kind: match status {
            412 => "urn:consola:modified".into(),
            422 => "urn:consola:validation".into(),
            _ => "about:blank".into(),
        },
        title: "Error".into(),
        status,
        detail: "Datos inválidos".into(),
        errors: errors
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    })
}

/// The first screen once the server answered whether setup is needed: setup or login.
pub fn first_screen(lang: Lang, setup_needed: bool) -> State {
    let mut state = new_state(lang);
    ok(
        &mut state,
        "SetupStatus",
        Response::SetupStatus(SetupStatus {
            needed: setup_needed,
        }),
    );
    state
}

/// Ctrl+S: Guardar in any form.
pub fn ctrl_s(state: &mut State) {
    press_mod(state, KeyCode::Char('s'), KeyModifiers::CONTROL);
}

pub fn press(state: &mut State, code: KeyCode) {
    press_mod(state, code, KeyModifiers::NONE);
}

pub fn press_mod(state: &mut State, code: KeyCode, modifiers: KeyModifiers) {
    if let Some(action) = state.key_action(KeyEvent::new(code, modifiers)) {
        state.update(action);
    }
}

pub fn type_text(state: &mut State, text: &str) {
    for c in text.chars() {
        press(state, KeyCode::Char(c));
    }
}

pub fn group(n: u128, name: &str) -> PermissionGroup {
    PermissionGroup {
        id: Uuid::from_u128(n),
        name: name.into(),
        description: "Grupo de prueba".into(),
        read_only: false,
        permissions: vec![ModulePermission {
            module: "assets".into(),
            actions: vec![consola::domain::Action::View],
        }],
        consumer_count: 1,
        created_at: at(),
        updated_at: at(),
        version: 1,
    }
}

pub fn consumer(n: u128, name: &str) -> Consumer {
    Consumer {
        id: Uuid::from_u128(1000 + n),
        name: name.into(),
        description: "Integración de prueba".into(),
        grant_type: GrantType::ClientCredentials,
        permission_group_id: Uuid::from_u128(1),
        permission_group_name: "Integraciones".into(),
        hub_enabled: false,
        enabled: n % 3 != 2,
        token_format: TokenFormat::Opaque,
        access_token_alg: AccessTokenAlg::EdDSA,
        redirect_uris: vec![],
        client_id: format!("CLAVE-FICTICIA-{n:017}"),
        auth_method: Default::default(),
        jwks: None,
        jwks_uri: None,
        require_dpop: false,
        origin: Default::default(),
        approval: Default::default(),
        secret_last_four: "XXXX".into(),
        created_at: at(),
        created_by: "admin".into(),
        updated_at: at(),
        version: 1,
    }
}

/// A client that registered itself (RFC 7591) and waits for approval: a public client of
/// Código de autorización, proposed for the group "Integraciones".
pub fn pending_consumer(n: u128, name: &str) -> Consumer {
    Consumer {
        description: String::new(),
        grant_type: GrantType::AuthorizationCode,
        redirect_uris: vec!["http://127.0.0.1:9/cb".into()],
        auth_method: AuthMethod::Public,
        origin: ConsumerOrigin::Registration,
        approval: Approval::Pending,
        secret_last_four: String::new(),
        created_by: "registro dinámico".into(),
        enabled: true,
        ..consumer(n, name)
    }
}

/// A client known by its Client ID Metadata Document: its Clave is the document's URL and
/// its name the URL's host.
pub fn document_consumer(n: u128) -> Consumer {
    Consumer {
        client_id: "https://app.example.com/oauth/client.json".into(),
        redirect_uris: vec![
            "https://app.example.com/callback".into(),
            "http://127.0.0.1:33418/cb".into(),
        ],
        origin: ConsumerOrigin::MetadataDocument,
        ..pending_consumer(n, "app.example.com")
    }
}

/// The policy "Con aprobación", into the group "Integraciones".
pub fn registration_approval() -> consola::domain::registration::RegistrationSettings {
    consola::domain::registration::RegistrationSettings {
        policy: RegistrationPolicy::Approval,
        group_id: Some(Uuid::from_u128(1)),
        group_name: Some("Integraciones".into()),
        ..registration_off()
    }
}

/// Conexiones API → Recursos protegidos, with these resources listed.
pub fn at_resources(role: Role, resources: Vec<ProtectedResource>) -> State {
    let mut state = at_consumers(role, 1);
    press(&mut state, KeyCode::Right);
    ok(&mut state, "Resources", Response::Resources(resources));
    state.ctx.effects.clear();
    state
}

/// A protected resource of the fixtures.
pub fn resource(n: u128, name: &str, url: &str) -> ProtectedResource {
    ProtectedResource {
        id: Uuid::from_u128(5000 + n),
        name: name.into(),
        url: url.into(),
        created_at: at(),
        created_by: "ana".into(),
    }
}

/// A public Ed25519 key (RFC 8037 §A.2) in a JWKS, over several lines as a file holds it:
/// what an admin pastes for a `private_key_jwt` consumer. Public, so never a secret.
pub const JWKS: &str = "{\n  \"keys\": [\n    {\"kty\": \"OKP\", \"crv\": \"Ed25519\",\n     \"x\": \"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}\n  ]\n}\n";
/// The RFC 7638 thumbprint of that key.
pub const THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

/// A consumer that authenticates with a key pair (`private_key_jwt`): the key of `JWKS`
/// registered, no Secreto.
pub fn key_consumer(n: u128, name: &str) -> Consumer {
    let jwks = serde_json::from_str(JWKS).expect("JWKS is JSON");
    Consumer {
        auth_method: AuthMethod::PrivateKeyJwt,
        jwks: Some(ClientKeys::parse(&jwks).expect("a valid JWKS")),
        secret_last_four: String::new(),
        ..consumer(n, name)
    }
}

pub fn modules() -> Vec<Module> {
    module_catalog().to_vec()
}

/// A signed-in state at the dashboard, with groups and modules loaded.
pub fn signed_in(role: Role) -> State {
    let mut state = first_screen(lang(), false);
    let login = LoginResponse {
        token: SecretText::new("consola_st_SESION-FICTICIA".into()),
        expires_at: at(),
        user: SessionUser {
            id: Uuid::from_u128(7),
            username: "ana".into(),
            display_name: "Ana López".into(),
            role,
        },
    };
    state.ctx.pending.insert(
        999,
        Request::Login {
            username: "ana".into(),
            password: SecretText::new("x".into()),
        },
    );
    state.update(Action::Api {
        id: 999,
        result: Ok(Response::LoggedIn(login)),
    });
    ok(
        &mut state,
        "Account",
        Response::Account(Account {
            name: "FRACTTAL - Activación".into(),
            created_at: at(),
        }),
    );
    ok(
        &mut state,
        "Groups",
        Response::Groups(vec![group(1, "Integraciones"), group(2, "Solo reportes")]),
    );
    ok(&mut state, "Modules", Response::Modules(modules()));
    let dashboard = Dashboard {
        since: at(),
        until: at(),
        consumers: 12,
        enabled_consumers: 9,
        permission_groups: 2,
        users: 3,
        tokens_issued: 1234,
        failed_authentications: 5,
        series: (0..30u64)
            .map(|i| DashboardPoint {
                day: NaiveDate::from_ymd_opt(2024, 3, 1).expect("date") + chrono::Days::new(i),
                tokens_issued: (i * 7) % 23,
                failed_authentications: i % 3,
            })
            .collect(),
    };
    ok(&mut state, "Dashboard", Response::Dashboard(dashboard));
    state.ctx.effects.clear();
    state
}

/// From the dashboard to Configuración → Conexiones API → Consumidores OAuth, with `n` rows.
pub fn at_consumers(role: Role, n: u128) -> State {
    let names = [
        "ERP Central",
        "Portal de proveedores",
        "Sensores IoT",
        "BI Reportes",
    ];
    let items: Vec<Consumer> = (0..n)
        .map(|i| consumer(i, names[(i as usize) % names.len()]))
        .collect();
    at_consumers_with(role, items)
}

/// Like `at_consumers`, with these rows.
pub fn at_consumers_with(role: Role, items: Vec<Consumer>) -> State {
    at_consumers_registered(role, items, Vec::new(), registration_off())
}

/// Like `at_consumers_with`, with these clients waiting for approval and this policy.
pub fn at_consumers_registered(
    role: Role,
    items: Vec<Consumer>,
    pending: Vec<Consumer>,
    settings: consola::domain::registration::RegistrationSettings,
) -> State {
    let n = items.len();
    let mut state = signed_in(role);
    press(&mut state, KeyCode::Char('m'));
    press(&mut state, KeyCode::Enter);
    for _ in 0..9 {
        press(&mut state, KeyCode::Down);
    }
    press(&mut state, KeyCode::Enter);
    ok(
        &mut state,
        "ApiKey",
        Response::ApiKey(ApiKey {
            key: "APIKEY-FICTICIA-0001".into(),
            created_at: at(),
        }),
    );
    ok(
        &mut state,
        "Consumers",
        Response::Consumers(Page {
            items,
            next_cursor: None,
            total: n as u64,
        }),
    );
    answer_registration(&mut state, pending, settings);
    press(&mut state, KeyCode::Right);
    state.ctx.effects.clear();
    state
}

/// The policy as a fresh server has it: off, with no group.
pub fn registration_off() -> consola::domain::registration::RegistrationSettings {
    consola::domain::registration::RegistrationSettings {
        policy: RegistrationPolicy::Off,
        group_id: None,
        group_name: None,
        updated_at: at(),
        updated_by: "admin".into(),
    }
}

/// Answers what the consumer table asks besides its page, when it asked: the clients that
/// wait for approval, and the registration policy.
pub fn answer_registration(
    state: &mut State,
    pending: Vec<Consumer>,
    settings: consola::domain::registration::RegistrationSettings,
) {
    if state
        .ctx
        .pending
        .values()
        .any(|r| r.name() == "PendingConsumers")
    {
        ok(
            state,
            "PendingConsumers",
            Response::PendingConsumers(pending),
        );
    }
    if state
        .ctx
        .pending
        .values()
        .any(|r| r.name() == "RegistrationSettings")
    {
        ok(
            state,
            "RegistrationSettings",
            Response::RegistrationSettings(settings),
        );
    }
}

pub fn draw(state: &State, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| consola::tui::render::render(frame, state))
        .expect("draw");
    terminal
}

pub fn screen_text(state: &State, width: u16, height: u16) -> String {
    let terminal = draw(state, width, height);
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

pub fn copies(state: &State) -> Vec<(String, String)> {
    state
        .ctx
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Copy { text, what } => Some((what.clone(), text.expose().to_string())),
            _ => None,
        })
        .collect()
}

/// Configuración → Seguridad, showing two JWT signing keys (the first current).
pub fn at_security(role: Role) -> State {
    let mut state = signed_in(role);
    press(&mut state, KeyCode::Char('m'));
    press(&mut state, KeyCode::Enter);
    for _ in 0..8 {
        press(&mut state, KeyCode::Down);
    }
    press(&mut state, KeyCode::Enter);
    ok(
        &mut state,
        "SigningKeys",
        Response::SigningKeys(signing_keys(2)),
    );
    state.ctx.effects.clear();
    state
}

/// `n` signing keys, newest (current) first.
pub fn signing_keys(n: usize) -> Vec<consola::domain::oauth::SigningKeyInfo> {
    (0..n)
        .map(|i| consola::domain::oauth::SigningKeyInfo {
            kid: format!("KID-FICTICIO-{i}"),
            alg: Default::default(),
            created_at: at(),
            current: i == 0,
        })
        .collect()
}

/// Cuentas de Usuarios with three users (the first is the Súper Administrador).
pub fn at_users(role: Role) -> State {
    let mut state = signed_in(role);
    press(&mut state, KeyCode::Char('m'));
    press(&mut state, KeyCode::Enter);
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Enter);
    let users = vec![
        user(1, "ana", Role::SuperAdmin),
        user(2, "beto", Role::Admin),
        user(3, "caro", Role::ReadOnly),
    ];
    // Opening the section reloads what the role may see.
    if state.ctx.pending.values().any(|r| r.name() == "Users") {
        ok(&mut state, "Users", Response::Users(users));
    }
    if state.ctx.pending.values().any(|r| r.name() == "Groups") {
        ok(
            &mut state,
            "Groups",
            Response::Groups(vec![group(1, "Integraciones"), group(2, "Solo reportes")]),
        );
    }
    state.ctx.effects.clear();
    state
}

/// A user of the fixtures; the third one is disabled.
pub fn user(n: u128, name: &str, role: Role) -> User {
    User {
        id: Uuid::from_u128(n),
        username: name.into(),
        display_name: format!("{name} de prueba"),
        role,
        disabled: n == 3,
        created_at: at(),
        updated_at: at(),
        version: 1,
    }
}
