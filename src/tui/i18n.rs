//! Every string of the console, in Spanish (the source text) and English.

/// Language of the console.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    #[default]
    Es,
    En,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Lang, String> {
        match s {
            "es" => Ok(Lang::Es),
            "en" => Ok(Lang::En),
            other => Err(format!("idioma desconocido: {other} (es, en)")),
        }
    }
}

impl Lang {
    /// The text in this language; `es` is the Spanish source text and the lookup key.
    pub fn t(self, es: &'static str) -> &'static str {
        match self {
            Lang::Es => es,
            Lang::En => ENGLISH
                .iter()
                .find(|(key, _)| *key == es)
                .map_or(es, |(_, en)| en),
        }
    }

    pub fn role(self, role: crate::domain::Role) -> &'static str {
        match self {
            Lang::Es => role.label_es(),
            Lang::En => role.label_en(),
        }
    }

    pub fn grant(self, grant: crate::domain::GrantType) -> &'static str {
        match self {
            Lang::Es => grant.label_es(),
            Lang::En => grant.label_en(),
        }
    }

    pub fn action(self, action: crate::domain::Action) -> &'static str {
        match self {
            Lang::Es => action.label_es(),
            Lang::En => action.label_en(),
        }
    }
}

/// Spanish → English.
const ENGLISH: &[(&str, &str)] = &[];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_has_no_duplicate_keys() {
        let mut keys: Vec<_> = ENGLISH.iter().map(|(k, _)| *k).collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len());
        assert_eq!(Lang::En.t("Guardar"), "Save");
        assert_eq!(Lang::Es.t("Guardar"), "Guardar");
    }
}
