//! The app's modules depend one way: no cycle between the children of any
//! module (`auth` and `http`, `monitor::alerts` and `monitor::incidents`, …).
//!
//! Reads `app/src/**/*.rs`, collects every `crate::…`, `super::…` and
//! `self::…` path (in `use` trees and in code, test modules included),
//! follows `use` re-exports to the module that defines the item, and
//! checks that the graph among the children of each module is acyclic.
//! A child using its parent (or the parent its children) is not an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Colons,
    Open,
    Close,
    Comma,
    Semi,
    Star,
    Other,
}

/// Tokens of Rust source with their line numbers; comments, strings and
/// character literals are dropped, so a path in a doc comment is no edge.
fn lex(src: &str) -> Vec<(Tok, usize)> {
    let c: Vec<char> = src.chars().collect();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let ident_char = |ch: char| ch.is_alphanumeric() || ch == '_';
    // Skips a string body after its opening quote; `hashes` for raw strings.
    let skip_string = |mut i: usize, hashes: Option<usize>, line: &mut usize| {
        while i < c.len() {
            match (c[i], hashes) {
                ('\\', None) => i += 1,
                ('"', None) => return i + 1,
                ('"', Some(n)) if (1..=n).all(|k| at(i + k) == '#') => return i + 1 + n,
                ('\n', _) => *line += 1,
                _ => {}
            }
            i += 1;
        }
        i
    };
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if ch == '"' {
            i = skip_string(i + 1, None, &mut line);
        } else if ch == '\'' {
            if at(i + 1) == '\\' {
                // Past the quote, the backslash and the escaped character.
                i += 3;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                // A lifetime: its name lexes as an identifier, which is harmless.
                i += 1;
            }
        } else if ident_char(ch) && !ch.is_ascii_digit() {
            let start = i;
            while i < c.len() && ident_char(c[i]) {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            match (word.as_str(), at(i)) {
                ("r" | "br", '#') if at(i + 1) == '#' || at(i + 1) == '"' => {
                    let hashes = (i..).take_while(|&k| at(k) == '#').count();
                    i = skip_string(i + hashes + 1, Some(hashes), &mut line);
                }
                ("r", '#') => {
                    // A raw identifier: `r#type`.
                    let start = i + 1;
                    i = start;
                    while i < c.len() && ident_char(c[i]) {
                        i += 1;
                    }
                    out.push((Tok::Ident(c[start..i].iter().collect()), line));
                }
                ("r" | "br", '"') => i = skip_string(i + 1, Some(0), &mut line),
                ("b", '"') => i = skip_string(i + 1, None, &mut line),
                ("b", '\'') => {
                    i += 1;
                    if at(i) == '\\' {
                        i += 1;
                    }
                    i += 1;
                    while i < c.len() && c[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                }
                _ => out.push((Tok::Ident(word), line)),
            }
        } else if ch.is_ascii_digit() {
            while i < c.len() && (ident_char(c[i]) || (c[i] == '.' && at(i + 1).is_ascii_digit())) {
                i += 1;
            }
        } else {
            let tok = match ch {
                ':' if at(i + 1) == ':' => {
                    i += 1;
                    Tok::Colons
                }
                '{' => Tok::Open,
                '}' => Tok::Close,
                ',' => Tok::Comma,
                ';' => Tok::Semi,
                '*' => Tok::Star,
                _ => Tok::Other,
            };
            out.push((tok, line));
            i += 1;
        }
    }
    out
}

/// One path written in a module, as written (`super::state::Change`).
#[derive(Debug, Clone)]
struct Reference {
    module: Module,
    path: Vec<String>,
    file: String,
    line: usize,
}

/// A `use` in `module`: `name` there stands for `path`.
#[derive(Debug, Clone)]
struct Reexport {
    module: Module,
    name: String,
    path: Vec<String>,
}

/// The module a file under `src/` holds: `monitor/alerts/mod.rs` is `monitor::alerts`.
fn module_of(rel: &str) -> Module {
    let mut parts: Module = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// Expands one `use` tree starting at `toks[*i]` into its leaves (path, name).
fn use_tree(toks: &[(Tok, usize)], i: &mut usize, prefix: &[String]) -> Vec<(Vec<String>, String)> {
    let mut path = prefix.to_vec();
    let mut leaves = Vec::new();
    if toks.get(*i).map(|t| &t.0) == Some(&Tok::Colons) {
        *i += 1;
    }
    while let Some((tok, _)) = toks.get(*i) {
        match tok {
            Tok::Open => {
                *i += 1;
                loop {
                    leaves.extend(use_tree(toks, i, &path));
                    match toks.get(*i).map(|t| &t.0) {
                        Some(Tok::Comma) => *i += 1,
                        _ => break,
                    }
                    if toks.get(*i).map(|t| &t.0) == Some(&Tok::Close) {
                        break;
                    }
                }
                *i += 1;
                return leaves;
            }
            Tok::Star => {
                *i += 1;
                leaves.push((path, "*".to_owned()));
                return leaves;
            }
            Tok::Ident(word) => {
                path.push(word.clone());
                *i += 1;
                if toks.get(*i).map(|t| &t.0) == Some(&Tok::Colons) {
                    *i += 1;
                    continue;
                }
                let mut name = word.clone();
                if let (Some((Tok::Ident(kw), _)), Some((Tok::Ident(alias), _))) =
                    (toks.get(*i), toks.get(*i + 1))
                    && kw == "as"
                {
                    name = alias.clone();
                    *i += 2;
                }
                if name == "self" {
                    path.pop();
                    name = path.last().cloned().unwrap_or_default();
                }
                leaves.push((path, name));
                return leaves;
            }
            _ => return leaves,
        }
    }
    leaves
}

/// The paths and re-exports of one file holding `module`.
fn scan(file: &str, module: &Module, src: &str) -> (Vec<Reference>, Vec<Reexport>) {
    let toks = lex(src);
    let (mut refs, mut reexports) = (Vec::new(), Vec::new());
    // Inline modules (`mod tests { … }`) with the brace depth they close at.
    let mut inline: Vec<(String, i64)> = Vec::new();
    let mut depth: i64 = 0;
    let mut i = 0;
    let current = |inline: &[(String, i64)]| -> Module {
        let mut m = module.clone();
        m.extend(inline.iter().map(|(name, _)| name.clone()));
        m
    };
    while i < toks.len() {
        let (tok, line) = &toks[i];
        let after_colons = i > 0 && toks[i - 1].0 == Tok::Colons;
        match tok {
            Tok::Open => depth += 1,
            Tok::Close => {
                depth -= 1;
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            Tok::Ident(word) if word == "mod" => {
                if let (Some((Tok::Ident(name), _)), Some((Tok::Open, _))) =
                    (toks.get(i + 1), toks.get(i + 2))
                {
                    inline.push((name.clone(), depth));
                    depth += 1;
                    i += 3;
                    continue;
                }
            }
            Tok::Ident(word) if word == "use" && !after_colons => {
                let line = *line;
                i += 1;
                let here = current(&inline);
                for (path, name) in use_tree(&toks, &mut i, &[]) {
                    // Any `use` is a name descendants may go through (`super::Name`).
                    if name != "*" {
                        reexports.push(Reexport {
                            module: here.clone(),
                            name,
                            path: path.clone(),
                        });
                    }
                    refs.push(Reference {
                        module: here.clone(),
                        path,
                        file: file.to_owned(),
                        line,
                    });
                }
                continue;
            }
            Tok::Ident(word)
                if matches!(word.as_str(), "crate" | "super" | "self") && !after_colons =>
            {
                let mut path = vec![word.clone()];
                while let (Some((Tok::Colons, _)), Some((Tok::Ident(next), _))) =
                    (toks.get(i + 1), toks.get(i + 2))
                {
                    path.push(next.clone());
                    i += 2;
                }
                if path.len() > 1 {
                    refs.push(Reference {
                        module: current(&inline),
                        path,
                        file: file.to_owned(),
                        line: *line,
                    });
                }
            }
            _ => {}
        }
        i += 1;
    }
    (refs, reexports)
}

/// The crate's module graph: references and what the names `use` brings in stand for.
struct Crate {
    modules: BTreeSet<Module>,
    refs: Vec<Reference>,
    reexports: BTreeMap<(Module, String), Vec<String>>,
}

impl Crate {
    /// Reads `files`: (path under `src/`, source).
    fn new(files: &[(String, String)]) -> Self {
        let mut modules = BTreeSet::new();
        let mut refs = Vec::new();
        let mut raw = Vec::new();
        for (file, src) in files {
            let module = module_of(file);
            modules.insert(module.clone());
            let (r, x) = scan(file, &module, src);
            for reference in &r {
                // Inline modules are modules too.
                for n in module.len()..=reference.module.len() {
                    modules.insert(reference.module[..n].to_vec());
                }
            }
            refs.extend(r);
            raw.extend(x);
        }
        let mut krate = Self {
            modules,
            refs,
            reexports: BTreeMap::new(),
        };
        for x in raw {
            if let Some(path) = krate.absolute(&x.module, &x.path) {
                krate.reexports.insert((x.module, x.name), path);
            }
        }
        krate
    }

    /// `path` written in `module` from the crate root, or `None` when it
    /// names another crate (or an item in scope rather than a module).
    fn absolute(&self, module: &Module, path: &[String]) -> Option<Vec<String>> {
        let mut base = module.clone();
        let mut rest = path;
        match rest.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                rest = &rest[1..];
            }
            Some("self") => rest = &rest[1..],
            Some("super") => {
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
            }
            Some(first) => {
                // A 2018-style relative path: only a child module counts.
                let mut child = module.clone();
                child.push(first.to_owned());
                if !self.modules.contains(&child) {
                    return None;
                }
            }
            None => return None,
        }
        base.extend(rest.iter().cloned());
        Some(base)
    }

    /// The module that defines what absolute `path` names, through re-exports.
    fn target(&self, path: &[String]) -> Module {
        let mut path = path.to_vec();
        for _ in 0..16 {
            let mut module: Module = Vec::new();
            while module.len() < path.len() {
                let mut next = module.clone();
                next.push(path[module.len()].clone());
                if !self.modules.contains(&next) {
                    break;
                }
                module = next;
            }
            let Some(name) = path.get(module.len()) else {
                return module;
            };
            match self.reexports.get(&(module.clone(), name.clone())) {
                Some(to) if *to != path[..=module.len()] => {
                    let mut again = to.clone();
                    again.extend(path[module.len() + 1..].iter().cloned());
                    path = again;
                }
                _ => return module,
            }
        }
        Vec::new()
    }

    /// Edges between siblings: (parent, from child, to child) with the first reference seen.
    fn edges(&self) -> BTreeMap<(Module, String, String), String> {
        let mut edges = BTreeMap::new();
        for r in &self.refs {
            let Some(path) = self.absolute(&r.module, &r.path) else {
                continue;
            };
            let to = self.target(&path);
            let from = &r.module;
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common >= from.len() || common >= to.len() {
                continue;
            }
            edges
                .entry((
                    from[..common].to_vec(),
                    from[common].clone(),
                    to[common].clone(),
                ))
                .or_insert_with(|| format!("{}:{} `{}`", r.file, r.line, r.path.join("::")));
        }
        edges
    }

    /// Every cycle among siblings, each named with the references that make it.
    fn cycles(&self) -> Vec<String> {
        let edges = self.edges();
        let mut by_parent: BTreeMap<&Module, BTreeMap<&str, Vec<&str>>> = BTreeMap::new();
        for (parent, from, to) in edges.keys() {
            by_parent
                .entry(parent)
                .or_default()
                .entry(from.as_str())
                .or_default()
                .push(to.as_str());
        }
        let mut found = Vec::new();
        let mut seen: BTreeSet<(Module, BTreeSet<&str>)> = BTreeSet::new();
        for (parent, graph) in &by_parent {
            for start in graph.keys() {
                let Some(cycle) = cycle_from(graph, start) else {
                    continue;
                };
                let members: BTreeSet<&str> = cycle.iter().copied().collect();
                if !seen.insert(((*parent).clone(), members)) {
                    continue;
                }
                let name = |m: &str| {
                    let mut full = (*parent).clone();
                    full.push(m.to_owned());
                    full.join("::")
                };
                let steps: Vec<String> = cycle
                    .windows(2)
                    .map(|w| {
                        let why = &edges[&((*parent).clone(), w[0].to_owned(), w[1].to_owned())];
                        format!("  {} -> {} ({why})", name(w[0]), name(w[1]))
                    })
                    .collect();
                found.push(format!("cycle {}:\n{}", name(cycle[0]), steps.join("\n")));
            }
        }
        found
    }
}

/// A cycle through `start` (first and last element), if there is one.
fn cycle_from<'a>(graph: &BTreeMap<&'a str, Vec<&'a str>>, start: &'a str) -> Option<Vec<&'a str>> {
    let mut stack = vec![(start, vec![start])];
    let mut visited = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for &next in graph.get(node).into_iter().flatten() {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(start);
                return Some(cycle);
            }
            if visited.insert(next) {
                let mut longer = path.clone();
                longer.push(next);
                stack.push((next, longer));
            }
        }
    }
    None
}

fn sources(root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut dirs: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(f, s)| ((*f).to_owned(), (*s).to_owned()))
        .collect()
}

/// Fails naming every cycle in the crate at `src` (relative to this crate),
/// which must show at least `least` modules and edges: a parse that found
/// nothing would pass.
fn assert_acyclic(src: &str, least: usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(src);
    let krate = Crate::new(&sources(&root));
    assert!(
        krate.modules.len() > least,
        "{} modules",
        krate.modules.len()
    );
    assert!(krate.edges().len() > least, "{} edges", krate.edges().len());
    let cycles = krate.cycles();
    assert!(cycles.is_empty(), "{}", cycles.join("\n"));
}

#[test]
fn the_app_has_no_module_cycle() {
    assert_acyclic("src", 100);
}

/// The edge crate too (it sits beside this one in the workspace): the
/// Architecture issue asks for no cycle in `proxy` either.
#[test]
fn the_proxy_has_no_module_cycle() {
    assert_acyclic("../proxy/src", 10);
}

#[test]
fn a_cycle_is_found_and_named() {
    let krate = Crate::new(&files(&[
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        ("a.rs", "use crate::b::Thing;\n"),
        ("b.rs", "pub struct Thing;\nfn f() { super::a::g(); }\n"),
    ]));
    let cycles = krate.cycles();
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(
        cycles[0].contains("a -> b (a.rs:1 `crate::b::Thing`)"),
        "{}",
        cycles[0]
    );
    assert!(
        cycles[0].contains("b -> a (b.rs:2 `super::a::g`)"),
        "{}",
        cycles[0]
    );
}

#[test]
fn a_cycle_through_a_reexport_and_a_use_tree_is_found() {
    let krate = Crate::new(&files(&[
        ("lib.rs", "pub mod m;\n"),
        ("m/mod.rs", "mod x;\nmod y;\npub use x::Thing;\n"),
        ("m/x.rs", "use crate::{clock, m::{y::{self, Other}}};\n"),
        ("m/y.rs", "use super::Thing as T;\n"),
    ]));
    let cycles = krate.cycles();
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(cycles[0].contains("m::x -> m::y"), "{}", cycles[0]);
    assert!(
        cycles[0].contains("m::y -> m::x (m/y.rs:1 `super::Thing`)"),
        "{}",
        cycles[0]
    );
}

#[test]
fn comments_strings_and_parent_links_are_no_edges() {
    let krate = Crate::new(&files(&[
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        (
            "a.rs",
            "use crate::b::Thing;\n/// Unlike [`crate::a`].\nconst S: &str = \"crate::a::x\";\n",
        ),
        (
            "b/mod.rs",
            "mod c;\n// crate::a::f()\nconst R: &str = r#\"super::a\"#;\nconst C: char = '\"';\nconst Q: char = '\\'';\nconst B: u8 = b'{';\nfn f() { c::g(); }\n",
        ),
        (
            "b/c.rs",
            "fn g<'a>(x: &'a str) { super::f(); }\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
        ),
    ]));
    assert!(krate.cycles().is_empty(), "{:?}", krate.cycles());
    assert_eq!(
        krate.edges().keys().cloned().collect::<Vec<_>>(),
        [(Vec::new(), "a".to_owned(), "b".to_owned())]
    );
}
