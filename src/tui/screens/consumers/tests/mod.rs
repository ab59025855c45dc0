//! The consumer screen: its modal (the signing algorithm, the redirect hint, keys, DPoP);
//! the clients that register themselves are in `registration`.

mod registration;

use super::modal::detail;
use super::*;
use crate::domain::registration::RegistrationPolicy;
use crate::tui::form::Kind;
use crate::tui::i18n::Lang;
use uuid::Uuid;

fn groups() -> Vec<PermissionGroup> {
    vec![PermissionGroup {
        id: Uuid::from_u128(1),
        name: "Integraciones".into(),
        description: String::new(),
        read_only: false,
        permissions: vec![],
        consumer_count: 0,
        created_at: chrono::DateTime::UNIX_EPOCH,
        updated_at: chrono::DateTime::UNIX_EPOCH,
        version: 1,
    }]
}

fn choose(modal: &mut ConsumerModal, name: &str, value: usize) {
    if let Some(Field {
        kind: Kind::Select { index, .. },
        ..
    }) = modal.form.field_mut(name)
    {
        *index = value;
    }
    modal.sync_visibility();
}

fn shown(modal: &ConsumerModal, name: &str) -> bool {
    modal.form.field(name).is_some_and(|f| !f.hidden)
}

#[test]
fn the_signing_algorithm_shows_for_jwt_only_and_goes_in_the_request() {
    let mut modal = ConsumerModal::new(Lang::Es, &groups(), None);
    assert!(!shown(&modal, "access_token_alg"), "opaque by default");
    choose(&mut modal, "token_format", 1);
    assert!(shown(&modal, "access_token_alg"));
    choose(&mut modal, "access_token_alg", 2);
    if let Some(field) = modal.form.field_mut("name") {
        field.kind = Field::text("name", "", "ERP").kind;
    }
    match modal.request(Lang::Es) {
        Ok(Some(Request::CreateConsumer(new))) => {
            assert_eq!(new.token_format, TokenFormat::Jwt);
            assert_eq!(new.access_token_alg, AccessTokenAlg::RS256);
        }
        _ => panic!("a create request"),
    }
    choose(&mut modal, "token_format", 0);
    assert!(!shown(&modal, "access_token_alg"));
}

#[test]
fn editing_sends_a_changed_algorithm_only() {
    let consumer = Consumer {
        id: Uuid::from_u128(9),
        name: "ERP".into(),
        description: String::new(),
        grant_type: GrantType::ClientCredentials,
        permission_group_id: Uuid::from_u128(1),
        permission_group_name: "Integraciones".into(),
        hub_enabled: false,
        enabled: true,
        token_format: TokenFormat::Jwt,
        access_token_alg: AccessTokenAlg::ES256,
        redirect_uris: vec![],
        client_id: "clave".into(),
        auth_method: AuthMethod::ClientSecret,
        jwks: None,
        jwks_uri: None,
        require_dpop: false,
        origin: Default::default(),
        approval: Default::default(),
        secret_last_four: "XXXX".into(),
        created_at: chrono::DateTime::UNIX_EPOCH,
        created_by: "ana".into(),
        updated_at: chrono::DateTime::UNIX_EPOCH,
        version: 3,
    };
    let mut modal = ConsumerModal::new(Lang::En, &groups(), Some(&consumer));
    assert!(shown(&modal, "access_token_alg"));
    assert!(
        matches!(modal.request(Lang::En), Ok(None)),
        "nothing changed"
    );
    choose(&mut modal, "access_token_alg", 0);
    match modal.request(Lang::En) {
        Ok(Some(Request::UpdateConsumer { patch, .. })) => {
            assert_eq!(patch.access_token_alg, Some(AccessTokenAlg::EdDSA));
            assert_eq!(patch.token_format, None);
        }
        _ => panic!("an update request"),
    }
    let detail = detail(Lang::En, &consumer);
    assert!(detail.field("access_token_alg").is_some());
}

#[test]
fn the_redirect_hint_shows_with_the_redirect_urls_and_says_the_port_rule() {
    let mut modal = ConsumerModal::new(Lang::Es, &groups(), None);
    assert!(!shown(&modal, "redirect_uris_hint"));
    choose(&mut modal, "grant_type", 1);
    assert!(shown(&modal, "redirect_uris") && shown(&modal, "redirect_uris_hint"));
    let hint = &modal.form.field("redirect_uris_hint").unwrap().label;
    assert!(hint.contains("127.0.0.1") && hint.contains("[::1]") && hint.contains("localhost"));
    let english = ConsumerModal::new(Lang::En, &groups(), None);
    let hint = &english.form.field("redirect_uris_hint").unwrap().label;
    assert!(hint.contains("any port"), "{hint}");
}

/// A public Ed25519 key (RFC 8037 §A.2) in a JWKS, over several lines as a file holds it.
const JWKS: &str = "{\"keys\": [\n  {\"kty\": \"OKP\", \"crv\": \"Ed25519\",\n   \"x\": \"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}\n]}";
/// Its RFC 7638 thumbprint.
const THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

fn jwks() -> serde_json::Value {
    serde_json::from_str(JWKS).expect("the test JWKS is JSON")
}

fn a_consumer(auth_method: AuthMethod) -> Consumer {
    let private_key = auth_method == AuthMethod::PrivateKeyJwt;
    Consumer {
        id: Uuid::from_u128(9),
        name: "ERP".into(),
        description: String::new(),
        grant_type: GrantType::ClientCredentials,
        permission_group_id: Uuid::from_u128(1),
        permission_group_name: "Integraciones".into(),
        hub_enabled: false,
        enabled: true,
        token_format: TokenFormat::Opaque,
        access_token_alg: AccessTokenAlg::EdDSA,
        redirect_uris: vec![],
        client_id: "clave".into(),
        auth_method,
        jwks_uri: None,
        jwks: private_key.then(|| ClientKeys::parse(&jwks()).expect("a valid JWKS")),
        require_dpop: false,
        origin: Default::default(),
        approval: Default::default(),
        secret_last_four: if private_key { "" } else { "XXXX" }.into(),
        created_at: chrono::DateTime::UNIX_EPOCH,
        created_by: "ana".into(),
        updated_at: chrono::DateTime::UNIX_EPOCH,
        version: 3,
    }
}

/// Everything the form shows, labels and values, one field a line.
fn form_text(form: &Form) -> String {
    let (lines, _) = crate::tui::form::lines(form, 120, Lang::Es, true);
    lines
        .iter()
        .map(|line| {
            line.spans
                .iter()
                .map(|s| s.content.as_ref())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_public_client_gets_neither_a_secreto_nor_keys_in_the_form() {
    let mut modal = ConsumerModal::new(Lang::Es, &groups(), None);
    choose(&mut modal, "auth_method", 1);
    modal.form.focus_on("jwks");
    modal.form.paste(JWKS);
    choose(&mut modal, "auth_method", 2);
    assert!(!shown(&modal, "jwks") && !shown(&modal, "jwks_hint"));
    assert!(!shown(&modal, "client_secret"));
    modal.form.set_text("name", "App");
    match modal.request(Lang::Es) {
        Ok(Some(Request::CreateConsumer(new))) => {
            assert_eq!(new.auth_method, AuthMethod::Public);
            assert_eq!(
                (new.jwks, new.jwks_uri),
                (None, None),
                "what was pasted stays out"
            );
        }
        _ => panic!("a create request"),
    }
}

#[test]
fn an_https_url_in_the_jwks_field_is_sent_as_the_jwks_uri_and_shown_as_such() {
    let mut modal = ConsumerModal::new(Lang::Es, &groups(), None);
    choose(&mut modal, "auth_method", 1);
    modal.form.set_text("name", "ERP");
    modal.form.focus_on("jwks");
    modal.form.paste("  https://keys.example/jwks.json ");
    match modal.request(Lang::Es) {
        Ok(Some(Request::CreateConsumer(new))) => {
            assert_eq!(new.jwks, None);
            assert_eq!(
                new.jwks_uri.as_deref(),
                Some("https://keys.example/jwks.json")
            );
        }
        _ => panic!("a create request"),
    }
    let mut published = a_consumer(AuthMethod::PrivateKeyJwt);
    published.jwks = None;
    published.jwks_uri = Some("https://keys.example/jwks.json".into());
    let editing = ConsumerModal::new(Lang::Es, &groups(), Some(&published));
    match &editing.form.field("keys").expect("the key list").kind {
        Kind::Value(lines) => assert_eq!(
            lines,
            &vec!["Publicadas en https://keys.example/jwks.json".to_string()]
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn private_key_jwt_shows_the_jwks_field_and_sends_the_parsed_jwks() {
    let mut modal = ConsumerModal::new(Lang::Es, &groups(), None);
    assert!(shown(&modal, "auth_method"), "Método de autenticación");
    assert!(!shown(&modal, "jwks"), "Secreto by default");
    choose(&mut modal, "auth_method", 1);
    assert!(shown(&modal, "jwks") && shown(&modal, "jwks_hint"));
    assert!(!shown(&modal, "client_secret"), "no Secreto is made");
    let hint = &modal.form.field("jwks_hint").expect("hint").label;
    assert!(hint.contains("{\"keys\": [...]}") && hint.contains("nunca la clave privada"));
    modal.form.set_text("name", "ERP");
    modal.form.focus_on("jwks");
    modal.form.paste(JWKS);
    match modal.request(Lang::Es) {
        Ok(Some(Request::CreateConsumer(new))) => {
            assert_eq!(new.auth_method, AuthMethod::PrivateKeyJwt);
            assert_eq!(
                new.jwks,
                Some(jwks()),
                "the pasted lines, as one JSON value"
            );
        }
        _ => panic!("a create request"),
    }
    // Back to Secreto: what was pasted stays in the field but is not sent.
    choose(&mut modal, "auth_method", 0);
    assert!(!shown(&modal, "jwks") && shown(&modal, "client_secret"));
    match modal.request(Lang::Es) {
        Ok(Some(Request::CreateConsumer(new))) => {
            assert_eq!(new.auth_method, AuthMethod::ClientSecret);
            assert_eq!(new.jwks, None);
        }
        _ => panic!("a create request"),
    }
    let english = ConsumerModal::new(Lang::En, &groups(), None);
    let method = english.form.field("auth_method").expect("select");
    assert_eq!(method.label, "Authentication method");
    assert!(
        matches!(&method.kind, Kind::Select { options, .. } if options == &["Secret", "Private key (JWT)", "None (public client)"])
    );
}

fn super_admin() -> Context {
    let mut ctx = Context::new(
        Lang::Es,
        chrono::NaiveDate::from_ymd_opt(2024, 3, 31).expect("date"),
    );
    ctx.user = Some(SessionUser {
        id: Uuid::from_u128(7),
        username: "ana".into(),
        display_name: "Ana".into(),
        role: Role::SuperAdmin,
    });
    ctx
}

fn edit_modal(screen: &mut ConsumersScreen) -> &mut ConsumerModal {
    match &mut screen.dialog {
        Some(ConsumerDialog::Edit(modal)) => modal,
        _ => panic!("the consumer modal is open"),
    }
}

#[test]
fn json_that_does_not_parse_is_a_field_error_without_a_request_and_keeps_the_text() {
    let mut ctx = super_admin();
    let mut screen = ConsumersScreen {
        groups: groups(),
        ..ConsumersScreen::default()
    };
    screen.command(&mut ctx, Command::New);
    let broken = "{\"keys\": [{\"kty\": \"OKP\",, }]}";
    {
        let modal = edit_modal(&mut screen);
        choose(modal, "auth_method", 1);
        modal.form.set_text("name", "ERP");
        modal.form.focus_on("jwks");
        modal.form.paste(broken);
        modal.form.focus_first();
    }
    screen.command(&mut ctx, Command::Save);
    assert!(
        ctx.pending.values().all(|r| r.name() != "CreateConsumer"),
        "no request for JSON that does not parse"
    );
    let modal = edit_modal(&mut screen);
    assert!(!modal.form.busy);
    assert_eq!(modal.form.text("jwks"), broken, "what was pasted stays");
    assert_eq!(modal.form.text("name"), "ERP");
    assert_eq!(modal.form.focused_name(), "jwks");
    let error = modal.form.field("jwks").and_then(|f| f.error.clone());
    assert_eq!(error.as_deref(), Some("No es JSON: línea 1, columna 25"));
    // The cursor is where it stopped being JSON (the second comma), so that part shows.
    match &modal.form.field("jwks").expect("field").kind {
        Kind::Text { area, .. } => assert_eq!(area.cursor(), (0, 24)),
        _ => panic!("a text field"),
    }
    // Mended, it goes.
    modal.form.set_text("jwks", JWKS);
    screen.command(&mut ctx, Command::Save);
    assert!(ctx.pending.values().any(|r| r.name() == "CreateConsumer"));
}

#[test]
fn editing_a_private_key_consumer_lists_its_keys_and_replaces_them_only_when_given() {
    let consumer = a_consumer(AuthMethod::PrivateKeyJwt);
    let mut modal = ConsumerModal::new(Lang::Es, &groups(), Some(&consumer));
    let method = modal
        .form
        .field("auth_method")
        .expect("Método de autenticación");
    assert!(!method.hidden);
    assert!(
        !matches!(method.kind, Kind::Select { .. }),
        "cannot change once created"
    );
    assert!(shown(&modal, "jwks"), "new keys may be pasted");
    assert!(!shown(&modal, "client_secret"), "there is no Secreto");
    let text = form_text(&modal.form);
    assert!(text.contains("Clave privada (JWT)"), "{text}");
    assert!(
        text.contains(&format!("sin kid · EdDSA · {THUMBPRINT}")),
        "{text}"
    );
    assert!(
        !text.contains("11qYAYKx"),
        "the key's material is not shown:\n{text}"
    );
    // An empty field keeps the keys.
    modal.form.set_text("name", "ERP 2");
    match modal.request(Lang::Es) {
        Ok(Some(Request::UpdateConsumer { patch, .. })) => {
            assert_eq!(patch.name.as_deref(), Some("ERP 2"));
            assert_eq!(patch.jwks, None);
        }
        _ => panic!("an update request"),
    }
    modal.form.set_text("jwks", JWKS);
    match modal.request(Lang::Es) {
        Ok(Some(Request::UpdateConsumer { patch, .. })) => assert_eq!(patch.jwks, Some(jwks())),
        _ => panic!("an update request"),
    }
    // A Secreto consumer has no keys to edit.
    let secret = ConsumerModal::new(
        Lang::Es,
        &groups(),
        Some(&a_consumer(AuthMethod::ClientSecret)),
    );
    assert!(!shown(&secret, "jwks") && shown(&secret, "client_secret"));
    assert!(form_text(&secret.form).contains("Secreto (…XXXX)"));
    // Read-only users see the method and the keys too.
    let text = form_text(&detail(Lang::Es, &consumer));
    assert!(
        text.contains("Clave privada (JWT)") && text.contains(THUMBPRINT),
        "{text}"
    );
}

#[test]
fn rotating_the_secret_of_a_private_key_consumer_is_refused_with_a_message() {
    let mut ctx = super_admin();
    let mut screen = ConsumersScreen::default();
    screen
        .table
        .upsert(a_consumer(AuthMethod::PrivateKeyJwt), |a, b| a.id == b.id);
    let bar: Vec<_> = screen
        .bindings(&ctx)
        .into_iter()
        .filter(|b| b.in_bar)
        .map(|b| b.label)
        .collect();
    assert!(!bar.contains(&"Rotar secreto"), "{bar:?}");
    screen.command(&mut ctx, Command::Rotate);
    assert!(screen.dialog.is_none(), "no rotate dialog");
    assert!(ctx.pending.is_empty(), "no request");
    let toast = ctx.toast.as_ref().map(|t| t.1.clone()).unwrap_or_default();
    assert!(
        toast.contains("Clave privada (JWT)") && toast.contains("Editar"),
        "{toast}"
    );
    // A Secreto consumer rotates as before.
    screen
        .table
        .upsert(a_consumer(AuthMethod::ClientSecret), |a, b| a.id == b.id);
    screen.command(&mut ctx, Command::Rotate);
    assert!(matches!(screen.dialog, Some(ConsumerDialog::Rotate(_))));
}

/// Ticks or unticks a checkbox as Espacio does, then lets the modal show or hide its hints.
fn toggle(modal: &mut ConsumerModal, name: &str) {
    modal.form.focus_on(name);
    assert_eq!(modal.form.focused_name(), name, "{name} takes the focus");
    let space = crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char(' '),
        crossterm::event::KeyModifiers::NONE,
    );
    modal.form.edit(space);
    modal.sync_visibility();
}

#[test]
fn a_new_consumer_sends_require_dpop_as_the_box_says_and_the_hint_shows_when_ticked() {
    let mut modal = ConsumerModal::new(Lang::Es, &groups(), None);
    modal.form.set_text("name", "ERP");
    let field = modal.form.field("require_dpop").expect("the DPoP box");
    assert_eq!(field.label, "Solo tokens ligados a una clave (DPoP)");
    assert!(matches!(field.kind, Kind::Checkbox(false)), "unticked");
    assert!(
        !shown(&modal, "require_dpop_hint"),
        "no hint while unticked"
    );
    match modal.request(Lang::Es) {
        Ok(Some(Request::CreateConsumer(new))) => assert!(!new.require_dpop),
        _ => panic!("a create request"),
    }
    toggle(&mut modal, "require_dpop");
    assert!(shown(&modal, "require_dpop_hint"));
    let hint = &modal.form.field("require_dpop_hint").expect("hint").label;
    assert!(hint.contains("Sin prueba DPoP no recibe token"), "{hint}");
    match modal.request(Lang::Es) {
        Ok(Some(Request::CreateConsumer(new))) => assert!(new.require_dpop, "ticked: sent"),
        _ => panic!("a create request"),
    }
    // A key pair's consumer may require it too: the box stays.
    choose(&mut modal, "auth_method", 1);
    assert!(shown(&modal, "require_dpop") && shown(&modal, "require_dpop_hint"));
    toggle(&mut modal, "require_dpop");
    assert!(!shown(&modal, "require_dpop_hint"), "unticked again");
    let english = ConsumerModal::new(Lang::En, &groups(), None);
    let field = english.form.field("require_dpop").expect("the DPoP box");
    assert_eq!(field.label, "Only key-bound tokens (DPoP)");
    let hint = &english.form.field("require_dpop_hint").expect("hint").label;
    assert!(hint.contains("DPoP proof"), "{hint}");
}

#[test]
fn editing_sends_require_dpop_only_when_it_changed() {
    let bound = Consumer {
        require_dpop: true,
        ..a_consumer(AuthMethod::ClientSecret)
    };
    let mut modal = ConsumerModal::new(Lang::Es, &groups(), Some(&bound));
    assert!(modal.form.checked("require_dpop"), "as the consumer is");
    assert!(shown(&modal, "require_dpop_hint"));
    assert!(
        matches!(modal.request(Lang::Es), Ok(None)),
        "untouched: no request"
    );
    toggle(&mut modal, "require_dpop");
    match modal.request(Lang::Es) {
        Ok(Some(Request::UpdateConsumer { patch, .. })) => {
            assert_eq!(patch.require_dpop, Some(false));
            assert_eq!(patch.hub_enabled, None);
        }
        _ => panic!("an update request"),
    }
    // Ticked back: as it was, nothing to send.
    toggle(&mut modal, "require_dpop");
    assert!(matches!(modal.request(Lang::Es), Ok(None)));
    // Another change leaves require_dpop out of the patch.
    modal.form.set_text("name", "ERP 2");
    match modal.request(Lang::Es) {
        Ok(Some(Request::UpdateConsumer { patch, .. })) => {
            assert_eq!(patch.name.as_deref(), Some("ERP 2"));
            assert_eq!(patch.require_dpop, None);
        }
        _ => panic!("an update request"),
    }
    let free = a_consumer(AuthMethod::ClientSecret);
    let mut modal = ConsumerModal::new(Lang::Es, &groups(), Some(&free));
    assert!(!modal.form.checked("require_dpop"));
    assert!(!shown(&modal, "require_dpop_hint"));
    toggle(&mut modal, "require_dpop");
    match modal.request(Lang::Es) {
        Ok(Some(Request::UpdateConsumer { patch, .. })) => {
            assert_eq!(patch.require_dpop, Some(true));
        }
        _ => panic!("an update request"),
    }
}

#[test]
fn the_read_only_detail_says_whether_only_key_bound_tokens_go_out() {
    let bound = Consumer {
        require_dpop: true,
        ..a_consumer(AuthMethod::ClientSecret)
    };
    let text = form_text(&detail(Lang::Es, &bound));
    assert!(
        text.contains("Solo tokens ligados a una clave (DPoP) Sí"),
        "{text}"
    );
    let text = form_text(&detail(Lang::Es, &a_consumer(AuthMethod::ClientSecret)));
    assert!(
        text.contains("Solo tokens ligados a una clave (DPoP) No"),
        "{text}"
    );
}
