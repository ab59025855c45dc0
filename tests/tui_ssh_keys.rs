//! Cuenta → Claves SSH: the user's keys with their fingerprints, adding one by pasting its
//! public line, removing one after asking, and what was typed kept through it all.

mod support;

use consola::domain::ssh_key::SshKey;
use consola::domain::*;
use consola::tui::Lang;
use consola::tui::action::Action;
use consola::tui::api::{Request, Response};
use crossterm::event::{KeyCode, KeyModifiers};
use support::*;

const LINE: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKo7m7qJEb+Z1NFP0N7NnfH7i2ucH0cijAZuwuM978KG ana@portatil";

fn ssh_key(n: u128, name: &str) -> SshKey {
    SshKey {
        id: uuid::Uuid::from_u128(n),
        name: name.into(),
        fingerprint: format!("SHA256:huella{n}"),
        created_at: at(),
    }
}

/// Signed in, on Configuración → Cuenta, with the keys the server answered.
fn at_account(keys: Vec<SshKey>) -> consola::tui::state::State {
    let mut state = signed_in(Role::Admin);
    press(&mut state, KeyCode::Char('m'));
    press(&mut state, KeyCode::Enter);
    for _ in 0..11 {
        press(&mut state, KeyCode::Down);
    }
    press(&mut state, KeyCode::Enter);
    ok(&mut state, "SshKeys", Response::SshKeys(keys));
    state
}

fn pending(state: &consola::tui::state::State, name: &str) -> Option<Request> {
    state
        .ctx
        .pending
        .values()
        .find(|r| r.name() == name)
        .cloned()
}

#[test]
fn the_keys_are_listed_with_their_fingerprints() {
    let state = at_account(vec![ssh_key(1, "Portátil"), ssh_key(2, "Trabajo")]);
    let text = screen_text(&state, 120, 40);
    assert!(text.contains("Claves SSH"), "{text}");
    assert!(text.contains("Portátil · SHA256:huella1"), "{text}");
    assert!(text.contains("Trabajo · SHA256:huella2"), "{text}");
    insta::assert_snapshot!("ssh_keys_listed_120x40", draw(&state, 120, 40).backend());
    // A real fingerprint is shortened so that the key's line fits 80 columns.
    let long = SshKey {
        fingerprint: "SHA256:u72oTYSNm6UBecVd+eig9ToOxg7k5Uzb9uvswJu0UrA".into(),
        ..ssh_key(3, "Portátil")
    };
    let state = at_account(vec![long]);
    let text = screen_text(&state, 80, 24);
    assert!(text.contains("[ Portátil · SHA256:u72oTYSNm6… ]"), "{text}");
}

#[test]
fn a_pasted_key_is_added_and_a_refusal_keeps_the_dialog_and_the_typing() {
    let mut state = at_account(vec![ssh_key(1, "Portátil")]);
    // Something typed in the password part, kept whatever the key list does.
    for _ in 0..2 {
        press(&mut state, KeyCode::Tab);
    }
    type_text(&mut state, "a medias");
    // account_name, save_name, current, new, again, save_password, the key, Añadir.
    for _ in 0..5 {
        press(&mut state, KeyCode::Tab);
    }
    press(&mut state, KeyCode::Enter);
    assert!(screen_text(&state, 120, 40).contains("Nueva clave SSH"));
    insta::assert_snapshot!("ssh_key_dialog_120x40", draw(&state, 120, 40).backend());
    type_text(&mut state, "Casa");
    press(&mut state, KeyCode::Tab);
    state.update(Action::Paste(LINE.into()));
    press_mod(&mut state, KeyCode::Char('s'), KeyModifiers::CONTROL);
    let Some(Request::AddSshKey(sent)) = pending(&state, "AddSshKey") else {
        panic!("nothing sent: {:?}", state.ctx.pending)
    };
    assert_eq!(sent.name, "Casa");
    assert_eq!(sent.public_key, LINE);

    answer(
        &mut state,
        "AddSshKey",
        Err(problem(
            409,
            &[("public_key", "Esa clave ya está registrada")],
        )),
    );
    let text = screen_text(&state, 120, 40);
    assert!(
        text.contains("Nueva clave SSH"),
        "the dialog stays:\n{text}"
    );
    assert!(text.contains("Esa clave ya está registrada"), "{text}");
    assert!(text.contains("Casa"), "the name stays:\n{text}");

    press_mod(&mut state, KeyCode::Char('s'), KeyModifiers::CONTROL);
    ok(
        &mut state,
        "AddSshKey",
        Response::SshKeyAdded(ssh_key(2, "Casa")),
    );
    let text = screen_text(&state, 120, 40);
    assert!(!text.contains("Nueva clave SSH"), "{text}");
    assert!(text.contains("Casa · SHA256:huella2"), "{text}");
    assert!(text.contains("Clave SSH añadida"), "{text}");
    // A refreshed list keeps the half-typed password.
    let account = state.main().unwrap();
    let form = &account.settings.account.form;
    assert_eq!(form.text("current_password"), "a medias");
}

#[test]
fn a_key_is_removed_after_asking() {
    let mut state = at_account(vec![ssh_key(1, "Portátil"), ssh_key(2, "Trabajo")]);
    for _ in 0..7 {
        press(&mut state, KeyCode::Tab);
    }
    // The second key has the focus.
    press(&mut state, KeyCode::Enter);
    let message = &state.ctx.question.as_ref().expect("asks first").message;
    assert!(message.contains("«Trabajo»"), "{message}");
    press(&mut state, KeyCode::Char('s'));
    let Some(Request::DeleteSshKey(id)) = pending(&state, "DeleteSshKey") else {
        panic!("nothing sent: {:?}", state.ctx.pending)
    };
    assert_eq!(id, uuid::Uuid::from_u128(2));
    ok(&mut state, "DeleteSshKey", Response::SshKeyDeleted(id));
    let text = screen_text(&state, 120, 40);
    assert!(!text.contains("Trabajo ·"), "{text}");
    assert!(text.contains("Portátil ·"), "{text}");
}

#[test]
fn every_string_has_its_english() {
    let mut state = at_account(vec![ssh_key(1, "Portátil")]);
    state.ctx.lang = Lang::En;
    for _ in 0..7 {
        press(&mut state, KeyCode::Tab);
    }
    press(&mut state, KeyCode::Enter);
    let text = screen_text(&state, 120, 40);
    assert!(text.contains("New SSH key"), "{text}");
    assert!(text.contains("Public key"), "{text}");
}
