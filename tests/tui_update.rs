//! `update`: navigation, form editing, validation errors coming back, role-dependent actions,
//! clipboard effects and text from the server.

mod support;

use consola::domain::secret::SecretText;
use consola::domain::*;
use consola::tui::Lang;
use consola::tui::action::{Action, Command, Effect};
use consola::tui::api::{Request, Response};
use consola::tui::clipboard::Delivery;
use consola::tui::screens::api_key::ApiTab;
use consola::tui::screens::consumers::{ConsumerDialog, ConsumersScreen};
use consola::tui::screens::login::LoginScreen;
use consola::tui::screens::settings::Section;
use consola::tui::screens::setup::SetupScreen;
use consola::tui::state::{Phase, State, View};
use crossterm::event::{KeyCode, KeyModifiers};
use support::*;

#[test]
fn first_run_setup_checks_passwords_then_goes_to_login() {
    let mut state = first_screen(Lang::Es, true);
    type_text(&mut state, "Cuenta");
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "ana");
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "Ana");
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "clave-larga-1");
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "clave-larga-2");
    ctrl_s(&mut state);
    let Phase::Setup(SetupScreen { form }) = &state.phase else {
        panic!("still on setup")
    };
    assert!(form.field("password_again").unwrap().error.is_some());
    assert!(!state.ctx.pending.values().any(|r| r.name() == "Setup"));
    for _ in 0..13 {
        press(&mut state, KeyCode::Backspace);
    }
    type_text(&mut state, "clave-larga-1");
    ctrl_s(&mut state);
    ok(
        &mut state,
        "Setup",
        Response::SetupDone(SessionUser {
            id: uuid::Uuid::from_u128(1),
            username: "ana".into(),
            display_name: "Ana".into(),
            role: Role::SuperAdmin,
        }),
    );
    let Phase::Login(LoginScreen { form }) = &state.phase else {
        panic!("login expected")
    };
    assert_eq!(form.text("username"), "ana");
    assert_eq!(form.focused_name(), "password");
    // No third time: the console signs in with the password just chosen.
    let login = state.ctx.pending.values().find_map(|r| match r {
        Request::Login { username, password } => {
            Some((username.clone(), password.expose().to_string()))
        }
        _ => None,
    });
    assert_eq!(
        login,
        Some(("ana".to_string(), "clave-larga-1".to_string()))
    );
    ok(
        &mut state,
        "Login",
        Response::LoggedIn(LoginResponse {
            token: SecretText::new("consola_st_SESION-FICTICIA".into()),
            expires_at: at(),
            user: SessionUser {
                id: uuid::Uuid::from_u128(1),
                username: "ana".into(),
                display_name: "Ana".into(),
                role: Role::SuperAdmin,
            },
        }),
    );
    assert!(state.main().is_some(), "signed in");
}

#[test]
fn wrong_password_keeps_the_username() {
    let mut state = first_screen(Lang::Es, false);
    type_text(&mut state, "ana");
    press(&mut state, KeyCode::Enter);
    type_text(&mut state, "mala");
    press(&mut state, KeyCode::Enter);
    answer(&mut state, "Login", Err(problem(401, &[])));
    let Phase::Login(LoginScreen { form }) = &state.phase else {
        panic!("login expected")
    };
    assert_eq!(form.text("username"), "ana");
    assert_eq!(form.text("password"), "");
    assert_eq!(
        form.error.as_deref(),
        Some("Usuario o contraseña incorrectos")
    );
}

#[test]
fn menu_to_consumers_and_new_modal_focuses_first_field() {
    let mut state = signed_in(Role::SuperAdmin);
    press(&mut state, KeyCode::Char('m'));
    press(&mut state, KeyCode::Enter);
    assert_eq!(state.main().unwrap().view, View::Settings);
    for _ in 0..9 {
        press(&mut state, KeyCode::Char('j'));
    }
    assert_eq!(state.main().unwrap().settings.section, Section::Api);
    press(&mut state, KeyCode::Enter);
    assert!(state.main().unwrap().settings.in_content);
    assert!(state.ctx.pending.values().any(|r| r.name() == "Consumers"));
    press(&mut state, KeyCode::Right);
    assert_eq!(state.main().unwrap().settings.api.tab, ApiTab::Consumers);
    press(&mut state, KeyCode::Char('+'));
    let Some(ConsumerDialog::Edit(modal)) = &consumers(&state).dialog else {
        panic!("modal")
    };
    assert_eq!(modal.form.focused_name(), "grant_type");
    // Esc closes an untouched modal at once; Esc again goes back to the sidebar.
    press(&mut state, KeyCode::Esc);
    assert!(consumers(&state).dialog.is_none());
    press(&mut state, KeyCode::Esc);
    assert!(!state.main().unwrap().settings.in_content);
    press(&mut state, KeyCode::Esc);
    assert_eq!(state.main().unwrap().view, View::Dashboard);
}

#[test]
fn create_consumer_sends_every_field() {
    let mut state = at_consumers(Role::SuperAdmin, 1);
    press(&mut state, KeyCode::Char('+'));
    press(&mut state, KeyCode::Right); // Código de autorización
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "ERP");
    press(&mut state, KeyCode::Tab);
    state.update(Action::Paste("Integración\ncon ERP".into()));
    press(&mut state, KeyCode::Tab);
    press(&mut state, KeyCode::Right); // second group
    press(&mut state, KeyCode::Tab);
    press(&mut state, KeyCode::Char(' '));
    press(&mut state, KeyCode::Tab);
    press(&mut state, KeyCode::Right); // JWT
    press(&mut state, KeyCode::Tab); // Algoritmo de firma, shown for JWT
    press(&mut state, KeyCode::Right); // ES256
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "https://erp.example.com/cb");
    ctrl_s(&mut state);
    let request = state
        .ctx
        .pending
        .values()
        .find(|r| r.name() == "CreateConsumer")
        .cloned();
    let Some(Request::CreateConsumer(new)) = request else {
        panic!("no create request")
    };
    assert_eq!(new.name, "ERP");
    assert_eq!(new.description, "Integración con ERP");
    assert_eq!(new.grant_type, GrantType::AuthorizationCode);
    assert_eq!(new.permission_group_id, uuid::Uuid::from_u128(2));
    assert!(new.hub_enabled);
    assert_eq!(new.token_format, TokenFormat::Jwt);
    assert_eq!(new.access_token_alg, AccessTokenAlg::ES256);
    assert_eq!(
        new.redirect_uris,
        vec!["https://erp.example.com/cb".to_string()]
    );
}

#[test]
fn validation_errors_keep_what_was_typed() {
    let mut state = at_consumers(Role::SuperAdmin, 1);
    press(&mut state, KeyCode::Char('+'));
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "ERP Central");
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "desc");
    ctrl_s(&mut state);
    answer(
        &mut state,
        "CreateConsumer",
        Err(problem(422, &[("name", "Ya existe")])),
    );
    let Some(ConsumerDialog::Edit(modal)) = &consumers(&state).dialog else {
        panic!("modal closed")
    };
    assert_eq!(
        modal.form.field("name").unwrap().error.as_deref(),
        Some("Ya existe")
    );
    assert_eq!(modal.form.text("name"), "ERP Central");
    assert_eq!(modal.form.text("description"), "desc");
    assert_eq!(modal.form.focused_name(), "name");
    assert!(!modal.form.busy);
    let screen = screen_text(&state, 120, 40);
    assert!(screen.contains("⚠ Ya existe"));
}

#[test]
fn created_consumer_shows_secret_once_and_copies() {
    let mut state = at_consumers(Role::SuperAdmin, 1);
    press(&mut state, KeyCode::Char('+'));
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "Nuevo");
    ctrl_s(&mut state);
    ok(
        &mut state,
        "CreateConsumer",
        Response::ConsumerCreated(CreatedConsumer {
            consumer: consumer(5, "Nuevo"),
            client_secret: Some(SecretText::new(FAKE_SECRET.into())),
        }),
    );
    let screen = screen_text(&state, 120, 40);
    assert!(screen.contains(FAKE_SECRET));
    // Guardar is done: the bar offers Ctrl+S to close, not to save again.
    let bar = screen.lines().rev().nth(1).unwrap_or_default();
    assert!(
        bar.contains("Ctrl+S  Cerrar") && !bar.contains("Guardar"),
        "{bar}"
    );
    // Focus is on Clave: Enter copies it.
    press(&mut state, KeyCode::Enter);
    press(&mut state, KeyCode::Tab);
    press(&mut state, KeyCode::Char('c'));
    assert_eq!(
        copies(&state),
        vec![
            ("Copiado: Clave".to_string(), consumer(5, "x").client_id),
            ("Copiado: Secreto".to_string(), FAKE_SECRET.to_string()),
        ]
    );
    // The toast says how the copy went out, and no more than that.
    for (done, toast) in [
        (Delivery::Terminal, "Copiado: Clave (OSC 52)"),
        (Delivery::Tmux, "Copiado: Clave (OSC 52 vía tmux)"),
        (Delivery::Screen, "Copiado: Clave (OSC 52 vía screen)"),
        (Delivery::Local, "Copiado: Clave (portapapeles local)"),
    ] {
        state.update(Action::Copied {
            what: "Copiado: Clave".into(),
            done: Some(done),
        });
        assert_eq!(state.ctx.toast.as_ref().map(|t| t.1.as_str()), Some(toast));
    }
    state.update(Action::Copied {
        what: "Copiado: Clave".into(),
        done: None,
    });
    assert_eq!(
        state.ctx.toast.as_ref().map(|t| t.1.as_str()),
        Some("No se pudo copiar al portapapeles")
    );
    press(&mut state, KeyCode::Esc);
    assert!(consumers(&state).dialog.is_none(), "no question once saved");
    assert_eq!(consumers(&state).table.rows[0].name, "Nuevo");
}

/// A JWKS the server refuses (422 on `jwks`) shows beside the field, with the paste kept; once
/// created, the consumer has no Secreto to show or copy, and the table's `c` copies its Clave.
#[test]
fn a_private_key_consumer_shows_the_servers_jwks_error_and_copies_the_clave_only() {
    let mut state = at_consumers(Role::SuperAdmin, 1);
    press(&mut state, KeyCode::Char('+'));
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "Sensores IoT");
    for _ in 0..5 {
        press(&mut state, KeyCode::Tab);
    }
    press(&mut state, KeyCode::Right); // Clave privada (JWT)
    press(&mut state, KeyCode::Tab);
    state.update(Action::Paste(JWKS.into()));
    ctrl_s(&mut state);
    let request = state
        .ctx
        .pending
        .values()
        .find(|r| r.name() == "CreateConsumer")
        .cloned();
    let Some(Request::CreateConsumer(new)) = request else {
        panic!("no create request")
    };
    assert_eq!(new.auth_method, AuthMethod::PrivateKeyJwt);
    assert_eq!(new.jwks, Some(serde_json::from_str(JWKS).expect("JSON")));
    let refusal = "JWKS inválida: clave 1: es una clave privada; registre solo la pública";
    answer(
        &mut state,
        "CreateConsumer",
        Err(problem(422, &[("jwks", refusal)])),
    );
    let Some(ConsumerDialog::Edit(modal)) = &consumers(&state).dialog else {
        panic!("modal closed")
    };
    assert_eq!(
        modal.form.field("jwks").and_then(|f| f.error.as_deref()),
        Some(refusal)
    );
    assert_eq!(modal.form.focused_name(), "jwks");
    assert!(
        modal
            .form
            .text("jwks")
            .contains("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
    );
    assert_eq!(modal.form.text("name"), "Sensores IoT");
    let screen = screen_text(&state, 120, 40);
    let lines: Vec<&str> = screen.lines().collect();
    let field = lines
        .iter()
        .position(|l| l.contains("Claves públicas (JWKS)"))
        .expect("the JWKS field");
    assert!(
        lines[field + 1].contains("⚠ JWKS inválida"),
        "the error is not under its field:\n{screen}"
    );
    // Saved: the credentials have no Secreto; every copy there is of something else.
    ctrl_s(&mut state);
    ok(
        &mut state,
        "CreateConsumer",
        Response::ConsumerCreated(CreatedConsumer {
            consumer: key_consumer(5, "Sensores IoT"),
            client_secret: None,
        }),
    );
    for _ in 0..6 {
        press(&mut state, KeyCode::Char('c'));
        press(&mut state, KeyCode::Tab);
    }
    let copied = copies(&state);
    assert!(copied.contains(&("Copiado: Clave".to_string(), key_consumer(5, "x").client_id)));
    assert!(
        copied.iter().all(|(what, _)| !what.contains("Secreto")),
        "{copied:?}"
    );
    press(&mut state, KeyCode::Esc);
    state.ctx.effects.clear();
    press(&mut state, KeyCode::Char('c'));
    assert_eq!(
        copies(&state),
        vec![("Copiado: Clave".to_string(), key_consumer(5, "x").client_id)]
    );
}

#[test]
fn c_copies_the_selected_clave() {
    let mut state = at_consumers(Role::ReadOnly, 3);
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Char('c'));
    assert_eq!(
        copies(&state),
        vec![("Copiado: Clave".to_string(), consumer(1, "x").client_id)]
    );
}

#[test]
fn unsaved_input_asks_before_closing_or_quitting() {
    let mut state = at_consumers(Role::SuperAdmin, 1);
    press(&mut state, KeyCode::Char('+'));
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "q");
    assert!(!quits(&state), "q types into the field");
    press(&mut state, KeyCode::Esc);
    assert!(state.ctx.question.is_some());
    press(&mut state, KeyCode::Char('n'));
    assert!(consumers(&state).dialog.is_some());
    press_mod(&mut state, KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(state.ctx.question.is_some() && !quits(&state));
    press(&mut state, KeyCode::Enter);
    assert!(quits(&state));
}

#[test]
fn edit_sends_only_changes_with_version_and_412_keeps_input() {
    let mut state = at_consumers(Role::SuperAdmin, 2);
    // The focus starts on Nombre: the grant cannot change once made.
    press(&mut state, KeyCode::Enter);
    press(&mut state, KeyCode::End);
    type_text(&mut state, " 2");
    ctrl_s(&mut state);
    let request = state
        .ctx
        .pending
        .values()
        .find(|r| r.name() == "UpdateConsumer")
        .cloned();
    let Some(Request::UpdateConsumer { patch, version, .. }) = request else {
        panic!("no patch")
    };
    assert_eq!(patch.name.as_deref(), Some("ERP Central 2"));
    assert!(patch.description.is_none() && patch.enabled.is_none());
    assert_eq!(version, 1);
    answer(&mut state, "UpdateConsumer", Err(problem(412, &[])));
    let Some(ConsumerDialog::Edit(modal)) = &consumers(&state).dialog else {
        panic!("modal closed")
    };
    assert!(
        modal
            .form
            .error
            .as_deref()
            .unwrap()
            .contains("otro usuario")
    );
    assert_eq!(modal.form.text("name"), "ERP Central 2");
    press_mod(&mut state, KeyCode::Char('r'), KeyModifiers::CONTROL);
    let mut newer = consumer(0, "ERP Central");
    newer.version = 2;
    ok(&mut state, "Consumer", Response::Consumer(newer));
    ctrl_s(&mut state);
    let request = state
        .ctx
        .pending
        .values()
        .find(|r| r.name() == "UpdateConsumer")
        .cloned();
    let Some(Request::UpdateConsumer { version, .. }) = request else {
        panic!("no patch")
    };
    assert_eq!(
        version, 2,
        "the reload took the server's version and kept the typing"
    );
}

#[test]
fn delete_names_the_consumer_and_rotate_offers_grace() {
    let mut state = at_consumers(Role::SuperAdmin, 2);
    press(&mut state, KeyCode::Char('d'));
    assert!(
        state
            .ctx
            .question
            .as_ref()
            .unwrap()
            .message
            .contains("«ERP Central»")
    );
    press(&mut state, KeyCode::Char('s'));
    assert!(
        state
            .ctx
            .pending
            .values()
            .any(|r| r.name() == "DeleteConsumer")
    );
    ok(
        &mut state,
        "DeleteConsumer",
        Response::ConsumerDeleted(consumer(0, "x").id),
    );
    assert_eq!(consumers(&state).table.rows.len(), 1);

    press(&mut state, KeyCode::Char('r'));
    press(&mut state, KeyCode::Right);
    press(&mut state, KeyCode::Right); // 24 h
    press(&mut state, KeyCode::Tab);
    press(&mut state, KeyCode::Char(' '));
    ctrl_s(&mut state);
    let request = state
        .ctx
        .pending
        .values()
        .find(|r| r.name() == "RotateSecret")
        .cloned();
    let Some(Request::RotateSecret(_, rotate)) = request else {
        panic!("no rotate")
    };
    assert_eq!(rotate.grace_seconds, 24 * 3600);
    assert!(rotate.revoke_tokens);
}

#[test]
fn enable_toggle_patches_enabled() {
    let mut state = at_consumers(Role::SuperAdmin, 1);
    press(&mut state, KeyCode::Char('e'));
    let request = state
        .ctx
        .pending
        .values()
        .find(|r| r.name() == "UpdateConsumer")
        .cloned();
    let Some(Request::UpdateConsumer { patch, .. }) = request else {
        panic!("no patch")
    };
    assert_eq!(patch.enabled, Some(false));
}

#[test]
fn read_only_and_admin_get_no_consumer_writes_or_secrets() {
    for role in [Role::Admin, Role::ReadOnly] {
        let mut state = at_consumers(role, 2);
        let commands: Vec<Command> = state.bindings().iter().map(|b| b.command).collect();
        for absent in [
            Command::New,
            Command::Delete,
            Command::Rotate,
            Command::EnableToggle,
        ] {
            assert!(!commands.contains(&absent), "{role:?} offered {absent:?}");
        }
        for key in ['+', 'd', 'r', 'e'] {
            press(&mut state, KeyCode::Char(key));
        }
        assert!(consumers(&state).dialog.is_none());
        assert!(state.ctx.question.is_none());
        assert!(
            state.ctx.pending.is_empty(),
            "{role:?}: {:?}",
            state.ctx.pending
        );
        let screen = screen_text(&state, 120, 40);
        assert!(!screen.contains("[+]"));
        // Enter opens the consumer read-only: no secret, nothing to edit or save.
        press(&mut state, KeyCode::Enter);
        let Some(ConsumerDialog::Detail(form)) = &consumers(&state).dialog else {
            panic!("{role:?}: no read-only detail")
        };
        assert!(
            form.fields.iter().all(|f| !f.is_text()),
            "{role:?}: editable"
        );
        assert!(form.field("client_secret").is_none());
        assert!(form.field("save").is_none());
        let screen = screen_text(&state, 120, 40);
        assert!(screen.contains("CLAVE-FICTICIA-00000000000000000"));
        // No Secreto row (the method, "Secreto", is no secret).
        let secret_row = screen
            .lines()
            .any(|l| l.trim_start_matches(['│', ' ', '›']).starts_with("Secreto"));
        assert!(!secret_row && !screen.contains("Guardar"), "{screen}");
        type_text(&mut state, "xyz");
        ctrl_s(&mut state);
        assert!(
            state.ctx.pending.is_empty(),
            "{role:?}: {:?}",
            state.ctx.pending
        );
        assert!(consumers(&state).dialog.is_none(), "Ctrl+S closes it");
        press(&mut state, KeyCode::Enter);
        press(&mut state, KeyCode::Esc);
        assert!(consumers(&state).dialog.is_none(), "Esc closes it");
        press(&mut state, KeyCode::Left);
        press(&mut state, KeyCode::Char('v'));
        assert!(state.ctx.question.is_none());
        assert!(
            screen_text(&state, 120, 40)
                .contains("Solo el Súper Administrador puede acceder al API Secret")
        );
        assert!(!screen_text(&state, 120, 40).contains("Ver API Secret"));
    }
}

#[test]
fn filter_goes_to_the_server_and_scrolling_fetches_pages() {
    let mut state = at_consumers(Role::ReadOnly, 0);
    press(&mut state, KeyCode::Char('/'));
    type_text(&mut state, "erp");
    press(&mut state, KeyCode::Enter);
    let request = state
        .ctx
        .pending
        .values()
        .find(|r| r.name() == "Consumers")
        .cloned();
    let Some(Request::Consumers(query)) = request else {
        panic!("no list request")
    };
    assert_eq!(query.q.as_deref(), Some("erp"));
    let items: Vec<Consumer> = (0..50).map(|i| consumer(i, "ERP")).collect();
    ok(
        &mut state,
        "Consumers",
        Response::Consumers(Page {
            items,
            next_cursor: Some("c2".into()),
            total: 120,
        }),
    );
    for _ in 0..29 {
        press(&mut state, KeyCode::Down);
    }
    assert!(!state.ctx.pending.values().any(|r| r.name() == "Consumers"));
    press(&mut state, KeyCode::Down);
    let request = state
        .ctx
        .pending
        .values()
        .find(|r| r.name() == "Consumers")
        .cloned();
    let Some(Request::Consumers(query)) = request else {
        panic!("no next page")
    };
    assert_eq!(query.cursor.as_deref(), Some("c2"));
    assert_eq!(query.q.as_deref(), Some("erp"));
}

#[test]
fn escape_sequences_from_the_server_are_shown_harmlessly() {
    let mut state = at_consumers(Role::SuperAdmin, 0);
    press(&mut state, KeyCode::F(5));
    ok(
        &mut state,
        "Consumers",
        Response::Consumers(Page {
            items: vec![{
                let mut c = consumer(1, "Nombre\u{1b}[2J\u{1b}]52;c;ZXZpbA==\u{7}");
                c.permission_group_name = "\u{202E}otircse".into();
                c
            }],
            next_cursor: None,
            total: 1,
        }),
    );
    let terminal = draw(&state, 120, 40);
    for cell in terminal.backend().buffer().content() {
        assert!(
            !cell
                .symbol()
                .chars()
                .any(|c| c.is_control() || c == '\u{202E}'),
            "{:?}",
            cell.symbol()
        );
    }
    assert!(screen_text(&state, 120, 40).contains("Nombre␛[2J"));
}

#[test]
fn network_failure_offers_retry() {
    let mut state = new_state(Lang::Es);
    answer(
        &mut state,
        "SetupStatus",
        Err(consola::client::ClientError::Network("rechazada".into())),
    );
    assert!(state.failure.is_some());
    assert!(screen_text(&state, 120, 40).contains("F5 reintenta"));
    press(&mut state, KeyCode::F(5));
    assert!(state.failure.is_none());
    assert!(
        state
            .ctx
            .pending
            .values()
            .any(|r| r.name() == "SetupStatus")
    );
    assert!(state.busy());
}

#[test]
fn help_lists_the_same_keys_as_the_bar() {
    let mut state = at_consumers(Role::SuperAdmin, 1);
    let bar = state.bindings();
    press(&mut state, KeyCode::Char('?'));
    assert!(state.help);
    assert_eq!(state.bindings_without_help(), bar);
    let screen = screen_text(&state, 120, 40);
    for binding in bar {
        assert!(
            screen.contains(binding.label),
            "help lacks {}",
            binding.label
        );
    }
    press(&mut state, KeyCode::Esc);
    assert!(!state.help);
}

/// The help shows each key once: the user menu, which the routing offers on every screen,
/// is not listed again where a screen (the dashboard) already shows it in its bar.
#[test]
fn help_lists_each_command_once() {
    for (name, state) in [
        ("dashboard", signed_in(Role::SuperAdmin)),
        ("consumers", at_consumers(Role::SuperAdmin, 1)),
        ("users", at_users(Role::SuperAdmin)),
        ("security", at_security(Role::SuperAdmin)),
    ] {
        let bindings = state.bindings();
        for (i, binding) in bindings.iter().enumerate() {
            assert!(
                !bindings[i + 1..]
                    .iter()
                    .any(|b| b.command == binding.command && b.label == binding.label),
                "{name}: {:?} {} listed twice",
                binding.command,
                binding.label
            );
        }
    }
}

#[test]
fn session_expiry_goes_back_to_login() {
    let mut state = at_consumers(Role::SuperAdmin, 1);
    press(&mut state, KeyCode::F(5));
    answer(&mut state, "Consumers", Err(problem(401, &[])));
    assert!(matches!(state.phase, Phase::Login(_)));
    assert!(
        state
            .ctx
            .effects
            .iter()
            .any(|e| matches!(e, Effect::Session(None)))
    );
}

/// The pending `Consumers` request: its id and cursor.
fn pending_page(state: &State) -> Option<(u64, Option<String>)> {
    state.ctx.pending.iter().find_map(|(id, r)| match r {
        Request::Consumers(q) => Some((*id, q.cursor.clone())),
        _ => None,
    })
}

#[test]
fn scrolling_far_keeps_a_bounded_window_and_fetches_dropped_pages_again() {
    // 50 rows loaded, a next page behind cursor "p1", and so on: page k starts at row 50k.
    let mut state = at_consumers(Role::SuperAdmin, 50);
    if let Some(main) = state.main_mut() {
        main.settings.api.consumers.table.next_cursor = Some("p1".into());
        main.settings.api.consumers.table.total = 1_000;
    }
    let page = |k: u128| -> Vec<Consumer> {
        (0..50)
            .map(|i| consumer(k * 50 + i, &format!("Fila {}", k * 50 + i)))
            .collect()
    };
    let mut answered = 0;
    for _ in 0..600 {
        press(&mut state, KeyCode::Down);
        if let Some((id, cursor)) = pending_page(&state) {
            let k: u128 = cursor.expect("a cursor")[1..].parse().expect("page number");
            state.update(Action::Api {
                id,
                result: Ok(Response::Consumers(Page {
                    items: page(k),
                    next_cursor: Some(format!("p{}", k + 1)),
                    total: 1_000,
                })),
            });
            answered += 1;
        }
    }
    let table = &consumers(&state).table;
    assert!(answered >= 11, "pages fetched: {answered}");
    assert!(table.rows.len() <= 200, "rows held: {}", table.rows.len());
    assert_eq!(table.skipped + table.selected, 600);
    assert_eq!(table.selected().unwrap().name, "Fila 600");
    // Back up to the top: dropped pages come again, by their own cursors.
    for _ in 0..600 {
        press(&mut state, KeyCode::Up);
        if let Some((id, cursor)) = pending_page(&state) {
            let k: u128 = cursor.map_or(0, |c| c[1..].parse().expect("page number"));
            state.update(Action::Api {
                id,
                result: Ok(Response::Consumers(Page {
                    items: page(k),
                    next_cursor: Some(format!("p{}", k + 1)),
                    total: 1_000,
                })),
            });
        }
    }
    let table = &consumers(&state).table;
    assert_eq!(table.skipped, 0);
    assert_eq!(table.selected, 0);
    assert_eq!(table.selected().unwrap().name, "Fila 0");
    assert!(table.rows.len() <= 200, "rows held: {}", table.rows.len());
    // And down again past the window's end: the dropped next page is fetched by its cursor.
    for _ in 0..250 {
        press(&mut state, KeyCode::Down);
        if let Some((id, cursor)) = pending_page(&state) {
            let k: u128 = cursor.expect("a cursor")[1..].parse().expect("page number");
            state.update(Action::Api {
                id,
                result: Ok(Response::Consumers(Page {
                    items: page(k),
                    next_cursor: Some(format!("p{}", k + 1)),
                    total: 1_000,
                })),
            });
        }
    }
    let table = &consumers(&state).table;
    assert_eq!(table.selected().unwrap().name, "Fila 250");
}

#[test]
fn users_and_groups_are_deleted_after_asking() {
    let mut state = at_users(Role::SuperAdmin);
    // The Súper Administrador is never offered for deletion: a message says why.
    press(&mut state, KeyCode::Char('d'));
    assert!(state.ctx.question.is_none());
    assert!(state.ctx.pending.is_empty(), "{:?}", state.ctx.pending);
    assert!(screen_text(&state, 120, 40).contains("El Súper Administrador no se puede eliminar"));

    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Char('d'));
    let message = &state.ctx.question.as_ref().expect("asks first").message;
    assert!(message.contains("«beto»"), "{message}");
    press(&mut state, KeyCode::Char('s'));
    let request = state
        .ctx
        .pending
        .values()
        .find(|r| r.name() == "DeleteUser")
        .cloned();
    let Some(Request::DeleteUser(id)) = request else {
        panic!("no delete: {:?}", state.ctx.pending)
    };
    assert_eq!(id, uuid::Uuid::from_u128(2));
    ok(&mut state, "DeleteUser", Response::UserDeleted(id));
    let users: Vec<&str> = state
        .main()
        .unwrap()
        .settings
        .users
        .users
        .iter()
        .map(|u| u.username.as_str())
        .collect();
    assert_eq!(users, ["ana", "caro"]);
    assert!(screen_text(&state, 120, 40).contains("Usuario eliminado"));

    // Permisos: a group the server refuses to delete (in use) stays, with the reason shown.
    press(&mut state, KeyCode::Right);
    press(&mut state, KeyCode::Char('d'));
    let message = &state.ctx.question.as_ref().expect("asks first").message;
    assert!(message.contains("«Integraciones»"), "{message}");
    press(&mut state, KeyCode::Char('s'));
    answer(&mut state, "DeleteGroup", Err(problem(409, &[])));
    assert_eq!(state.main().unwrap().settings.users.groups.len(), 2);
    assert!(state.failure.is_some());
    // Declining the question sends nothing.
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Char('d'));
    press(&mut state, KeyCode::Esc);
    assert!(state.ctx.question.is_none());
    assert!(
        !state
            .ctx
            .pending
            .values()
            .any(|r| r.name() == "DeleteGroup")
    );
    press(&mut state, KeyCode::Char('d'));
    press(&mut state, KeyCode::Char('s'));
    let request = state
        .ctx
        .pending
        .values()
        .find(|r| r.name() == "DeleteGroup")
        .cloned();
    let Some(Request::DeleteGroup(id)) = request else {
        panic!("no delete: {:?}", state.ctx.pending)
    };
    assert_eq!(id, group(2, "Solo reportes").id);
    ok(&mut state, "DeleteGroup", Response::GroupDeleted(id));
    let users = &state.main().unwrap().settings.users;
    assert_eq!(users.groups.len(), 1);
    assert_eq!(users.groups_selected, 0, "the selection stays on a row");
}

#[test]
fn deleting_users_and_groups_follows_the_role() {
    // An admin manages groups but not users; a read-only user neither.
    for (role, users_delete, groups_delete) in
        [(Role::Admin, false, true), (Role::ReadOnly, false, false)]
    {
        let mut state = at_users(role);
        let offered = |state: &State| {
            state
                .bindings()
                .iter()
                .any(|b| b.command == Command::Delete)
        };
        assert_eq!(offered(&state), users_delete, "{role:?} users");
        press(&mut state, KeyCode::Down);
        press(&mut state, KeyCode::Char('d'));
        assert!(state.ctx.question.is_none(), "{role:?}");
        press(&mut state, KeyCode::Right);
        assert_eq!(offered(&state), groups_delete, "{role:?} groups");
        press(&mut state, KeyCode::Char('d'));
        assert_eq!(state.ctx.question.is_some(), groups_delete, "{role:?}");
    }
}

#[test]
fn security_lists_the_signing_keys_and_rotates_them_after_asking() {
    let mut state = at_security(Role::SuperAdmin);
    let screen = screen_text(&state, 120, 40);
    assert!(screen.contains("KID-FICTICIO-0"), "{screen}");
    assert!(screen.contains("KID-FICTICIO-0      EdDSA      2024-01-02 03:04  Vigente"));
    assert!(screen.contains("KID-FICTICIO-1      EdDSA      2024-01-02 03:04  Anterior"));

    press(&mut state, KeyCode::Char('r'));
    let message = &state.ctx.question.as_ref().expect("asks first").message;
    assert!(message.contains("¿Rotar la clave de firma"), "{message}");
    press(&mut state, KeyCode::Char('n'));
    assert!(
        state.ctx.pending.is_empty(),
        "No sends nothing: {:?}",
        state.ctx.pending
    );
    press(&mut state, KeyCode::Char('r'));
    press(&mut state, KeyCode::Enter);
    assert!(
        state
            .ctx
            .pending
            .values()
            .any(|r| r.name() == "RotateSigningKey")
    );
    ok(
        &mut state,
        "RotateSigningKey",
        Response::SigningKeyRotated(signing_keys(3)),
    );
    assert_eq!(
        state.main().unwrap().settings.security.signing_keys.len(),
        3
    );
    let screen = screen_text(&state, 120, 40);
    assert!(screen.contains("Clave de firma rotada"));
    assert!(screen.contains("KID-FICTICIO-2"));

    // Only the Súper Administrador rotates; the others see the keys.
    for role in [Role::Admin, Role::ReadOnly] {
        let mut state = at_security(role);
        assert!(
            !state
                .bindings()
                .iter()
                .any(|b| b.command == Command::Rotate),
            "{role:?}"
        );
        press(&mut state, KeyCode::Char('r'));
        assert!(
            state.ctx.question.is_none() && state.ctx.pending.is_empty(),
            "{role:?}"
        );
        assert!(screen_text(&state, 120, 40).contains("KID-FICTICIO-1"));
    }
}

#[test]
fn a_full_disk_keeps_the_form_and_says_so() {
    let mut state = at_consumers(Role::SuperAdmin, 1);
    press(&mut state, KeyCode::Char('+'));
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "ERP Central");
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "desc");
    ctrl_s(&mut state);
    let fault = consola::store::Fault::StorageFull;
    answer(
        &mut state,
        "CreateConsumer",
        Err(consola::client::ClientError::Api(Problem {
            // As the server answers a storage fault.
            kind: format!("urn:consola:{}", fault.as_str()),
            title: "Service Unavailable".into(),
            status: 503,
            detail: fault.detail().into(),
            errors: Default::default(),
        })),
    );
    let Some(ConsumerDialog::Edit(modal)) = &consumers(&state).dialog else {
        panic!("modal closed")
    };
    assert_eq!(modal.form.text("name"), "ERP Central");
    assert_eq!(modal.form.text("description"), "desc");
    assert!(!modal.form.busy, "the form can be sent again");
    let screen = screen_text(&state, 120, 40);
    assert!(
        screen.contains("Almacenamiento lleno"),
        "the failure says why:\n{screen}"
    );
}

/// The consumer tab of Conexiones API.
fn consumers(state: &State) -> &ConsumersScreen {
    &state.main().expect("signed in").settings.api.consumers
}

/// The state asked the event loop to quit.
fn quits(state: &State) -> bool {
    state.ctx.effects.iter().any(|e| matches!(e, Effect::Quit))
}

fn log(state: &State) -> &consola::tui::pager::Pager<AuditEvent> {
    &state.main().expect("signed in").settings.audit.log
}

/// Answers the pending `Audit` request, if any: page `k` (cursor "k") holds events
/// `100k .. 100k + 100`, and says where page `k + 1` is.
fn serve_audit(state: &mut State) -> bool {
    let Some((id, k)) = state.ctx.pending.iter().find_map(|(id, r)| match r {
        Request::Audit(q) => Some((
            *id,
            q.cursor.as_deref().map_or(0, |c| c.parse().unwrap_or(0)),
        )),
        _ => None,
    }) else {
        return false;
    };
    let items = (k * 100..k * 100 + 100)
        .map(|i: i64| AuditEvent {
            id: i,
            at: at(),
            ip: "127.0.0.1".into(),
            actor: Actor::user("ana"),
            action: AuditAction::ALL[0],
            module: "Consumidores OAuth".into(),
            target: format!("Evento {i}"),
            description: String::new(),
        })
        .collect();
    state.update(Action::Api {
        id,
        result: Ok(Response::Audit(Page {
            items,
            next_cursor: Some((k + 1).to_string()),
            total: 100_000,
        })),
    });
    true
}

#[test]
fn the_transaction_log_holds_a_bounded_window_however_far_it_scrolls() {
    let mut state = signed_in(Role::SuperAdmin);
    press(&mut state, KeyCode::Char('m'));
    press(&mut state, KeyCode::Enter);
    for _ in 0..7 {
        press(&mut state, KeyCode::Down);
    }
    press(&mut state, KeyCode::Enter);
    assert!(
        serve_audit(&mut state),
        "opening the log loads its first page"
    );
    let mut pages = 0;
    for _ in 0..1_000 {
        press(&mut state, KeyCode::Down);
        pages += usize::from(serve_audit(&mut state));
        assert!(
            log(&state).rows.len() <= 400,
            "rows held: {}",
            log(&state).rows.len()
        );
    }
    assert!(pages >= 9, "pages fetched: {pages}");
    assert_eq!(log(&state).selected().map(|e| e.id), Some(1_000));
    assert!(screen_text(&state, 120, 40).contains("Evento 1000"));
    // Back up: the pages dropped on the way down come again, by their own cursors.
    for _ in 0..1_000 {
        press(&mut state, KeyCode::Up);
        serve_audit(&mut state);
        assert!(log(&state).rows.len() <= 400);
    }
    assert_eq!(log(&state).selected().map(|e| e.id), Some(0));
    assert_eq!(log(&state).skipped, 0);
}

/// The key bar: the second line from the bottom.
fn key_bar(state: &State) -> String {
    screen_text(state, 120, 40)
        .lines()
        .rev()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

#[test]
fn the_key_bar_offers_ctrl_c_and_f1_while_typing_where_q_and_question_mark_type() {
    let mut state = first_screen(Lang::Es, false);
    let bar = key_bar(&state);
    assert!(
        bar.contains("Ctrl+C  Salir") && !bar.contains(" q  Salir"),
        "{bar}"
    );
    assert!(
        bar.contains("F1  Ayuda") && !bar.contains(" ?  Ayuda"),
        "{bar}"
    );
    // What the bar offers does what it says: q types, Ctrl+C quits.
    press(&mut state, KeyCode::Char('q'));
    let Phase::Login(LoginScreen { form }) = &state.phase else {
        panic!("login expected")
    };
    assert_eq!(form.text("username"), "q");
    assert!(!quits(&state));
    // Where letters act, the bar shows them.
    let state = signed_in(Role::ReadOnly);
    let bar = key_bar(&state);
    assert!(
        bar.contains(" q  Salir") && bar.contains(" ?  Ayuda"),
        "{bar}"
    );
}

#[test]
fn empty_tables_and_an_empty_chart_say_so_and_what_to_press() {
    // Permisos with no group: an admin is told to press +, a read-only user only that.
    for (role, text) in [
        (
            Role::Admin,
            "No hay grupos de permisos. Pulse + para crear uno.",
        ),
        (Role::ReadOnly, "No hay grupos de permisos."),
    ] {
        let mut state = at_users(role);
        press(&mut state, KeyCode::Right);
        press(&mut state, KeyCode::F(5));
        ok(&mut state, "Groups", Response::Groups(vec![]));
        let screen = screen_text(&state, 120, 40);
        assert!(screen.contains(text), "{role:?}:\n{screen}");
        assert_eq!(
            screen.contains("Pulse +"),
            role == Role::Admin,
            "{role:?}: + is offered to who can press it"
        );
    }
    let mut state = at_users(Role::SuperAdmin);
    press(&mut state, KeyCode::F(5));
    ok(&mut state, "Users", Response::Users(vec![]));
    assert!(screen_text(&state, 120, 40).contains("No hay usuarios. Pulse + para crear uno."));
    // The log with no event in the filter.
    let mut state = signed_in(Role::SuperAdmin);
    press(&mut state, KeyCode::Char('m'));
    press(&mut state, KeyCode::Enter);
    for _ in 0..7 {
        press(&mut state, KeyCode::Down);
    }
    press(&mut state, KeyCode::Enter);
    assert!(
        !screen_text(&state, 120, 40).contains("No hay eventos"),
        "still loading"
    );
    ok(
        &mut state,
        "Audit",
        Response::Audit(Page {
            items: vec![],
            next_cursor: None,
            total: 0,
        }),
    );
    assert!(screen_text(&state, 120, 40).contains("No hay eventos con este filtro. Pulse /"));
    // A range with no token issued.
    let mut state = signed_in(Role::ReadOnly);
    assert!(!screen_text(&state, 120, 40).contains("No se emitieron tokens"));
    press(&mut state, KeyCode::F(5));
    ok(
        &mut state,
        "Dashboard",
        Response::Dashboard(Dashboard {
            since: at(),
            until: at(),
            consumers: 0,
            enabled_consumers: 0,
            permission_groups: 0,
            users: 1,
            tokens_issued: 0,
            failed_authentications: 0,
            series: vec![],
        }),
    );
    assert!(screen_text(&state, 120, 40).contains("No se emitieron tokens en este rango."));
}

#[test]
fn the_last_username_opens_the_login_and_a_sign_in_remembers_it() {
    let mut state = new_state(Lang::Es);
    state.last_username = "beto".into();
    ok(
        &mut state,
        "SetupStatus",
        Response::SetupStatus(SetupStatus { needed: false }),
    );
    let Phase::Login(LoginScreen { form }) = &state.phase else {
        panic!("login expected")
    };
    assert_eq!(form.text("username"), "beto");
    assert_eq!(form.focused_name(), "password", "only the password to type");
    let mut state = first_screen(Lang::Es, false);
    type_text(&mut state, "ana");
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "clave");
    press(&mut state, KeyCode::Enter);
    ok(
        &mut state,
        "Login",
        Response::LoggedIn(LoginResponse {
            token: SecretText::new("consola_st_SESION-FICTICIA".into()),
            expires_at: at(),
            user: SessionUser {
                id: uuid::Uuid::from_u128(7),
                username: "ana".into(),
                display_name: "Ana".into(),
                role: Role::Admin,
            },
        }),
    );
    let remembered: Vec<&str> = state
        .ctx
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::RememberUser(name) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(remembered, ["ana"], "the username, and nothing else");
}

/// Consumidores OAuth with no permission group at all (the server answered an empty list).
fn at_consumers_without_groups() -> State {
    let mut state = at_consumers(Role::SuperAdmin, 1);
    state.ctx.send(Request::Groups);
    ok(&mut state, "Groups", Response::Groups(vec![]));
    state.ctx.effects.clear();
    state
}

fn consumer_dialog(state: &State) -> Option<&ConsumerDialog> {
    let main = state.main()?;
    main.settings.api.consumers.dialog.as_ref()
}

/// With no permission group, the consumer modal's group select offers "+ Nuevo grupo…":
/// Enter opens the group form; once saved, the modal is back as typed, with the new group
/// chosen, and Guardar sends it.
#[test]
fn new_group_from_the_consumer_modal_comes_back_selected() {
    let mut state = at_consumers_without_groups();
    press(&mut state, KeyCode::Char('+'));
    if state.ctx.pending.values().any(|r| r.name() == "Groups") {
        ok(&mut state, "Groups", Response::Groups(vec![]));
    }
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "ERP Nuevo");
    press(&mut state, KeyCode::Tab);
    press(&mut state, KeyCode::Tab);
    let screen = screen_text(&state, 120, 40);
    assert!(screen.contains("◀ + Nuevo grupo… ▶"), "{screen}");
    press(&mut state, KeyCode::Enter);
    assert!(matches!(
        consumer_dialog(&state),
        Some(ConsumerDialog::NewGroup { .. })
    ));
    assert!(screen_text(&state, 120, 40).contains("Nuevo grupo de permisos"));
    type_text(&mut state, "Integraciones");
    ctrl_s(&mut state);
    let sent = state.ctx.pending.values().find_map(|r| match r {
        Request::CreateGroup(g) => Some(g.name.clone()),
        _ => None,
    });
    assert_eq!(sent.as_deref(), Some("Integraciones"));
    ok(
        &mut state,
        "CreateGroup",
        Response::Group(group(5, "Integraciones")),
    );
    let Some(ConsumerDialog::Edit(modal)) = consumer_dialog(&state) else {
        panic!("the consumer modal is back");
    };
    assert_eq!(modal.form.text("name"), "ERP Nuevo");
    assert!(screen_text(&state, 120, 40).contains("◀ Integraciones ▶"));
    // Every copy of the groups is refreshed.
    assert!(state.ctx.pending.values().any(|r| r.name() == "Groups"));
    ctrl_s(&mut state);
    let group_id = state.ctx.pending.values().find_map(|r| match r {
        Request::CreateConsumer(c) => Some(c.permission_group_id),
        _ => None,
    });
    assert_eq!(group_id, Some(group(5, "x").id));
}

/// Esc on an untouched group form goes back to the consumer modal with what was typed; with
/// something typed it asks first, and yes still keeps the consumer modal.
#[test]
fn leaving_the_group_form_keeps_the_consumer_modal() {
    let mut state = at_consumers_without_groups();
    press(&mut state, KeyCode::Char('+'));
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "ERP Nuevo");
    press(&mut state, KeyCode::Tab);
    press(&mut state, KeyCode::Tab);
    press(&mut state, KeyCode::Enter);
    press(&mut state, KeyCode::Esc);
    let Some(ConsumerDialog::Edit(modal)) = consumer_dialog(&state) else {
        panic!("the consumer modal is back");
    };
    assert_eq!(modal.form.text("name"), "ERP Nuevo");
    press(&mut state, KeyCode::Enter);
    type_text(&mut state, "a medias");
    press(&mut state, KeyCode::Esc);
    assert!(state.ctx.question.is_some());
    press(&mut state, KeyCode::Char('s'));
    let Some(ConsumerDialog::Edit(modal)) = consumer_dialog(&state) else {
        panic!("the consumer modal is back");
    };
    assert_eq!(modal.form.text("name"), "ERP Nuevo");
    // A refused group shows beside its field, the form stays.
    press(&mut state, KeyCode::Enter);
    ctrl_s(&mut state);
    answer(
        &mut state,
        "CreateGroup",
        Err(problem(422, &[("name", "Nombre requerido")])),
    );
    assert!(matches!(
        consumer_dialog(&state),
        Some(ConsumerDialog::NewGroup { .. })
    ));
    assert!(screen_text(&state, 120, 40).contains("Nombre requerido"));
}

/// Where `needle` is on the screen at 120×40 (drawing also maps what can be clicked).
fn find_on_screen(state: &State, needle: &str) -> (u16, u16) {
    let text = screen_text(state, 120, 40);
    for (y, line) in text.lines().enumerate() {
        if let Some(byte) = line.find(needle) {
            let x = line[..byte].chars().count();
            return (x as u16, y as u16);
        }
    }
    panic!("{needle:?} not on screen:\n{text}");
}

/// A left click on the first cell of `needle`, as the terminal reports it.
fn click(state: &mut State, needle: &str) {
    let (column, row) = find_on_screen(state, needle);
    let event = crossterm::event::MouseEvent {
        kind: crossterm::event::MouseEventKind::Down(crossterm::event::MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    let action = consola::tui::mouse::action(event).expect("a click is an action");
    state.update(action);
}

fn settings(state: &State) -> &consola::tui::screens::settings::Settings {
    &state.main().expect("signed in").settings
}

/// Clicks on the sidebar, the tabs, rows, buttons, checkboxes and copy icons do what their
/// keys do; the wheel moves like the arrows.
#[test]
fn the_mouse_clicks_what_the_keys_reach() {
    let mut state = at_consumers(Role::SuperAdmin, 5);
    // A row: the first click selects it, the second opens it.
    click(&mut state, "Sensores IoT");
    assert_eq!(consumers(&state).table.selected, 2);
    click(&mut state, "Sensores IoT");
    assert!(matches!(
        consumers(&state).dialog,
        Some(ConsumerDialog::Edit(_))
    ));
    // Under a dialog nothing else is clickable; its checkbox and buttons are.
    click(&mut state, "Activar Fracttal Hub");
    let Some(ConsumerDialog::Edit(modal)) = &consumers(&state).dialog else {
        panic!("the modal stays");
    };
    assert!(modal.form.checked("hub_enabled"));
    // The copy icon of the Clave copies it.
    click(&mut state, "CLAVE-FICTICIA-00000000000000002 ⎘");
    assert_eq!(
        copies(&state),
        vec![("Copiado: Clave".to_string(), consumer(2, "x").client_id)]
    );
    state.ctx.effects.clear();
    click(&mut state, "[ Cancelar ]");
    assert!(
        state.ctx.question.is_some(),
        "the checkbox changed: it asks"
    );
    press(&mut state, KeyCode::Char('s'));
    assert!(consumers(&state).dialog.is_none());
    // The wheel.
    let wheel =
        |state: &mut State, down| state.update(consola::tui::action::Action::Wheel { down });
    wheel(&mut state, true);
    assert_eq!(consumers(&state).table.selected, 3);
    wheel(&mut state, false);
    wheel(&mut state, false);
    assert_eq!(consumers(&state).table.selected, 1);
    // The tabs.
    click(&mut state, "API Key │");
    assert_eq!(settings(&state).api.tab, ApiTab::ApiKey);
    click(&mut state, "Consumidores OAuth");
    assert_eq!(settings(&state).api.tab, ApiTab::Consumers);
    // The sidebar opens a section with the focus in it.
    click(&mut state, "Seguridad");
    assert_eq!(settings(&state).section, Section::Security);
    assert!(settings(&state).in_content);
    assert!(
        state
            .ctx
            .pending
            .values()
            .any(|r| r.name() == "SigningKeys")
    );
    // The key bar's keys are buttons too.
    click(&mut state, "Salir");
    assert!(
        state.ctx.effects.iter().any(|e| matches!(e, Effect::Quit)),
        "{:?}",
        state.ctx.effects
    );
}

/// The user menu and the sidebar while the menu or the help is open: only what is on top.
#[test]
fn popups_take_the_clicks() {
    let mut state = signed_in(Role::SuperAdmin);
    press(&mut state, KeyCode::Char('m'));
    click(&mut state, "Configuración");
    // The header also reads "Configuración"? Only the menu's line is clickable.
    assert_eq!(state.main().map(|m| m.view), Some(View::Settings));
    press(&mut state, KeyCode::Char('?'));
    click(&mut state, "Seguridad");
    assert_ne!(
        settings(&state).section,
        Section::Security,
        "under the help"
    );
}

/// Back from Configuración, the dashboard asks for its figures again: what was created
/// there counts at once.
#[test]
fn the_dashboard_is_brought_up_to_date_on_return() {
    let mut state = signed_in(Role::SuperAdmin);
    press(&mut state, KeyCode::Char('m'));
    press(&mut state, KeyCode::Enter);
    assert_eq!(state.main().map(|m| m.view), Some(View::Settings));
    assert!(!state.ctx.pending.values().any(|r| r.name() == "Dashboard"));
    press(&mut state, KeyCode::Esc);
    assert_eq!(state.main().map(|m| m.view), Some(View::Dashboard));
    assert!(state.ctx.pending.values().any(|r| r.name() == "Dashboard"));
}

/// In a text input the help lists the keys that work there: not `q`, `j` or `m`, which type.
#[test]
fn the_help_over_a_text_input_lists_only_keys_that_work_there() {
    let mut state = signed_in(Role::SuperAdmin);
    press(&mut state, KeyCode::Char('m'));
    press(&mut state, KeyCode::Enter);
    for _ in 0..11 {
        press(&mut state, KeyCode::Down);
    }
    press(&mut state, KeyCode::Enter);
    assert!(state.text_focus(), "Cuenta starts in its name field");
    press(&mut state, KeyCode::F(1));
    let help = screen_text(&state, 120, 40);
    assert!(help.contains("Ctrl+C"), "{help}");
    assert!(!help.contains("q/Ctrl+C"), "{help}");
    assert!(!help.contains("↓/j"), "{help}");
    assert!(!help.contains("Menú de usuario"), "{help}");
    // Over a table the letters act, and the help says so.
    let mut state = at_consumers(Role::SuperAdmin, 3);
    press(&mut state, KeyCode::Char('?'));
    let help = screen_text(&state, 120, 40);
    assert!(help.contains("q/Ctrl+C") && help.contains("↓/j"), "{help}");
}

/// Conexiones API has three tabs: → and ← go round them; Recursos protegidos loads the
/// first time it shows, and its open modal keeps the arrows for its fields.
#[test]
fn the_api_tabs_go_round_and_the_resources_tab_loads_once() {
    let mut state = at_consumers(Role::SuperAdmin, 1);
    let tab = |state: &State| state.main().expect("signed in").settings.api.tab;
    let asked = |state: &State| {
        state
            .ctx
            .pending
            .values()
            .filter(|r| r.name() == "Resources")
            .count()
    };
    assert_eq!(tab(&state), ApiTab::Consumers);
    press(&mut state, KeyCode::Right);
    assert_eq!(tab(&state), ApiTab::Resources);
    assert_eq!(asked(&state), 1);
    ok(&mut state, "Resources", Response::Resources(vec![]));
    assert!(
        screen_text(&state, 120, 40)
            .contains("No hay recursos protegidos. Pulse + para crear uno.")
    );
    press(&mut state, KeyCode::Right);
    assert_eq!(tab(&state), ApiTab::ApiKey);
    press(&mut state, KeyCode::Left);
    assert_eq!(tab(&state), ApiTab::Resources);
    assert_eq!(asked(&state), 0, "loaded once; F5 brings it again");
    press(&mut state, KeyCode::F(5));
    assert_eq!(asked(&state), 1);
    press(&mut state, KeyCode::Char('+'));
    press(&mut state, KeyCode::Left);
    press(&mut state, KeyCode::Right);
    assert_eq!(tab(&state), ApiTab::Resources, "the modal keeps the arrows");
    assert!(
        state
            .main()
            .expect("signed in")
            .settings
            .api
            .resources
            .dialog
            .is_some()
    );
    press(&mut state, KeyCode::Esc);
    press(&mut state, KeyCode::Left);
    assert_eq!(tab(&state), ApiTab::Consumers);
}
