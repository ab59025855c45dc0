//! Snapshots of every screen and modal at 120×40 and 80×24, from fixed fake data (fake keys,
//! fake secrets, fixed dates).

mod support;

use consola::domain::secret::SecretText;
use consola::domain::*;
use consola::tui::Lang;
use consola::tui::api::Response;
use consola::tui::look::Look;
use crossterm::event::KeyCode;
use ratatui::style::{Color, Modifier};
use support::*;

/// Snapshots in Spanish; in English (see `every_scenario_has_its_english_strings`) only draws.
fn snap(name: &str, state: &consola::tui::state::State) {
    for (w, h) in [(120, 40), (80, 24)] {
        let terminal = draw(state, w, h);
        if lang() == Lang::Es {
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), terminal.backend());
        }
    }
    // What the `?` help of this screen would list.
    for binding in state.bindings_without_help() {
        lang().t(binding.label);
    }
}

#[test]
fn setup_screen() {
    let mut state = first_screen(lang(), true);
    type_text(&mut state, "FRACTTAL - Activación");
    snap("setup", &state);
}

#[test]
fn login_screen_after_wrong_password() {
    let mut state = first_screen(lang(), false);
    type_text(&mut state, "ana");
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "incorrecta");
    ctrl_s(&mut state);
    answer(&mut state, "Login", Err(problem(401, &[])));
    snap("login_error", &state);
}

#[test]
fn english_login() {
    let state = first_screen(Lang::En, false);
    snap("login_en", &state);
}

#[test]
fn dashboard_and_user_menu() {
    let mut state = signed_in(Role::SuperAdmin);
    snap("dashboard", &state);
    press(&mut state, KeyCode::Char('m'));
    snap("user_menu", &state);
}

#[test]
fn help_popup() {
    let mut state = at_consumers(Role::SuperAdmin, 3);
    press(&mut state, KeyCode::Char('?'));
    snap("help_consumers", &state);
}

#[test]
fn unmanaged_section() {
    let mut state = signed_in(Role::Admin);
    press(&mut state, KeyCode::Char('m'));
    press(&mut state, KeyCode::Enter);
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Down);
    snap("settings_unmanaged", &state);
}

#[test]
fn api_key_tab_for_each_role() {
    let mut state = at_consumers(Role::SuperAdmin, 0);
    press(&mut state, KeyCode::Left);
    snap("api_key_super", &state);
    press(&mut state, KeyCode::Char('v'));
    snap("api_secret_confirm", &state);
    press(&mut state, KeyCode::Enter);
    ok(
        &mut state,
        "ApiKeySecret",
        Response::ApiKeySecret(ApiKeySecret {
            key: "APIKEY-FICTICIA-0001".into(),
            secret: SecretText::new("consola_ak_SECRETO-FICTICIO".into()),
            created_at: at(),
        }),
    );
    snap("api_secret_shown", &state);
    let mut state = at_consumers(Role::ReadOnly, 0);
    press(&mut state, KeyCode::Left);
    snap("api_key_read_only", &state);
}

#[test]
fn consumer_table_for_each_role() {
    snap("consumers_super", &at_consumers(Role::SuperAdmin, 40));
    snap("consumers_read_only", &at_consumers(Role::ReadOnly, 5));
    let mut state = at_consumers(Role::ReadOnly, 5);
    press(&mut state, KeyCode::Enter);
    snap("consumer_detail_read_only", &state);
    snap("consumers_empty", &at_consumers(Role::SuperAdmin, 0));
}

#[test]
fn consumer_modal_new_errors_and_created() {
    let mut state = at_consumers(Role::SuperAdmin, 2);
    press(&mut state, KeyCode::Char('+'));
    snap("consumer_new", &state);
    press(&mut state, KeyCode::Right);
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "ERP Central");
    ctrl_s(&mut state);
    answer(
        &mut state,
        "CreateConsumer",
        Err(problem(
            422,
            &[
                ("name", "Ya existe un consumidor con ese nombre"),
                (
                    "redirect_uris",
                    "Código de autorización necesita al menos una URL de retorno",
                ),
            ],
        )),
    );
    snap("consumer_new_errors", &state);
    let mut state = at_consumers(Role::SuperAdmin, 2);
    press(&mut state, KeyCode::Char('+'));
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "Nuevo ERP");
    ctrl_s(&mut state);
    ok(
        &mut state,
        "CreateConsumer",
        Response::ConsumerCreated(CreatedConsumer {
            consumer: consumer(9, "Nuevo ERP"),
            client_secret: Some(SecretText::new(FAKE_SECRET.into())),
        }),
    );
    snap("consumer_created", &state);
}

/// With no permission group, the group select offers "+ Nuevo grupo…", which opens the
/// group form over the consumer modal.
#[test]
fn consumer_modal_without_groups_offers_a_new_group() {
    let mut state = at_consumers(Role::SuperAdmin, 1);
    state.ctx.send(consola::tui::api::Request::Groups);
    ok(&mut state, "Groups", Response::Groups(vec![]));
    press(&mut state, KeyCode::Char('+'));
    for _ in 0..3 {
        press(&mut state, KeyCode::Tab);
    }
    snap("consumer_new_no_groups", &state);
    press(&mut state, KeyCode::Enter);
    snap("consumer_new_group", &state);
}

#[test]
fn consumer_edit_rotate_delete() {
    let mut state = at_consumers(Role::SuperAdmin, 3);
    press(&mut state, KeyCode::Enter);
    snap("consumer_edit", &state);
    press(&mut state, KeyCode::Esc);
    press(&mut state, KeyCode::Char('r'));
    snap("consumer_rotate", &state);
    ctrl_s(&mut state);
    ok(
        &mut state,
        "RotateSecret",
        Response::SecretRotated(
            consumer(0, "x").id,
            RotatedSecret {
                client_secret: SecretText::new(FAKE_SECRET.into()),
                secret_last_four: "ABCD".into(),
                previous_secret_valid_until: Some(at()),
            },
        ),
    );
    snap("consumer_secret_once", &state);
    press(&mut state, KeyCode::Esc);
    press(&mut state, KeyCode::Char('d'));
    snap("consumer_delete_confirm", &state);
}

/// A consumer with a key pair instead of a Secreto (`private_key_jwt`): the "+" modal with
/// its JWKS pasted, the credentials after Guardar (the keys' thumbprints, no Secreto), and
/// the edit modal listing the registered keys.
#[test]
fn consumer_with_a_private_key() {
    let mut state = at_consumers(Role::SuperAdmin, 2);
    press(&mut state, KeyCode::Char('+'));
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "Sensores IoT");
    // Descripción, Grupo de Permisos, Fracttal Hub, Formato del token, Método de autenticación.
    for _ in 0..5 {
        press(&mut state, KeyCode::Tab);
    }
    press(&mut state, KeyCode::Right); // Clave privada (JWT)
    press(&mut state, KeyCode::Tab);
    state.update(consola::tui::action::Action::Paste(JWKS.into()));
    snap("consumer_new_private_key", &state);
    let text = screen_text(&state, 80, 24);
    assert!(
        text.contains(lang().t("Claves públicas (JWKS)")) && text.contains("{\"keys\": [...]}"),
        "{text}"
    );
    ctrl_s(&mut state);
    ok(
        &mut state,
        "CreateConsumer",
        Response::ConsumerCreated(CreatedConsumer {
            consumer: key_consumer(9, "Sensores IoT"),
            client_secret: None,
        }),
    );
    snap("consumer_created_private_key", &state);
    for (w, h) in [(120, 40), (80, 24)] {
        let text = screen_text(&state, w, h);
        assert!(text.contains(THUMBPRINT), "{text}");
        assert!(text.contains(&key_consumer(9, "x").client_id), "{text}");
        assert!(!text.contains(lang().t("Secreto")), "{text}");
        let once = lang().t("Guarde el secreto ahora: no se volverá a mostrar.");
        assert!(!text.contains(once), "{text}");
    }
    let mut state = at_consumers_with(
        Role::SuperAdmin,
        vec![key_consumer(0, "Sensores IoT"), consumer(1, "ERP Central")],
    );
    press(&mut state, KeyCode::Enter);
    snap("consumer_edit_private_key", &state);
    for (w, h) in [(120, 40), (80, 24)] {
        let text = screen_text(&state, w, h);
        assert!(text.contains(THUMBPRINT), "{text}");
        assert!(!text.contains(lang().t("Secreto")), "{text}");
    }
}

/// The "+" modal with "Solo tokens ligados a una clave (DPoP)" ticked: the label shows whole,
/// its hint under it, and Guardar asks for DPoP-bound tokens only.
#[test]
fn consumer_requiring_dpop() {
    let mut state = at_consumers(Role::SuperAdmin, 2);
    press(&mut state, KeyCode::Char('+'));
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "Sensores IoT");
    // Descripción, Grupo de Permisos, Fracttal Hub, Formato del token, Método de
    // autenticación, then the DPoP box.
    for _ in 0..6 {
        press(&mut state, KeyCode::Tab);
    }
    press(&mut state, KeyCode::Char(' '));
    snap("consumer_new_dpop", &state);
    for (w, h) in [(120, 40), (80, 24), (80, 23)] {
        let text = screen_text(&state, w, h);
        // Whole, focused and ticked.
        let label = lang().t("Solo tokens ligados a una clave (DPoP)");
        let line = text.lines().find(|l| l.contains(label));
        assert!(
            line.is_some_and(|l| l.contains(&format!("› {label}")) && l.contains("[x]")),
            "{label} at {w}×{h}:\n{text}"
        );
        let hint =
            lang().t("Sin prueba DPoP no recibe token; su token solo vale con prueba de su clave");
        assert!(text.contains(hint), "the hint at {w}×{h}:\n{text}");
        assert!(
            text.contains(&format!("[ {} ]", lang().t("Guardar"))),
            "{text}"
        );
    }
    ctrl_s(&mut state);
    let request = state
        .ctx
        .pending
        .values()
        .find(|r| r.name() == "CreateConsumer")
        .cloned();
    let Some(consola::tui::api::Request::CreateConsumer(new)) = request else {
        panic!("no create request")
    };
    assert!(new.require_dpop);
}

/// A client that registered itself waits on top of the table (its copy in the page is left
/// out), "Pendiente" in its tone beside a rejected one; `a` opens "Aprobar cliente" with the
/// policy's group chosen, Enter on it shows where it came from.
#[test]
fn a_pending_client_on_top_and_its_approval() {
    let rejected = Consumer {
        approval: Approval::Rejected,
        ..pending_consumer(7, "Cliente rechazado")
    };
    let agent = pending_consumer(5, "Agente MCP");
    let items = vec![
        consumer(0, "ERP Central"),
        agent.clone(),
        consumer(1, "Portal de proveedores"),
        rejected,
        document_consumer(6),
    ];
    let mut state = at_consumers_registered(
        Role::SuperAdmin,
        items,
        vec![agent, document_consumer(6)],
        registration_approval(),
    );
    snap("consumers_pending", &state);
    for (w, h) in [(120, 40), (80, 24)] {
        let text = screen_text(&state, w, h);
        let first = text
            .lines()
            .position(|l| l.contains("Agente MCP"))
            .expect("the pending client shows");
        assert!(
            text.lines().filter(|l| l.contains("Agente MCP")).count() == 1,
            "once:\n{text}"
        );
        let erp = text.lines().position(|l| l.contains("ERP Central"));
        assert!(erp.is_some_and(|erp| first < erp), "on top:\n{text}");
        assert!(text.contains(lang().t("Rechazado")), "{text}");
    }
    press(&mut state, KeyCode::Char('a'));
    groups_again(&mut state);
    snap("consumer_approve", &state);
    press(&mut state, KeyCode::Esc);
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Enter);
    snap("consumer_pending_detail", &state);
}

/// The groups a modal asks for again when it opens, as the fixtures have them.
fn groups_again(state: &mut consola::tui::state::State) {
    ok(
        state,
        "Groups",
        Response::Groups(vec![group(1, "Integraciones"), group(2, "Solo reportes")]),
    );
}

/// "Registro de clientes" (`p`): the Súper Administrador's form, the server's refusal kept
/// beside the group with what was chosen, and everyone else's read-only view.
#[test]
fn the_registration_policy_form() {
    let mut state = at_consumers_registered(
        Role::SuperAdmin,
        vec![consumer(0, "ERP Central")],
        Vec::new(),
        registration_approval(),
    );
    press(&mut state, KeyCode::Char('p'));
    groups_again(&mut state);
    snap("registration_policy", &state);
    // With no group to choose, Abierto is refused beside the group, and stays chosen.
    press(&mut state, KeyCode::Esc);
    press(&mut state, KeyCode::Char('p'));
    ok(&mut state, "Groups", Response::Groups(vec![]));
    press(&mut state, KeyCode::Right);
    ctrl_s(&mut state);
    answer(
        &mut state,
        "SetRegistrationSettings",
        Err(problem(
            422,
            &[(
                "group_id",
                "Elija el grupo de permisos de los clientes nuevos",
            )],
        )),
    );
    snap("registration_policy_error", &state);
    let mut state = at_consumers_registered(
        Role::ReadOnly,
        vec![consumer(0, "ERP Central")],
        Vec::new(),
        registration_approval(),
    );
    press(&mut state, KeyCode::Char('p'));
    snap("registration_policy_read_only", &state);
}

/// Recursos protegidos: the list, the "+" modal, and the server's field errors beside their
/// fields with the text kept.
#[test]
fn protected_resources_and_their_modal() {
    let resources = vec![
        resource(1, "API de activos", "https://api.example.com/activos"),
        resource(2, "API de órdenes", "https://api.example.com/ordenes/v2"),
        resource(3, "Sensores locales", "http://127.0.0.1:8080/sensores"),
    ];
    let mut state = at_resources(Role::SuperAdmin, resources.clone());
    snap("resources", &state);
    press(&mut state, KeyCode::Char('+'));
    snap("resource_new", &state);
    type_text(&mut state, "API de activos");
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "http://api.example.com/activos#x");
    ctrl_s(&mut state);
    answer(
        &mut state,
        "CreateResource",
        Err(problem(
            422,
            &[
                ("name", "Ya existe un recurso protegido con ese nombre"),
                (
                    "url",
                    "URL no válida: http:// solo hacia localhost; sin fragmento",
                ),
            ],
        )),
    );
    snap("resource_new_errors", &state);
    snap(
        "resources_read_only",
        &at_resources(Role::ReadOnly, resources),
    );
}

#[test]
fn users_permissions_and_modals() {
    let mut state = at_users(Role::SuperAdmin);
    snap("users", &state);
    press(&mut state, KeyCode::Char('+'));
    snap("user_new", &state);
    press(&mut state, KeyCode::Esc);
    press(&mut state, KeyCode::Right);
    snap("permissions", &state);
    press(&mut state, KeyCode::Char('+'));
    snap("group_new", &state);
}

#[test]
fn audit_and_account() {
    let mut state = signed_in(Role::SuperAdmin);
    press(&mut state, KeyCode::Char('m'));
    press(&mut state, KeyCode::Enter);
    for _ in 0..7 {
        press(&mut state, KeyCode::Down);
    }
    press(&mut state, KeyCode::Enter);
    let events = (0..5)
        .map(|i| AuditEvent {
            id: i,
            at: at(),
            ip: "127.0.0.1".into(),
            actor: Actor::user("ana"),
            action: AuditAction::ALL[i as usize % 4],
            module: "Consumidores OAuth".into(),
            target: format!("Consumidor {i}"),
            description: "Evento de prueba".into(),
        })
        .collect();
    ok(
        &mut state,
        "Audit",
        Response::Audit(Page {
            items: events,
            next_cursor: None,
            total: 5,
        }),
    );
    snap("audit", &state);
    press(&mut state, KeyCode::Char('/'));
    snap("audit_filter", &state);
    press(&mut state, KeyCode::Esc);
    press(&mut state, KeyCode::Esc);
    for _ in 0..4 {
        press(&mut state, KeyCode::Down);
    }
    press(&mut state, KeyCode::Enter);
    snap("account", &state);
}

#[test]
fn too_small_and_degenerate_sizes_never_panic() {
    let state = at_consumers(Role::SuperAdmin, 3);
    let terminal = draw(&state, 79, 22);
    if lang() == Lang::Es {
        insta::assert_snapshot!("too_small", terminal.backend());
    }
    for (w, h) in [(0, 0), (0, 40), (120, 0), (1, 1), (80, 24), (200, 60)] {
        draw(&state, w, h);
    }
}

#[test]
fn security_signing_keys() {
    let mut state = at_security(Role::SuperAdmin);
    snap("security", &state);
    press(&mut state, KeyCode::Char('r'));
    snap("security_rotate_confirm", &state);
}

/// Below 100 columns the sidebar folds to a strip of initials, only while the focus is in
/// the content; the sidebar itself always shows whole.
#[test]
fn below_100_columns_the_sidebar_folds_while_the_focus_is_in_the_content() {
    let mut state = at_consumers(Role::SuperAdmin, 3);
    assert!(!screen_text(&state, 99, 30).contains("Cuentas de Usuarios"));
    assert!(screen_text(&state, 100, 30).contains("Cuentas de Usuarios"));
    press(&mut state, KeyCode::Esc);
    assert!(screen_text(&state, 80, 24).contains("Cuentas de Usuarios"));
}

/// Inside a tmux at 80×24 (23 rows under its status line) the tallest dialog, the group
/// form with its module matrix, still shows its buttons.
#[test]
fn under_a_tmux_status_line_the_group_form_keeps_its_buttons() {
    let mut state = at_users(Role::SuperAdmin);
    press(&mut state, KeyCode::Right);
    press(&mut state, KeyCode::Char('+'));
    let terminal = draw(&state, 80, 23);
    if lang() == Lang::Es {
        insta::assert_snapshot!("group_new_80x23", terminal.backend());
    }
    let text = screen_text(&state, 80, 23);
    for button in ["Guardar", "Cancelar"] {
        let shown = format!("[ {} ]", lang().t(button));
        assert!(text.contains(&shown), "{shown} missing:\n{text}");
    }
}

/// Under a tmux status line (80×23) the tallest consumer modal, the edit of a key pair's
/// consumer with Código de autorización, JWT tokens and two keys (a rollover), keeps its
/// buttons in sight and marks the lines it scrolled away; Tab reaches every field.
#[test]
fn under_a_tmux_status_line_a_tall_consumer_modal_keeps_its_buttons() {
    let jwks = serde_json::json!({"keys": [
        {"kty": "OKP", "crv": "Ed25519", "kid": "clave-2024",
         "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        {"kty": "OKP", "crv": "Ed25519", "kid": "clave-2025",
         "x": "PUAXw-hDiVqStwqnTRt-vJyYLM8uxJaMwM1V8Sr0Zgw"},
    ]});
    let tall = Consumer {
        grant_type: GrantType::AuthorizationCode,
        redirect_uris: vec!["https://portal.example.com/cb".into()],
        token_format: TokenFormat::Jwt,
        jwks: Some(ClientKeys::parse(&jwks).expect("two keys")),
        ..key_consumer(0, "Portal web")
    };
    let mut state = at_consumers_with(Role::SuperAdmin, vec![tall]);
    press(&mut state, KeyCode::Enter);
    let terminal = draw(&state, 80, 23);
    if lang() == Lang::Es {
        insta::assert_snapshot!("consumer_edit_tall_80x23", terminal.backend());
    }
    let buttons = [
        format!("[ {} ]", lang().t("Guardar")),
        format!("[ {} ]", lang().t("Cancelar")),
    ];
    let mut seen = String::new();
    // Down to Cancelar, field by field: the buttons always show, and so does the focused
    // field (eleven of them, then the two buttons).
    for step in 0..13 {
        let text = screen_text(&state, 80, 23);
        for button in &buttons {
            assert!(text.contains(button.as_str()), "{button} missing:\n{text}");
        }
        if step < 11 {
            assert!(text.contains('›'), "the focus is out of sight:\n{text}");
        }
        seen.push_str(&text);
        press(&mut state, KeyCode::Tab);
    }
    for label in [
        "Tipo de autorización",
        "URL de retorno",
        "Claves públicas registradas",
        "Solo tokens ligados a una clave (DPoP)",
    ] {
        assert!(seen.contains(lang().t(label)), "{label} never showed");
    }
    assert!(
        seen.contains("clave-2025 · EdDSA"),
        "the second key never showed"
    );
}

/// At 80×24 every modal shows its buttons, and a cut label ends in "…".
#[test]
fn at_80x24_every_modal_keeps_its_buttons() {
    let mut state = at_consumers(Role::SuperAdmin, 2);
    press(&mut state, KeyCode::Char('+'));
    let text = screen_text(&state, 80, 24);
    assert!(
        text.contains("[ Guardar ]") && text.contains("[ Cancelar ]"),
        "{text}"
    );
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "Nuevo ERP");
    ctrl_s(&mut state);
    ok(
        &mut state,
        "CreateConsumer",
        Response::ConsumerCreated(CreatedConsumer {
            consumer: consumer(9, "Nuevo ERP"),
            client_secret: Some(SecretText::new(FAKE_SECRET.into())),
        }),
    );
    let text = screen_text(&state, 80, 24);
    assert!(
        text.contains("[ Cerrar ]") && text.contains(FAKE_SECRET),
        "{text}"
    );
    let mut state = at_users(Role::SuperAdmin);
    press(&mut state, KeyCode::Right);
    press(&mut state, KeyCode::Char('+'));
    let text = screen_text(&state, 80, 24);
    assert!(
        text.contains("[ Guardar ]") && text.contains("[ Cancelar ]"),
        "{text}"
    );
    let dashboard = screen_text(&signed_in(Role::SuperAdmin), 80, 24);
    assert!(dashboard.contains("Autenticaciones…"), "{dashboard}");
}

/// The look a terminal environment gives (`Look::from_env`), as the console would get it.
fn look(vars: &[(&str, &str)]) -> Look {
    Look::from_env(|name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    })
}

/// Under a C locale every cell is ASCII: borders, the selection mark, cut labels, accents.
#[test]
fn ascii_look_under_a_c_locale() {
    let mut state = at_consumers(Role::SuperAdmin, 3);
    state.ctx.look = look(&[("LANG", "C"), ("TERM", "xterm")]);
    snap("consumers_ascii", &state);
    let mut dashboard = signed_in(Role::SuperAdmin);
    dashboard.ctx.look = state.ctx.look;
    snap("dashboard_ascii", &dashboard);
    for (w, h) in [(120, 40), (80, 24)] {
        for state in [&state, &dashboard] {
            let text = screen_text(state, w, h);
            assert!(text.is_ascii(), "not ASCII at {w}×{h}:\n{text}");
        }
    }
}

/// The screen's text with, under each line, `#` where a cell is in reverse video.
fn reverse_video(state: &consola::tui::state::State, w: u16, h: u16) -> String {
    let terminal = draw(state, w, h);
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let row = (0..w).map(|x| &buffer[(x, y)]);
        out.extend(row.clone().map(|c| c.symbol()));
        out.push('\n');
        let marks: String = row
            .map(|c| {
                if c.modifier.contains(Modifier::REVERSED) {
                    '#'
                } else {
                    ' '
                }
            })
            .collect();
        out.push_str(marks.trim_end());
        out.push('\n');
    }
    out
}

/// With NO_COLOR no cell carries a colour, and what colour marked (the selected row, the
/// header and status bars, the key bar's keys) is in reverse video.
#[test]
fn monochrome_under_no_color_keeps_the_selection_visible() {
    let mut state = at_consumers(Role::SuperAdmin, 3);
    state.ctx.look = look(&[("NO_COLOR", "1"), ("LANG", "es_CL.UTF-8")]);
    for (w, h) in [(120, 40), (80, 24)] {
        let terminal = draw(&state, w, h);
        let buffer = terminal.backend().buffer();
        for cell in buffer.content.iter() {
            assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset));
        }
        if lang() == Lang::Es {
            insta::assert_snapshot!(
                format!("consumers_monochrome_{w}x{h}"),
                reverse_video(&state, w, h)
            );
        }
    }
}

/// Every scenario above, in English: any text the English table lacks fails the test (it
/// would show in Spanish).
#[test]
fn every_scenario_has_its_english_strings() {
    set_lang(Lang::En);
    setup_screen();
    login_screen_after_wrong_password();
    english_login();
    dashboard_and_user_menu();
    help_popup();
    unmanaged_section();
    api_key_tab_for_each_role();
    consumer_table_for_each_role();
    consumer_modal_new_errors_and_created();
    consumer_edit_rotate_delete();
    consumer_modal_without_groups_offers_a_new_group();
    consumer_with_a_private_key();
    consumer_requiring_dpop();
    a_pending_client_on_top_and_its_approval();
    the_registration_policy_form();
    protected_resources_and_their_modal();
    users_permissions_and_modals();
    audit_and_account();
    too_small_and_degenerate_sizes_never_panic();
    security_signing_keys();
    under_a_tmux_status_line_the_group_form_keeps_its_buttons();
    under_a_tmux_status_line_a_tall_consumer_modal_keeps_its_buttons();
    ascii_look_under_a_c_locale();
    monochrome_under_no_color_keeps_the_selection_visible();
    // The help of every screen those scenarios pass through lists its keys too.
    assert_eq!(
        consola::tui::i18n::missing_english(),
        Vec::<&str>::new(),
        "English lacks these"
    );
}
