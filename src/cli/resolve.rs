//! Objects named on the command line by id or by exact name. A name that matches none or
//! several is an error that lists what did match, so the next try can use an id.

use super::{CliResult, Failure};

/// An item's id and the names it answers to.
type Described = (String, Vec<String>);

/// How many near matches an unknown name lists.
const SUGGESTIONS: usize = 10;

/// The one item that `given` names: by id, else by an exact name, else by the same name in
/// another case. `noun` is the kind, singular and plural. `describe` gives an item's id and its names (a consumer's name and Clave,
/// a user's username).
pub fn pick<T>(
    (noun, nouns): (&str, &str),
    given: &str,
    items: Vec<T>,
    describe: impl Fn(&T) -> Described,
) -> CliResult<T> {
    let described: Vec<Described> = items.iter().map(&describe).collect();
    let wanted = given.trim();
    let position = |test: &dyn Fn(&Described) -> bool| -> Vec<usize> {
        described
            .iter()
            .enumerate()
            .filter(|(_, d)| test(d))
            .map(|(i, _)| i)
            .collect()
    };
    let mut found = position(&|(id, _)| id.eq_ignore_ascii_case(wanted));
    if found.is_empty() {
        found = position(&|(_, names)| names.iter().any(|n| n == wanted));
    }
    if found.is_empty() {
        found = position(&|(_, names)| {
            names
                .iter()
                .any(|n| n.to_lowercase() == wanted.to_lowercase())
        });
    }
    let line = |i: usize| {
        let (id, names) = &described[i];
        format!("{id}  {}", names.join("  "))
    };
    match found.as_slice() {
        [one] => {
            let one = *one;
            items
                .into_iter()
                .nth(one)
                .ok_or_else(|| Failure::failed("objeto perdido"))
        }
        [] => {
            let lower = wanted.to_lowercase();
            let near: Vec<String> =
                position(&|(_, names)| names.iter().any(|n| n.to_lowercase().contains(&lower)))
                    .into_iter()
                    .take(SUGGESTIONS)
                    .map(line)
                    .collect();
            let mut details = if near.is_empty() {
                vec![format!("Ningún {noun} se parece; vea la lista con `list`")]
            } else {
                vec!["Coinciden en parte:".to_string()]
            };
            details.extend(near);
            Err(Failure::Failed {
                message: format!("no hay ningún {noun} «{wanted}»"),
                details,
            })
        }
        many => Err(Failure::Failed {
            message: format!("«{wanted}» nombra a {} {nouns}; use el id", many.len()),
            details: many.iter().map(|i| line(*i)).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<(&'static str, &'static str)> {
        vec![
            ("1", "ERP"),
            ("2", "erp"),
            ("3", "Reportes"),
            ("4", "Bodega ERP"),
        ]
    }

    fn run(given: &str) -> CliResult<(&'static str, &'static str)> {
        pick(
            ("consumidor", "consumidores"),
            given,
            names(),
            |(id, name)| (id.to_string(), vec![name.to_string()]),
        )
    }

    #[test]
    fn ids_and_exact_names_win() {
        assert_eq!(run("3").unwrap().1, "Reportes");
        assert_eq!(run("ERP").unwrap().0, "1");
        assert_eq!(
            run("reportes").unwrap().0,
            "3",
            "another case, when only one"
        );
    }

    #[test]
    fn unknown_and_ambiguous_names_list_what_matched() {
        let report = run("Erp").unwrap_err().report();
        assert!(report.contains("nombra a 2"), "{report}");
        assert!(
            report.contains("1  ERP") && report.contains("2  erp"),
            "{report}"
        );
        let report = run("bodega").unwrap_err().report();
        assert!(
            report.contains("no hay ningún consumidor «bodega»"),
            "{report}"
        );
        assert!(report.contains("4  Bodega ERP"), "{report}");
        let report = run("nada").unwrap_err().report();
        assert!(report.contains("Ningún consumidor se parece"), "{report}");
    }
}
