//! The languages the terminal front ends speak: what the console's `--lang`, the file's `lang`
//! and an SSH client's `LANG` choose. What each one says is the console's (`tui::i18n`).

/// Language of the console (Spanish, the source text, or English).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
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
