//! No import circle in `src/`: the layers only ever point down. Every file's `use` trees and
//! inline `crate::`/`super::` paths are read as edges to the file that defines the item
//! (re-exports followed), and any two files that reach each other fail the test. A module
//! using what an enclosing module defines (a screen taking `Screen` from `screens/mod.rs`) is
//! how Rust nests rooms, not a circle, so that edge is left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Circles being taken apart elsewhere, each as its sorted files; a listed circle that is
/// gone fails the test too, so the list only shrinks.
const KNOWN: &[&[&str]] = &[];

#[test]
fn no_file_of_src_imports_its_way_back_to_itself() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_tree(&root, &root, &mut files);
    assert!(files.len() > 50, "src/ read: {} files", files.len());
    let found = circles(&files);
    let known: Vec<Vec<String>> = KNOWN
        .iter()
        .map(|c| c.iter().map(|f| f.to_string()).collect())
        .collect();
    let new: Vec<_> = found.iter().filter(|c| !known.contains(&c.0)).collect();
    let report: Vec<String> = new.iter().map(|c| c.1.clone()).collect();
    assert!(
        new.is_empty(),
        "import circles in src/:\n{}",
        report.join("\n")
    );
    for circle in &known {
        assert!(
            found.iter().any(|c| &c.0 == circle),
            "the circle {circle:?} is gone: take it out of KNOWN"
        );
    }
}

#[test]
fn the_check_sees_a_circle_through_a_re_export_and_not_a_child_using_its_parent() {
    let files = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect()
    };
    let direct = files(&[
        ("lib.rs", "pub mod a; pub mod b;"),
        ("a.rs", "use crate::b::Thing; pub struct Other;"),
        (
            "b.rs",
            "pub struct Thing; fn f() -> crate::a::Other { crate::a::Other }",
        ),
    ]);
    assert_eq!(names(&circles(&direct)), vec![vec!["a.rs", "b.rs"]]);
    let through_re_export = files(&[
        ("lib.rs", "pub mod a; pub mod b;"),
        ("a/mod.rs", "mod inner; pub use inner::Thing;"),
        (
            "a/inner.rs",
            "use crate::b::{self, Other as O}; pub struct Thing;",
        ),
        ("b.rs", "use crate::a::Thing; pub struct Other;"),
    ]);
    assert_eq!(
        names(&circles(&through_re_export)),
        vec![vec!["a/inner.rs", "b.rs"]]
    );
    let nested = files(&[
        ("lib.rs", "pub mod a;"),
        (
            "a/mod.rs",
            "mod child; pub use child::Thing; pub struct Shared;",
        ),
        (
            "a/child.rs",
            "use super::Shared; // use crate::lib::X;\n pub struct Thing(Shared); const S: &str = \"crate::a::child\";",
        ),
    ]);
    assert!(circles(&nested).is_empty());
    let test_module = files(&[
        ("lib.rs", "pub mod a; pub mod b;"),
        ("a.rs", "use crate::b::Thing; pub struct Other;"),
        (
            "b.rs",
            "pub struct Thing; #[cfg(test)] mod tests { use super::*; fn f(_: Thing) {} }",
        ),
    ]);
    assert!(circles(&test_module).is_empty());
}

fn names(found: &[(Vec<String>, String)]) -> Vec<Vec<&str>> {
    found
        .iter()
        .map(|c| c.0.iter().map(String::as_str).collect())
        .collect()
}

fn read_tree(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_tree(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("under src/");
            let rel = rel.to_string_lossy().replace('\\', "/");
            // The binary is a crate of its own on top of the library.
            if rel != "main.rs" {
                out.push((rel, std::fs::read_to_string(&path).expect("a source file")));
            }
        }
    }
}

type ModPath = Vec<String>;

/// The module a file holds: `tui/screens/mod.rs` → crate::tui::screens.
fn module_of(rel: &str) -> ModPath {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if parts == ["lib"] {
        parts.clear();
    }
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    std::iter::once("crate".to_string()).chain(parts).collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Path,
    Open,
    Close,
    Semi,
    Comma,
    Star,
    Other,
}

/// Tokens of a source file, with comments, strings and characters left out.
fn lex(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            loop {
                if i >= chars.len() {
                    break;
                } else if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            tokens.push(Token::Other);
        } else if (c == 'r' || (c == 'b' && at(i + 1) == 'r'))
            && {
                let mut j = i + if c == 'b' { 2 } else { 1 };
                while at(j) == '#' {
                    j += 1;
                }
                at(j) == '"'
            }
            && !(i > 0 && is_ident(chars[i - 1]))
        {
            // A raw string: r"…", r#"…"#, br"…".
            let mut j = i + if c == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while at(j) == '#' {
                hashes += 1;
                j += 1;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (1..=hashes).all(|k| at(j + k) == '#') {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
            tokens.push(Token::Other);
        } else if c == '\'' {
            // A character ('x', '\n', '\u{1F}') or a lifetime ('a).
            if at(i + 1) == '\\' {
                let mut j = i + 2;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
            tokens.push(Token::Other);
        } else if c == 'r' && at(i + 1) == '#' && is_ident_start(at(i + 2)) {
            i += 2;
        } else if is_ident_start(c) {
            let start = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            tokens.push(Token::Other);
        } else {
            i += 1;
            match c {
                ':' if at(i) == ':' => {
                    i += 1;
                    tokens.push(Token::Path);
                }
                '{' => tokens.push(Token::Open),
                '}' => tokens.push(Token::Close),
                ';' => tokens.push(Token::Semi),
                ',' => tokens.push(Token::Comma),
                '*' => tokens.push(Token::Star),
                c if c.is_whitespace() => {}
                _ => tokens.push(Token::Other),
            }
        }
    }
    tokens
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// One name a `use` brings in: its path as written and the name it goes by (`None` for `*`).
type Import = (Vec<String>, Option<String>);

/// A use tree from `tokens[i]`, under `base`; returns where it ends.
fn use_tree(tokens: &[Token], mut i: usize, base: &[String], out: &mut Vec<Import>) -> usize {
    let mut segs = base.to_vec();
    loop {
        match tokens.get(i) {
            Some(Token::Open) => {
                i += 1;
                loop {
                    match tokens.get(i) {
                        Some(Token::Comma) => i += 1,
                        Some(Token::Close) => return i + 1,
                        None => return i,
                        _ => i = use_tree(tokens, i, &segs, out),
                    }
                }
            }
            Some(Token::Star) => {
                out.push((segs, None));
                return i + 1;
            }
            Some(Token::Ident(name)) => {
                segs.push(name.clone());
                i += 1;
                if tokens.get(i) == Some(&Token::Path) {
                    i += 1;
                    continue;
                }
                let mut alias = name.clone();
                if tokens.get(i) == Some(&Token::Ident("as".into())) {
                    if let Some(Token::Ident(a)) = tokens.get(i + 1) {
                        alias = a.clone();
                    }
                    i += 2;
                }
                if alias == "self" {
                    segs.pop();
                    alias = segs.last().cloned().unwrap_or_default();
                }
                out.push((segs, Some(alias)));
                return i;
            }
            // `::std::…` or something that is no use tree.
            _ => return i + 1,
        }
    }
}

struct Parsed {
    /// (the module it is written in, what it imports, at the file's top level)
    uses: Vec<(ModPath, Vec<Import>, bool)>,
    /// (the module it is written in, a path `a::b::c` written in code)
    paths: Vec<(ModPath, Vec<String>)>,
}

fn parse(module: &ModPath, text: &str) -> Parsed {
    let tokens = lex(text);
    let mut parsed = Parsed {
        uses: Vec::new(),
        paths: Vec::new(),
    };
    // Inline modules (`mod tests { … }`): their name and the depth they opened at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        let here: ModPath = module
            .iter()
            .cloned()
            .chain(inline.iter().map(|(n, _)| n.clone()))
            .collect();
        match &tokens[i] {
            Token::Open => depth += 1,
            Token::Close => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            Token::Ident(word) if word == "mod" => {
                if let (Some(Token::Ident(name)), Some(Token::Open)) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    inline.push((name.clone(), depth));
                    depth += 1;
                    i += 3;
                    continue;
                }
            }
            Token::Ident(word) if word == "use" => {
                let mut imports = Vec::new();
                i = use_tree(&tokens, i + 1, &[], &mut imports);
                parsed.uses.push((here, imports, inline.is_empty()));
                continue;
            }
            Token::Ident(first) if tokens.get(i + 1) == Some(&Token::Path) => {
                let leading = i > 0 && tokens[i - 1] == Token::Path;
                let mut segs = vec![first.clone()];
                i += 1;
                while tokens.get(i) == Some(&Token::Path) {
                    match tokens.get(i + 1) {
                        Some(Token::Ident(next)) => {
                            segs.push(next.clone());
                            i += 2;
                        }
                        _ => break,
                    }
                }
                if !leading {
                    parsed.paths.push((here, segs));
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parsed
}

struct Crate {
    files: BTreeMap<ModPath, String>,
    /// Per module, the names its top-level `use`s bring in, as absolute paths.
    names: BTreeMap<ModPath, BTreeMap<String, Vec<String>>>,
}

impl Crate {
    fn has_module_under(&self, prefix: &[String]) -> bool {
        self.files.keys().any(|m| m.starts_with(prefix))
    }

    /// A path written in module `here` as an absolute path, when it names this crate.
    fn absolute(
        &self,
        segs: &[String],
        here: &ModPath,
        local: Option<&BTreeMap<String, Vec<String>>>,
    ) -> Option<Vec<String>> {
        let first = segs.first()?.as_str();
        match first {
            "crate" => Some(segs.to_vec()),
            "consola" => Some(
                std::iter::once("crate".into())
                    .chain(segs[1..].iter().cloned())
                    .collect(),
            ),
            "self" | "super" => {
                let mut base = here.clone();
                let mut rest = segs;
                while let Some(s) = rest.first() {
                    match s.as_str() {
                        "super" => {
                            base.pop();
                        }
                        "self" => {}
                        _ => break,
                    }
                    rest = &rest[1..];
                }
                Some(base.into_iter().chain(rest.iter().cloned()).collect())
            }
            _ => {
                if let Some(full) = local.and_then(|l| l.get(first)) {
                    return Some(full.iter().chain(&segs[1..]).cloned().collect());
                }
                let child: Vec<String> = here.iter().chain(&segs[..1]).cloned().collect();
                self.has_module_under(&child)
                    .then(|| here.iter().chain(segs).cloned().collect())
            }
        }
    }

    /// The file that defines what an absolute path names.
    fn target(&self, path: &[String], hops: usize) -> Option<&ModPath> {
        let (module, length) = (1..=path.len())
            .rev()
            .find_map(|k| self.files.get_key_value(&path[..k]).map(|(m, _)| (m, k)))?;
        let rest = &path[length..];
        if let Some(name) = rest.first()
            && hops < 10
            && let Some(full) = self.names.get(module).and_then(|n| n.get(name))
        {
            let next: Vec<String> = full.iter().chain(&rest[1..]).cloned().collect();
            return self.target(&next, hops + 1);
        }
        Some(module)
    }
}

/// The circles among `files` (path under src/, text): each as its sorted files and a report.
fn circles(files: &[(String, String)]) -> Vec<(Vec<String>, String)> {
    let mut krate = Crate {
        files: files
            .iter()
            .map(|(rel, _)| (module_of(rel), rel.clone()))
            .collect(),
        names: BTreeMap::new(),
    };
    let parsed: Vec<(ModPath, Parsed)> = files
        .iter()
        .map(|(rel, text)| (module_of(rel), parse(&module_of(rel), text)))
        .collect();
    for (module, p) in &parsed {
        let mut table = BTreeMap::new();
        for (here, imports, top) in &p.uses {
            for (segs, alias) in imports {
                if let (true, Some(alias)) = (*top, alias)
                    && let Some(full) = krate.absolute(segs, here, None)
                {
                    table.insert(alias.clone(), full);
                }
            }
        }
        krate.names.insert(module.clone(), table);
    }
    let mut edges: BTreeMap<&ModPath, BTreeMap<&ModPath, String>> = BTreeMap::new();
    for (module, p) in &parsed {
        let module = krate.files.get_key_value(module).expect("a file").0;
        let written = p
            .uses
            .iter()
            .flat_map(|(here, imports, _)| imports.iter().map(move |(s, _)| (here, s, None)))
            .chain(p.paths.iter().map(|(here, s)| {
                let top = here.len() == module.len();
                (here, s, top.then(|| &krate.names[module]))
            }));
        for (here, segs, local) in written {
            let Some(full) = krate.absolute(segs, here, local) else {
                continue;
            };
            let Some(to) = krate.target(&full, 0) else {
                continue;
            };
            // The same file, or an enclosing module: not an edge.
            if to == module || module.starts_with(to) {
                continue;
            }
            edges
                .entry(module)
                .or_default()
                .entry(to)
                .or_insert_with(|| full.join("::"));
        }
    }
    strongly_connected(&krate.files.keys().collect::<Vec<_>>(), &edges)
        .into_iter()
        .map(|component| {
            let mut names: Vec<String> =
                component.iter().map(|m| krate.files[*m].clone()).collect();
            names.sort();
            let members: BTreeSet<&ModPath> = component.iter().copied().collect();
            let mut report = format!("circle of {}: {}", names.len(), names.join(", "));
            for from in &component {
                for (to, why) in edges.get(from).into_iter().flatten() {
                    if members.contains(to) {
                        let (a, b) = (&krate.files[*from], &krate.files[*to]);
                        report.push_str(&format!("\n    {a} -> {b}  ({why})"));
                    }
                }
            }
            (names, report)
        })
        .collect()
}

/// Tarjan's strongly connected components of more than one node.
fn strongly_connected<'a>(
    nodes: &[&'a ModPath],
    edges: &BTreeMap<&'a ModPath, BTreeMap<&'a ModPath, String>>,
) -> Vec<Vec<&'a ModPath>> {
    struct Walk<'a, 'e> {
        edges: &'e BTreeMap<&'a ModPath, BTreeMap<&'a ModPath, String>>,
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        on_stack: BTreeSet<&'a ModPath>,
        found: Vec<Vec<&'a ModPath>>,
    }
    impl<'a> Walk<'a, '_> {
        fn visit(&mut self, v: &'a ModPath) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            let next: Vec<&'a ModPath> = self
                .edges
                .get(v)
                .map(|e| e.keys().copied().collect())
                .unwrap_or_default();
            for w in next {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in nodes {
        if !walk.index.contains_key(*node) {
            walk.visit(node);
        }
    }
    walk.found
}
