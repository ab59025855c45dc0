//! The consumer modal: the signing algorithm and the redirect hint.
use super::modal::detail;
use super::*;
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
        require_dpop: false,
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
