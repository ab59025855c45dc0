//! How results are printed: `-o table` (aligned, sanitised like the console, coloured only
//! on a terminal and never with `NO_COLOR`), `-o json` and `-o yaml` (the API's own shapes,
//! one document), or `-q` (ids only, one per line).

use super::{CliResult, Failure};
use clap::ValueEnum;
use serde::Serialize;
use std::io::{IsTerminal, Write};
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people (the default).
    #[default]
    Table,
    /// The API's JSON; a list is one array.
    Json,
    /// The same document as YAML.
    Yaml,
}

#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(
        short = 'o',
        long = "output",
        value_enum,
        default_value_t,
        global = true
    )]
    pub format: Format,
    /// Print only ids, one per line.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

impl OutputArgs {
    /// A printer to this process's standard output and error.
    pub fn printer(&self) -> Printer {
        let colour = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Printer {
            format: self.format,
            quiet: self.quiet,
            colour,
            streams: Streams::process(),
        }
    }

    /// A printer to `streams` (a command run over SSH), without colour.
    pub fn printer_to(&self, streams: Streams) -> Printer {
        Printer {
            format: self.format,
            quiet: self.quiet,
            colour: false,
            streams,
        }
    }
}

/// One end of a command's output, shared by its printer and whoever collects it.
pub type Sink = std::sync::Arc<parking_lot::Mutex<dyn Write + Send>>;

/// Where a command writes, and whether a person at this process's terminal may be asked
/// things (a command run over SSH has no such person: it never prompts here).
#[derive(Clone)]
pub struct Streams {
    pub out: Sink,
    pub err: Sink,
    pub local: bool,
}

impl Streams {
    /// This process's standard output and error, with its terminal.
    pub fn process() -> Streams {
        Streams {
            out: std::sync::Arc::new(parking_lot::Mutex::new(std::io::stdout())),
            err: std::sync::Arc::new(parking_lot::Mutex::new(std::io::stderr())),
            local: true,
        }
    }

    /// Buffers, for a command whose output goes elsewhere; `local` is false.
    pub fn buffers() -> (Streams, Buffer, Buffer) {
        let out = Buffer::default();
        let err = Buffer::default();
        (
            Streams {
                out: std::sync::Arc::new(parking_lot::Mutex::new(out.clone())),
                err: std::sync::Arc::new(parking_lot::Mutex::new(err.clone())),
                local: false,
            },
            out,
            err,
        )
    }

    pub fn write_out(&self, text: &str) -> CliResult {
        write_to(&self.out, text)
    }

    pub fn write_err(&self, text: &str) -> CliResult {
        write_to(&self.err, text)
    }
}

fn write_to(sink: &Sink, text: &str) -> CliResult {
    let mut sink = sink.lock();
    sink.write_all(text.as_bytes())?;
    sink.flush()?;
    Ok(())
}

/// Bytes collected in memory; clones share them.
#[derive(Clone, Default)]
pub struct Buffer(std::sync::Arc<parking_lot::Mutex<Vec<u8>>>);

impl Buffer {
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock())
    }
}

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// How a table cell is drawn on a colour terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    /// Green: enabled, current.
    Good,
    /// Grey: disabled, previous.
    Dim,
}

#[derive(Debug, Clone)]
pub struct Cell {
    text: String,
    tone: Tone,
}

impl Cell {
    /// Text from the server, made safe to print like the console does.
    pub fn text(text: &str) -> Cell {
        Cell {
            text: crate::terminal::clean(text).into_owned(),
            tone: Tone::Plain,
        }
    }

    pub fn toned(text: &str, tone: Tone) -> Cell {
        Cell {
            tone,
            ..Cell::text(text)
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::text(&text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::text(text)
    }
}

/// Columns of the table, aligned by display width.
pub fn render_table(headers: &[&str], rows: &[Vec<Cell>], colour: bool) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.width()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.text.width());
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<(&str, Tone)>, bold: bool| {
        let last = cells.len().saturating_sub(1);
        let mut text = String::new();
        for (i, (cell, tone)) in cells.into_iter().enumerate() {
            let pad = if i == last {
                0
            } else {
                widths[i].saturating_sub(cell.width()) + 2
            };
            let styled = match (colour, bold, tone) {
                (false, _, _) => cell.to_string(),
                (true, true, _) => format!("\x1b[1m{cell}\x1b[0m"),
                (true, false, Tone::Good) => format!("\x1b[32m{cell}\x1b[0m"),
                (true, false, Tone::Dim) => format!("\x1b[2m{cell}\x1b[0m"),
                (true, false, Tone::Plain) => cell.to_string(),
            };
            text.push_str(&styled);
            text.push_str(&" ".repeat(pad));
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(headers.iter().map(|h| (*h, Tone::Plain)).collect(), true);
    for row in rows {
        line(
            row.iter().map(|c| (c.text.as_str(), c.tone)).collect(),
            false,
        );
    }
    out
}

/// Prints one command's result in the chosen format.
pub struct Printer {
    pub format: Format,
    pub quiet: bool,
    colour: bool,
    pub streams: Streams,
}

impl Printer {
    fn write(&self, text: &str) -> CliResult {
        self.streams.write_out(text)
    }

    /// A line on the output as it is (an id after `-q`).
    pub fn line(&self, text: &str) -> CliResult {
        self.write(&format!("{text}\n"))
    }

    /// A line for people on the error stream: `consola: ` and the text.
    pub fn warn(&self, text: &str) -> CliResult {
        self.streams.write_err(&format!("consola: {text}\n"))
    }

    /// The value as one JSON or YAML document (table mode prints nothing here).
    pub fn document<T: Serialize + ?Sized>(&self, value: &T) -> CliResult {
        let text = match self.format {
            Format::Json => serde_json::to_string_pretty(value)
                .map(|mut text| {
                    text.push('\n');
                    text
                })
                .map_err(|e| Failure::failed(format!("no se pudo escribir JSON: {e}")))?,
            Format::Yaml => serde_yaml_ng::to_string(value)
                .map_err(|e| Failure::failed(format!("no se pudo escribir YAML: {e}")))?,
            Format::Table => return Ok(()),
        };
        self.write(&text)
    }

    /// A list: ids, one document, or a table with these headers and one row per item.
    pub fn list<T: Serialize>(
        &self,
        items: &[T],
        id: impl Fn(&T) -> String,
        headers: &[&str],
        row: impl Fn(&T) -> Vec<Cell>,
    ) -> CliResult {
        if self.quiet {
            let ids: String = items.iter().map(|i| format!("{}\n", id(i))).collect();
            return self.write(&ids);
        }
        match self.format {
            Format::Table => {
                let rows: Vec<Vec<Cell>> = items.iter().map(row).collect();
                self.write(&render_table(headers, &rows, self.colour))
            }
            _ => self.document(items),
        }
    }

    /// One object: its id, one document, or a field/value table.
    pub fn one<T: Serialize>(&self, item: &T, id: &str, fields: Vec<(&str, Cell)>) -> CliResult {
        if self.quiet {
            return self.write(&format!("{id}\n"));
        }
        match self.format {
            Format::Table => {
                let rows: Vec<Vec<Cell>> = fields
                    .into_iter()
                    .map(|(name, value)| vec![Cell::text(name), value])
                    .collect();
                self.write(&render_table(&["Campo", "Valor"], &rows, self.colour))
            }
            _ => self.document(item),
        }
    }

    /// A line for people after a change with no body (table mode only; stdout).
    pub fn note(&self, text: &str) -> CliResult {
        if self.format == Format::Table && !self.quiet {
            self.write(&format!("{}\n", crate::terminal::clean(text)))
        } else {
            Ok(())
        }
    }

    /// The warning that goes with a secret printed once: on stderr, so stdout stays
    /// pipeable, and only in table mode (a JSON or YAML reader knows what it asked for).
    pub fn secret_warning(&self) -> CliResult {
        if self.format == Format::Table {
            self.warn(
                "guarde el secreto ahora: no se volverá a mostrar \
                 (the secret will not be shown again)",
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_by_display_width_and_text_is_sanitised() {
        let rows = vec![
            vec![Cell::text("Órdenes 日本"), Cell::text("x")],
            vec![
                Cell::text("a\u{1b}[31mb"),
                Cell::toned("Activo", Tone::Good),
            ],
        ];
        let text = render_table(&["Nombre", "Estado"], &rows, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Nombre        Estado");
        assert_eq!(lines[1], "Órdenes 日本  x");
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(lines[2].starts_with("a␛[31mb"));
        let coloured = render_table(&["Nombre", "Estado"], &rows, true);
        assert!(coloured.contains("\x1b[32mActivo\x1b[0m"));
    }
}
