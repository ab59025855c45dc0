//! Property: no sequence of keys, pastes, resizes and API answers (successes carrying hostile
//! text, problems of every status, network failures, timeouts) makes `update` or the render
//! that follows it panic, at any terminal size down to 0×0.
//!
//! 10,000 sequences in all (`CASES`). Each starts from one of the states the other TUI tests
//! use (connecting, signed in, at the consumer table) so that random keys reach deep screens.

mod support;

use chrono::NaiveDate;
use consola::client::ClientError;
use consola::domain::secret::SecretText;
use consola::domain::*;
use consola::tui::Lang;
use consola::tui::action::Action;
use consola::tui::api::{Request, Response};
use consola::tui::state::State;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use support::*;
use uuid::Uuid;

const CASES: u32 = 10_000;
const MAX_STEPS: usize = 24;

#[derive(Debug, Clone)]
enum Start {
    Fresh(Lang),
    SignedIn(Role),
    Consumers(Role, u8),
}

#[derive(Debug, Clone)]
enum Step {
    Key(KeyCode, KeyModifiers),
    Paste(String),
    Resize(u16, u16),
    /// Answers the `pick`-th pending request (in id order), if any is pending.
    Answer(usize, Outcome),
    /// An answer to a request that is not (or no longer) pending.
    Stale(u64, Outcome),
    Tick,
    ToastExpired(u64),
    Copied(String, bool),
}

#[derive(Debug, Clone)]
enum Outcome {
    /// A success shaped like the request's answer, its text fields filled with `text`, `n`
    /// items in lists and `n`-derived numbers.
    Ok(String, u64),
    Problem {
        status: u16,
        code: Option<String>,
        detail: String,
        errors: Vec<(String, String)>,
    },
    Network(String),
    Timeout,
    Decode(String),
}

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        2 => "\\PC{0,40}",
        1 => Just(String::new()),
        1 => Just("\u{1b}[2J\u{1b}[H\u{1b}]52;c;SGVsbG8=\u{7}\u{1b}[?1049l".to_string()),
        1 => Just("مرحبا بالعالم שלום עולם \u{202e}evil\u{202c}".to_string()),
        1 => Just("👩‍👩‍👧‍👦🏳️‍🌈 e\u{301}\u{302}\u{303}\u{304} 漢字テスト全角".to_string()),
        1 => Just("\0\t\r\n\u{7f}\u{85}\u{2028}\u{200b}\u{feff}".to_string()),
        1 => (1usize..3000).prop_map(|n| "W".repeat(n)),
        1 => (1usize..400).prop_map(|n| "字".repeat(n)),
        1 => (1usize..200).prop_map(|n| "a\n\tb".repeat(n)),
    ]
}

fn key() -> impl Strategy<Value = (KeyCode, KeyModifiers)> {
    let code = prop_oneof![
        6 => any::<char>().prop_map(KeyCode::Char),
        6 => prop::sample::select(vec![
            'j', 'k', 'q', 'm', 'c', 'd', 'r', 'e', 'x', 'y', 'n', 's', '+', '/', '?', ' ', 'a',
        ])
        .prop_map(KeyCode::Char),
        1 => (0u8..=24).prop_map(KeyCode::F),
        8 => prop::sample::select(vec![
            KeyCode::Up,
            KeyCode::Down,
            KeyCode::Left,
            KeyCode::Right,
            KeyCode::Enter,
            KeyCode::Esc,
            KeyCode::Tab,
            KeyCode::BackTab,
            KeyCode::Backspace,
            KeyCode::Delete,
            KeyCode::Home,
            KeyCode::End,
            KeyCode::PageUp,
            KeyCode::PageDown,
            KeyCode::Insert,
            KeyCode::Null,
            KeyCode::CapsLock,
            KeyCode::Menu,
        ]),
    ];
    let modifiers = prop_oneof![
        6 => Just(KeyModifiers::NONE),
        1 => Just(KeyModifiers::SHIFT),
        2 => Just(KeyModifiers::CONTROL),
        1 => Just(KeyModifiers::ALT),
        1 => (0u8..=255).prop_map(KeyModifiers::from_bits_truncate),
    ];
    prop_oneof![
        5 => (code, modifiers),
        // Ctrl+letter: Ctrl+S, Ctrl+C, Ctrl+R and friends.
        2 => (b'a'..=b'z').prop_map(|c| (KeyCode::Char(char::from(c)), KeyModifiers::CONTROL)),
    ]
}

fn size() -> impl Strategy<Value = (u16, u16)> {
    prop_oneof![
        1 => Just((0, 0)),
        1 => (0u16..3, 0u16..3),
        1 => (0u16..200, 0u16..5),
        1 => (0u16..5, 0u16..80),
        2 => (60u16..130, 15u16..45),
        2 => prop::sample::select(vec![(80, 24), (120, 40), (79, 24), (80, 23), (1, 1), (250, 80)]),
    ]
}

fn outcome() -> impl Strategy<Value = Outcome> {
    let field = prop::sample::select(vec![
        "name",
        "description",
        "permission_group_id",
        "redirect_uris",
        "username",
        "password",
        "display_name",
        "account_name",
        "grace_seconds",
        "unknown_field",
    ]);
    prop_oneof![
        6 => (hostile_text(), 0u64..60).prop_map(|(text, n)| Outcome::Ok(text, n)),
        1 => (hostile_text(), any::<u64>()).prop_map(|(text, n)| Outcome::Ok(text, n % 400)),
        4 => (
            prop::sample::select(vec![400u16, 401, 403, 404, 409, 412, 413, 422, 429, 500, 502, 503]),
            prop::option::of(prop::sample::select(vec![
                "modified".to_string(),
                "name_taken".to_string(),
                "validation".to_string(),
            ])),
            hostile_text(),
            prop::collection::vec((field.prop_map(String::from), hostile_text()), 0..4),
        )
            .prop_map(|(status, code, detail, errors)| Outcome::Problem {
                status,
                code,
                detail,
                errors,
            }),
        1 => hostile_text().prop_map(Outcome::Network),
        1 => Just(Outcome::Timeout),
        1 => hostile_text().prop_map(Outcome::Decode),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        12 => key().prop_map(|(code, modifiers)| Step::Key(code, modifiers)),
        1 => hostile_text().prop_map(Step::Paste),
        2 => size().prop_map(|(w, h)| Step::Resize(w, h)),
        6 => (0usize..8, outcome()).prop_map(|(pick, outcome)| Step::Answer(pick, outcome)),
        1 => (any::<u64>(), outcome()).prop_map(|(id, outcome)| Step::Stale(id, outcome)),
        1 => Just(Step::Tick),
        1 => (0u64..8).prop_map(Step::ToastExpired),
        1 => (hostile_text(), any::<bool>()).prop_map(|(what, ok)| Step::Copied(what, ok)),
    ]
}

fn start() -> impl Strategy<Value = Start> {
    let role = prop::sample::select(vec![Role::SuperAdmin, Role::Admin, Role::ReadOnly]);
    prop_oneof![
        1 => prop::sample::select(vec![Lang::Es, Lang::En]).prop_map(Start::Fresh),
        1 => role.clone().prop_map(Start::SignedIn),
        3 => (role, 0u8..8).prop_map(|(role, n)| Start::Consumers(role, n)),
    ]
}

fn initial(start: &Start) -> State {
    match start {
        Start::Fresh(lang) => new_state(*lang),
        Start::SignedIn(role) => signed_in(*role),
        Start::Consumers(role, n) => at_consumers(*role, u128::from(*n)),
    }
}

fn hostile_consumer(i: u64, text: &str) -> Consumer {
    let mut c = consumer(u128::from(i), text);
    c.description = text.to_string();
    c.permission_group_name = text.to_string();
    c.client_id = text.chars().take(64).collect();
    c.created_by = text.to_string();
    c.secret_last_four = text.chars().take(4).collect();
    c.redirect_uris = vec![text.to_string()];
    c.hub_enabled = i.is_multiple_of(2);
    c.grant_type = if i.is_multiple_of(2) {
        GrantType::AuthorizationCode
    } else {
        GrantType::ClientCredentials
    };
    // Every third one has a key pair instead of a Secreto, its key named by the text.
    if i % 3 == 1 {
        let jwk = serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            "kid": text,
        });
        c.auth_method = AuthMethod::PrivateKeyJwt;
        c.jwks = ClientKeys::parse(&jwk).ok();
        c.secret_last_four = String::new();
    }
    c
}

/// A consumer that registered itself, by registration or by its metadata document (then
/// its Clave is the hostile text as a URL), with this approval.
fn self_registered(mut c: Consumer, i: u64, approval: Approval) -> Consumer {
    c.approval = approval;
    if i.is_multiple_of(2) {
        c.origin = ConsumerOrigin::Registration;
    } else {
        c.origin = ConsumerOrigin::MetadataDocument;
        c.client_id = format!("https://{}/c.json", c.client_id);
    }
    c
}

fn hostile_resource(n: u128, text: &str) -> ProtectedResource {
    ProtectedResource {
        id: Uuid::from_u128(n),
        name: text.to_string(),
        url: text.to_string(),
        created_at: at(),
        created_by: text.to_string(),
    }
}

fn hostile_group(i: u64, text: &str) -> PermissionGroup {
    let mut g = group(u128::from(i), text);
    g.description = text.to_string();
    g.read_only = i % 2 == 1;
    g.permissions = vec![ModulePermission {
        module: text.to_string(),
        actions: vec![consola::domain::Action::View],
    }];
    g
}

fn hostile_user(i: u64, text: &str, role: Role) -> User {
    User {
        id: Uuid::from_u128(u128::from(i)),
        username: text.to_string(),
        display_name: text.to_string(),
        role,
        disabled: i.is_multiple_of(2),
        created_at: at(),
        updated_at: at(),
        version: 1,
    }
}

fn session_user(text: &str, n: u64) -> SessionUser {
    SessionUser {
        id: Uuid::from_u128(7),
        username: text.to_string(),
        display_name: text.to_string(),
        role: [Role::SuperAdmin, Role::Admin, Role::ReadOnly][(n % 3) as usize],
    }
}

fn page<T>(items: Vec<T>, n: u64, text: &str) -> Page<T> {
    Page {
        items,
        next_cursor: n.is_multiple_of(2).then(|| text.to_string()),
        total: n.wrapping_mul(1_000_003),
    }
}

/// A key with a name and fingerprint from the hostile texts.
fn hostile_ssh_key(n: u128, text: &str) -> consola::domain::ssh_key::SshKey {
    consola::domain::ssh_key::SshKey {
        id: uuid::Uuid::from_u128(n),
        name: text.to_string(),
        fingerprint: format!("SHA256:{text}"),
        created_at: at(),
    }
}

/// A success shaped like what the server answers to `request`.
fn success(request: &Request, text: &str, n: u64) -> Response {
    let count = n % 12;
    let role = [Role::SuperAdmin, Role::Admin, Role::ReadOnly][(n % 3) as usize];
    match request {
        Request::SetupStatus => Response::SetupStatus(SetupStatus {
            needed: n.is_multiple_of(2),
        }),
        Request::Setup(_) => Response::SetupDone(session_user(text, n)),
        Request::Login { .. } => Response::LoggedIn(LoginResponse {
            token: SecretText::new("consola_st_SESION-FICTICIA".into()),
            expires_at: at(),
            user: session_user(text, n),
        }),
        Request::Logout => Response::LoggedOut,
        Request::Account | Request::UpdateAccount(_) => Response::Account(Account {
            name: text.to_string(),
            created_at: at(),
        }),
        Request::ChangePassword(_) => Response::PasswordChanged,
        Request::SshKeys => Response::SshKeys(
            (0..count)
                .map(|i| hostile_ssh_key(i as u128, text))
                .collect(),
        ),
        Request::AddSshKey(_) => Response::SshKeyAdded(hostile_ssh_key(n as u128, text)),
        Request::DeleteSshKey(id) => Response::SshKeyDeleted(*id),
        Request::Dashboard(_) => Response::Dashboard(Dashboard {
            since: at(),
            until: at(),
            consumers: n,
            enabled_consumers: n.wrapping_mul(u64::MAX / 7),
            permission_groups: u64::MAX,
            users: n,
            tokens_issued: u64::MAX - n,
            failed_authentications: n,
            series: (0..n)
                .map(|i| DashboardPoint {
                    day: NaiveDate::from_ymd_opt(2024, 3, 1).expect("date")
                        + chrono::Days::new(i % 40),
                    tokens_issued: if i % 5 == 0 { u64::MAX } else { i * 7 },
                    failed_authentications: i,
                })
                .collect(),
        }),
        Request::ApiKey => Response::ApiKey(ApiKey {
            key: text.to_string(),
            created_at: at(),
        }),
        Request::ApiKeySecret | Request::RegenerateApiKey => Response::ApiKeySecret(ApiKeySecret {
            key: text.to_string(),
            secret: SecretText::new(FAKE_SECRET.into()),
            created_at: at(),
        }),
        Request::Modules => Response::Modules(
            (0..count)
                .map(|i| Module {
                    id: format!("{text}{i}"),
                    name: text.to_string(),
                })
                .collect(),
        ),
        Request::Groups => {
            Response::Groups((0..count).map(|i| hostile_group(i + 1, text)).collect())
        }
        Request::CreateGroup(_) | Request::UpdateGroup(..) => {
            Response::Group(hostile_group(n, text))
        }
        Request::Users => Response::Users(
            (0..count)
                .map(|i| {
                    hostile_user(
                        i,
                        text,
                        [Role::SuperAdmin, Role::Admin, Role::ReadOnly][(i % 3) as usize],
                    )
                })
                .collect(),
        ),
        Request::CreateUser(_) | Request::UpdateUser(..) => {
            Response::User(hostile_user(n, text, role))
        }
        Request::Consumers(_) => Response::Consumers(page(
            (0..n).map(|i| hostile_consumer(i, text)).collect(),
            n,
            text,
        )),
        Request::Consumer(_) | Request::UpdateConsumer { .. } => {
            Response::Consumer(hostile_consumer(n, text))
        }
        Request::CreateConsumer(_) => {
            let consumer = hostile_consumer(n, text);
            let client_secret = (consumer.auth_method == AuthMethod::ClientSecret)
                .then(|| SecretText::new(FAKE_SECRET.into()));
            Response::ConsumerCreated(CreatedConsumer {
                consumer,
                client_secret,
            })
        }
        Request::DeleteConsumer(id) => Response::ConsumerDeleted(*id),
        Request::SigningKeys | Request::RotateSigningKey => {
            let keys = (0..count)
                .map(|i| consola::domain::oauth::SigningKeyInfo {
                    kid: format!("{text}{i}"),
                    alg: Default::default(),
                    created_at: at(),
                    current: i == 0,
                })
                .collect();
            if matches!(request, Request::SigningKeys) {
                Response::SigningKeys(keys)
            } else {
                Response::SigningKeyRotated(keys)
            }
        }
        Request::DeleteUser(id) => Response::UserDeleted(*id),
        Request::DeleteGroup(id) => Response::GroupDeleted(*id),
        Request::RotateSecret(id, _) => Response::SecretRotated(
            *id,
            RotatedSecret {
                client_secret: SecretText::new(FAKE_SECRET.into()),
                secret_last_four: text.chars().take(4).collect(),
                previous_secret_valid_until: n.is_multiple_of(2).then(at),
            },
        ),
        Request::PendingConsumers => Response::PendingConsumers(
            (0..count)
                .map(|i| self_registered(hostile_consumer(i, text), i, Approval::Pending))
                .collect(),
        ),
        Request::ApproveConsumer(..) | Request::RejectConsumer(_) => {
            let approval = if matches!(request, Request::RejectConsumer(_)) {
                Approval::Rejected
            } else {
                Approval::Approved
            };
            Response::Decided(self_registered(hostile_consumer(n, text), n, approval))
        }
        Request::RegistrationSettings | Request::SetRegistrationSettings(_) => {
            Response::RegistrationSettings(consola::domain::registration::RegistrationSettings {
                policy: RegistrationPolicy::ALL[(n % 3) as usize],
                group_id: n.is_multiple_of(2).then(|| Uuid::from_u128(u128::from(n))),
                group_name: Some(text.to_string()),
                updated_at: at(),
                updated_by: text.to_string(),
            })
        }
        Request::Resources => Response::Resources(
            (0..count)
                .map(|i| hostile_resource(u128::from(i), text))
                .collect(),
        ),
        Request::CreateResource(_) => {
            Response::ResourceCreated(hostile_resource(u128::from(n), text))
        }
        Request::DeleteResource(id) => Response::ResourceDeleted(*id),
        Request::Audit(_) => Response::Audit(page(
            (0..count)
                .map(|i| AuditEvent {
                    id: i as i64,
                    at: at(),
                    ip: text.to_string(),
                    actor: Actor {
                        kind: text.to_string(),
                        name: text.to_string(),
                    },
                    action: AuditAction::Edit,
                    module: text.to_string(),
                    target: text.to_string(),
                    description: text.to_string(),
                })
                .collect(),
            n,
            text,
        )),
    }
}

fn result(request: Option<&Request>, outcome: &Outcome) -> Result<Response, ClientError> {
    match outcome {
        Outcome::Ok(text, n) => Ok(success(request.unwrap_or(&Request::Logout), text, *n)),
        Outcome::Problem {
            status,
            code,
            detail,
            errors,
        } => Err(ClientError::Api(Problem {
            kind: code
                .as_ref()
                .map_or_else(|| "about:blank".to_string(), |c| format!("urn:consola:{c}")),
            title: detail.chars().rev().collect(),
            status: *status,
            detail: detail.clone(),
            errors: errors.iter().cloned().collect(),
        })),
        Outcome::Network(text) => Err(ClientError::Network(text.clone())),
        Outcome::Timeout => Err(ClientError::Timeout),
        Outcome::Decode(text) => Err(ClientError::Decode(text.clone())),
    }
}

fn apply(state: &mut State, step: &Step) {
    match step {
        Step::Key(code, modifiers) => {
            if let Some(action) = state.key_action(KeyEvent::new(*code, *modifiers)) {
                state.update(action);
            }
        }
        Step::Paste(text) => state.update(Action::Paste(text.clone())),
        Step::Resize(w, h) => state.update(Action::Resize(*w, *h)),
        Step::Answer(pick, outcome) => {
            let mut ids: Vec<_> = state.ctx.pending.keys().copied().collect();
            ids.sort_unstable();
            if ids.is_empty() {
                return;
            }
            let id = ids[pick % ids.len()];
            let result = result(state.ctx.pending.get(&id), outcome);
            state.update(Action::Api { id, result });
        }
        Step::Stale(id, outcome) => {
            if state.ctx.pending.contains_key(id) {
                return;
            }
            state.update(Action::Api {
                id: *id,
                result: result(None, outcome),
            });
        }
        Step::Tick => state.update(Action::Tick),
        Step::ToastExpired(id) => {
            let id = state
                .ctx
                .toast
                .as_ref()
                .map_or(*id, |(shown, _)| shown + id % 2);
            state.update(Action::ToastExpired(id));
        }
        Step::Copied(what, ok) => state.update(Action::Copied {
            what: what.clone(),
            done: ok.then_some(consola::tui::clipboard::Delivery::Terminal),
        }),
    }
    // What the event loop does with effects it cannot perform here: forget them.
    state.ctx.effects.clear();
}

#[test]
fn random_sequences_never_panic() {
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (start(), prop::collection::vec(step(), 1..MAX_STEPS));
    runner
        .run(&strategy, |(start, steps)| {
            let mut state = initial(&start);
            let (w, h) = state.ctx.size;
            let mut terminal = Terminal::new(TestBackend::new(w, h))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            for step in &steps {
                apply(&mut state, step);
                let (w, h) = state.ctx.size;
                let area = terminal.backend().buffer().area;
                if (area.width, area.height) != (w, h) {
                    terminal.backend_mut().resize(w, h);
                }
                terminal
                    .draw(|frame| consola::tui::render::render(frame, &state))
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}
