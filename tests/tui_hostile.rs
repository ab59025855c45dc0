//! Text the API accepts (right-to-left scripts, emoji, combining marks, wide CJK, 100-character
//! names, 500-character descriptions with line breaks and tabs) draws inside its cells: the
//! consumer table and the edit modal keep their borders and columns at 120×40 and 80×24.

mod support;

use consola::domain::*;
use crossterm::event::KeyCode;
use ratatui::buffer::Buffer;
use support::*;

fn hostile_names() -> Vec<String> {
    vec![
        "واجهة برمجة التطبيقات للمخزون".to_string(),
        "ממשק ניהול נכסים ותחזוקה".to_string(),
        "🚀 Integración 👩‍💻 ✅ 🏳️‍🌈".to_string(),
        "Z\u{335}\u{321}a\u{334}l\u{337}g\u{336}o\u{338} e\u{301}\u{301}\u{301}\u{301}".to_string(),
        "設備管理システム連携テスト用の名前設備管理".to_string(),
        "Ñ".repeat(50) + &"字".repeat(50),
        "N".repeat(100),
    ]
}

fn hostile_description() -> String {
    let line = "Línea con\ttabulador y texto largo 文字 مرحبا 👍\n";
    line.repeat(20).chars().take(500).collect()
}

fn hostile_state() -> consola::tui::state::State {
    let items = hostile_names()
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut c = consumer(i as u128, name);
            c.description = hostile_description();
            c.permission_group_name = name.clone();
            c
        })
        .collect();
    at_consumers_with(Role::SuperAdmin, items)
}

fn row(buffer: &Buffer, y: u16) -> String {
    (0..buffer.area.width)
        .map(|x| buffer[(x, y)].symbol())
        .collect()
}

fn find_row(buffer: &Buffer, needle: &str) -> u16 {
    (0..buffer.area.height)
        .find(|y| row(buffer, *y).contains(needle))
        .unwrap_or_else(|| panic!("no row with {needle:?}"))
}

/// The column (cell index) where `needle` starts on row `y`.
fn column(buffer: &Buffer, y: u16, needle: &str) -> u16 {
    let first = needle.chars().next().expect("needle");
    (0..buffer.area.width)
        .find(|x| {
            buffer[(*x, y)].symbol().starts_with(first)
                && (0..needle.chars().count() as u16).all(|i| {
                    x + i < buffer.area.width
                        && buffer[(x + i, y)]
                            .symbol()
                            .starts_with(needle.chars().nth(i as usize).unwrap_or(' '))
                })
        })
        .unwrap_or_else(|| panic!("no {needle:?} on row {y}: {}", row(buffer, y)))
}

fn no_control_characters(buffer: &Buffer) {
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            let symbol = buffer[(x, y)].symbol();
            assert!(
                !symbol.chars().any(|c| c.is_control()),
                "control character at {x},{y}: {symbol:?}"
            );
        }
    }
}

#[test]
fn hostile_names_stay_in_their_cells_in_the_table() {
    let state = hostile_state();
    for (w, h) in [(120, 40), (80, 24)] {
        let terminal = draw(&state, w, h);
        let buffer = terminal.backend().buffer();
        no_control_characters(buffer);
        // The content block's side borders, from its title row to its bottom row.
        let top = find_row(buffer, "Conexiones API");
        let left = column(buffer, top, "┌Conexiones API");
        let bottom = h - 3;
        assert_eq!(buffer[(left, bottom)].symbol(), "└", "{w}×{h} bottom-left");
        for y in top + 1..bottom {
            assert_eq!(
                buffer[(left, y)].symbol(),
                "│",
                "{w}×{h} left border, row {y}"
            );
            assert_eq!(
                buffer[(w - 1, y)].symbol(),
                "│",
                "{w}×{h} right border, row {y}"
            );
            assert_eq!(
                buffer[(left - 1, y)].symbol(),
                "│",
                "{w}×{h} sidebar border, row {y}"
            );
        }
        // Each consumer on one row: its Clave and its state start at the header's columns.
        let header = find_row(buffer, "Nombre");
        let clave = column(buffer, header, "Clave");
        let estado = column(buffer, header, "Estado");
        let rows: Vec<u16> = (header + 1..bottom)
            .filter(|y| row(buffer, *y).contains("CLAVE-FICTICIA"))
            .collect();
        assert_eq!(rows.len(), hostile_names().len(), "{w}×{h}: one row each");
        for (i, y) in rows.iter().enumerate() {
            assert_eq!(rows[0] + i as u16, *y, "{w}×{h}: rows are consecutive");
            assert_eq!(
                column(buffer, *y, "CLAVE-FICTICIA"),
                clave,
                "{w}×{h}: a name spilled into Clave on row {y}: {}",
                row(buffer, *y)
            );
            let state_text = row(buffer, *y);
            assert!(
                buffer[(estado, *y)].symbol() == "A" || buffer[(estado, *y)].symbol() == "I",
                "{w}×{h}: the state column moved on row {y}: {state_text}"
            );
        }
    }
}

#[test]
fn hostile_text_stays_in_the_edit_modal() {
    for (i, _) in hostile_names().iter().enumerate() {
        let mut state = hostile_state();
        for _ in 0..i {
            press(&mut state, KeyCode::Down);
        }
        press(&mut state, KeyCode::Enter);
        for (w, h) in [(120, 40), (80, 24)] {
            let terminal = draw(&state, w, h);
            let buffer = terminal.backend().buffer();
            no_control_characters(buffer);
            let top = find_row(buffer, "Editar Cliente OAuth");
            let left = column(buffer, top, "┌");
            let right = (left + 1..w)
                .rev()
                .find(|x| buffer[(*x, top)].symbol() == "┐")
                .expect("top-right corner");
            let bottom = (top + 1..h)
                .find(|y| buffer[(left, *y)].symbol() == "└")
                .expect("bottom-left corner");
            assert_eq!(buffer[(right, bottom)].symbol(), "┘", "{w}×{h} #{i}");
            for y in top + 1..bottom {
                assert_eq!(buffer[(left, y)].symbol(), "│", "{w}×{h} #{i} row {y}");
                assert_eq!(
                    buffer[(right, y)].symbol(),
                    "│",
                    "{w}×{h} #{i} row {y}: {}",
                    row(buffer, y)
                );
            }
            // The fields keep their rows and order: the long description did not push them.
            let labels = ["Nombre", "Descripción", "Grupo de Permisos", "Clave"];
            let rows: Vec<u16> = labels
                .iter()
                .map(|l| {
                    (top + 1..bottom)
                        .find(|y| {
                            let inside: String =
                                (left..=right).map(|x| buffer[(x, *y)].symbol()).collect();
                            inside.trim_start_matches(['│', '›', ' ']).starts_with(l)
                        })
                        .unwrap_or_else(|| panic!("{w}×{h} #{i}: no {l:?} in the modal"))
                })
                .collect();
            assert!(
                rows.windows(2).all(|p| p[0] < p[1] && p[1] < bottom),
                "{w}×{h} #{i}: fields out of place: {rows:?}"
            );
            assert_eq!(
                rows[1] + 1,
                rows[2],
                "{w}×{h} #{i}: the description takes one row"
            );
        }
    }
}
