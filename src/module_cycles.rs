//! A test that keeps the files of `src/` free of import cycles: no file may depend, directly or
//! through others, on a file that depends on it.
//!
//! A file depends on another when it names one of its items through `crate::…`, `super::…`,
//! `self::…` or one of its own child modules, in a `use` or inline. Naming an ancestor module
//! (a child using its parent's helpers) does not count: that is how Rust modules nest, and the
//! parent's `mod` lines and routes to its children would otherwise make every folder a cycle.
//! Inline `mod … { }` blocks (unit tests) are skipped; `main.rs` is the binary, not the library.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

/// Cycles that exist and are known, each as the sorted list of its files' modules. The test fails
/// on any other cycle, and when one of these is gone (so that this list only ever shrinks).
const KNOWN: &[&[&str]] = &[];

type Module = Vec<String>;

/// Every file under `src/` but `main.rs`, by module path (`crate::web::admin::session`).
fn modules(src: &Path) -> BTreeMap<Module, String> {
    fn walk(dir: &Path, src: &Path, out: &mut BTreeMap<Module, String>) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, src, out);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).expect("under src/").with_extension("");
            let mut module: Module = vec!["crate".into()];
            module.extend(relative.iter().map(|p| p.to_string_lossy().into_owned()));
            match module.last().map(String::as_str) {
                Some("main") if module.len() == 2 => continue,
                Some("mod") | Some("lib") => {
                    module.pop();
                }
                _ => {}
            }
            out.insert(module, std::fs::read_to_string(&path).expect("a source file is readable"));
        }
    }
    let mut out = BTreeMap::new();
    walk(src, src, &mut out);
    out
}

/// The code without comments, string and character literals, and inline `mod name { … }` blocks.
fn code_of(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_char(chars.get(i.wrapping_sub(1))) {
            // A raw string: r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            while j < chars.len() && !(chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#'))) {
                j += 1;
            }
            i = j + 1 + hashes;
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A character literal ('x', '\n', '"'), or a lifetime ('a), kept.
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    without_inline_modules(&out)
}

fn ident_char(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

fn without_inline_modules(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(start) = find_word(rest, "mod") {
        let after = &rest[start + 3..];
        let name_end = after.trim_start().find(|c: char| !c.is_alphanumeric() && c != '_').unwrap_or(0);
        let tail = after.trim_start()[name_end..].trim_start();
        if !tail.starts_with('{') {
            out.push_str(&rest[..start + 3]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..start]);
        let open = rest.len() - tail.len();
        let mut depth = 0;
        let mut end = rest.len();
        for (k, ch) in rest[open..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The byte offset of `word` standing alone (not part of a longer identifier).
fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = text[from..].find(word) {
        let at = from + found;
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        if !ident_char(before.as_ref()) && !ident_char(after.as_ref()) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e` (whitespace already removed).
fn expand(tree: &str) -> Vec<String> {
    let Some(open) = tree.find('{') else { return vec![tree.to_string()] };
    let (prefix, inner) = (&tree[..open], &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())]);
    let (mut items, mut depth, mut current) = (Vec::new(), 0, String::new());
    for ch in inner.chars() {
        match ch {
            ',' if depth == 0 => items.push(std::mem::take(&mut current)),
            '{' => {
                depth += 1;
                current.push(ch);
            }
            '}' => {
                depth -= 1;
                current.push(ch);
            }
            _ => current.push(ch),
        }
    }
    items.push(current);
    items.iter().filter(|i| !i.is_empty()).flat_map(|i| expand(&format!("{prefix}{i}"))).collect()
}

/// A use tree without its renames (`a as b` names `a`) nor its whitespace.
fn without_renames(tree: &str) -> String {
    let tree = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let (mut out, mut rest) = (String::new(), tree.as_str());
    while let Some(k) = rest.find(" as ") {
        out.push_str(&rest[..k]);
        rest = rest[k + 4..].trim_start_matches(|c: char| c.is_alphanumeric() || c == '_');
    }
    out.push_str(rest);
    out.split_whitespace().collect()
}

/// The paths a file's code names: those of its `use` trees, and `a::b::c` written inline.
fn paths_in(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = find_word(rest, "use") {
        let end = rest[at..].find(';').map_or(rest.len(), |e| at + e);
        paths.extend(expand(&without_renames(&rest[at + 3..end])));
        rest = &rest[end..];
    }
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts = (chars[i].is_alphabetic() || chars[i] == '_')
            && !ident_char(i.checked_sub(1).and_then(|k| chars.get(k)))
            && !(i >= 1 && chars[i - 1] == ':');
        if !starts {
            i += 1;
            continue;
        }
        let mut path = String::new();
        loop {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                path.push(chars[i]);
                i += 1;
            }
            if chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':') && ident_char(chars.get(i + 2)) {
                path.push_str("::");
                i += 2;
            } else {
                break;
            }
        }
        if path.contains("::") {
            paths.push(path);
        }
    }
    paths
}

/// Each file's dependencies on other files (not on its own ancestors).
fn dependencies(modules: &BTreeMap<Module, String>) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut graph = BTreeMap::new();
    for (module, text) in modules {
        let code = code_of(text);
        let mut children = BTreeSet::new();
        let mut rest = code.as_str();
        while let Some(at) = find_word(rest, "mod") {
            let after = rest[at + 3..].trim_start();
            let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if after[name.len()..].trim_start().starts_with(';') {
                children.insert(name);
            }
            rest = &rest[at + 3..];
        }
        let mut targets = BTreeSet::new();
        for path in paths_in(&code) {
            let mut segments = path.split("::").filter(|s| !s.is_empty()).peekable();
            let mut full: Module = match segments.peek().copied() {
                Some("crate") => {
                    segments.next();
                    vec!["crate".into()]
                }
                Some("super") | Some("self") => {
                    let mut full = module.clone();
                    while let Some(s) = segments.next_if(|s| *s == "super" || *s == "self") {
                        if s == "super" {
                            full.pop();
                        }
                    }
                    full
                }
                Some(first) if children.contains(first) => module.clone(),
                _ => continue,
            };
            full.extend(segments.map(str::to_string));
            while !modules.contains_key(&full) && full.len() > 1 {
                full.pop();
            }
            let ancestor = full.len() <= module.len() && module[..full.len()] == full[..];
            if !ancestor && modules.contains_key(&full) {
                targets.insert(full);
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

/// The groups of files that depend on each other, each sorted.
fn cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> BTreeSet<Vec<String>> {
    let names: Vec<&Module> = graph.keys().collect();
    let index: BTreeMap<&Module, usize> = names.iter().enumerate().map(|(k, m)| (*m, k)).collect();
    let n = names.len();
    let mut reach = vec![vec![false; n]; n];
    for (from, targets) in graph {
        for to in targets {
            reach[index[from]][index[to]] = true;
        }
    }
    for k in 0..n {
        for i in 0..n {
            if reach[i][k] {
                let through_k = reach[k].clone();
                for (cell, via) in reach[i].iter_mut().zip(through_k) {
                    *cell |= via;
                }
            }
        }
    }
    (0..n)
        .filter(|&i| reach[i][i])
        .map(|i| (0..n).filter(|&j| reach[i][j] && reach[j][i]).map(|j| names[j].join("::")).collect())
        .collect()
}

#[test]
fn no_file_of_src_takes_part_in_an_import_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = modules(&src);
    assert!(modules.len() > 50, "every file of src/ is read ({} found)", modules.len());
    let graph = dependencies(&modules);
    let name = |m: &str| m.split("::").map(str::to_string).collect::<Module>();
    // The graph sees what it should: a use tree, an inline path, `super::`, a child module.
    assert!(graph[&name("crate::web::admin::session")].contains(&name("crate::web::html")));
    assert!(graph[&name("crate::cli::peers")].contains(&name("crate::app::peers")));
    assert!(graph[&name("crate::web::admin::dashboard")].contains(&name("crate::web::admin::compose")));
    assert!(graph[&name("crate::web::admin")].contains(&name("crate::web::admin::login")));

    let found = cycles(&graph);
    let known: BTreeSet<Vec<String>> =
        KNOWN.iter().map(|group| group.iter().map(|m| m.to_string()).collect()).collect();
    let new: Vec<_> = found.difference(&known).collect();
    assert!(new.is_empty(), "import cycles between files (break them by moving the shared piece): {new:#?}");
    let gone: Vec<_> = known.difference(&found).collect();
    assert!(gone.is_empty(), "these known cycles are gone; remove them from KNOWN: {gone:#?}");
}

#[test]
fn a_cycle_is_found() {
    let file = |path: &str, text: &str| (path.split("::").map(str::to_string).collect::<Module>(), text.to_string());
    let modules: BTreeMap<Module, String> = [
        file("crate", "mod a; mod b; mod c;"),
        file("crate::a", "use crate::b::{self, Thing};\n// use crate::c;\n"),
        file("crate::b", "fn f() { super::c::g(\"crate::a\") }\n#[cfg(test)]\nmod tests { use crate::a; }"),
        file("crate::c", "pub fn g(_: &str) { let _ = '\"'; crate::a::h(); }"),
    ]
    .into_iter()
    .collect();
    let expected: BTreeSet<Vec<String>> = [vec!["crate::a".into(), "crate::b".into(), "crate::c".into()]].into();
    assert_eq!(cycles(&dependencies(&modules)), expected);
}
