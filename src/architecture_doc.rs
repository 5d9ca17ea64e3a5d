//! A test that keeps docs/ARCHITECTURE.md true: every module its map names exists, and every file
//! of `src/` is named there (so a new module is documented when it is added).

use std::{collections::BTreeSet, path::Path};

/// The modules the map names, as paths under `src/` without `.rs` (`app/bulletins`).
fn named_in_map(doc: &str) -> BTreeSet<String> {
    let map = doc.split("\n## Map").nth(1).expect("ARCHITECTURE.md has a `## Map` section");
    let map = map.split("\n## ").next().unwrap_or_default();
    let mut named = BTreeSet::new();
    for row in map.lines().filter(|l| l.starts_with("| `") || l.starts_with("| top level")) {
        let mut cells = row.trim_matches('|').splitn(2, '|');
        let place = cells.next().unwrap_or_default().trim().trim_matches('`');
        let folder = if place == "top level" { String::new() } else { place.to_string() };
        let what = cells.next().unwrap_or_default();
        for token in what.split('`').skip(1).step_by(2) {
            // Module names only: `AppError`, `app::x::y`, `assets/…` or `db/mod.rs` are not.
            let is_module = !token.is_empty()
                && token.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '/');
            if is_module {
                named.insert(format!("{folder}{token}"));
            }
        }
        if !folder.is_empty() {
            named.insert(folder.trim_end_matches('/').to_string());
        }
    }
    named
}

fn files(dir: &Path, root: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).expect("under src/").with_extension("");
            out.insert(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

#[test]
fn architecture_names_every_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).expect("docs/ARCHITECTURE.md");
    let named = named_in_map(&doc);
    let src = root.join("src");
    let exists = |module: &str| {
        src.join(format!("{module}.rs")).is_file()
            || src.join(module).join("mod.rs").is_file()
            || src.join(module).is_dir()
    };
    let missing: Vec<_> = named.iter().filter(|m| !exists(m)).collect();
    assert!(missing.is_empty(), "ARCHITECTURE.md names modules that do not exist: {missing:?}");
    let mut present = BTreeSet::new();
    files(&src, &src, &mut present);
    let unnamed: Vec<_> = present
        .iter()
        .filter(|f| !matches!(f.as_str(), "lib" | "main") && !f.ends_with("/mod"))
        .filter(|f| !named.contains(*f))
        .collect();
    assert!(unnamed.is_empty(), "files of src/ that ARCHITECTURE.md's map does not name: {unnamed:?}");
}

#[test]
fn the_map_reader_finds_folders_and_their_files() {
    let doc = "# A\n\n## Map\n\n| where | what |\n|---|---|\n| `app/` | `bulletins` (x, `AppError`), `a/b` |\n\
               | top level | `config`, `app::x` |\n\n## Next\n| `nope/` | `gone` |\n";
    let named = named_in_map(doc);
    let expected: BTreeSet<String> =
        ["app", "app/bulletins", "app/a/b", "config"].into_iter().map(String::from).collect();
    assert_eq!(named, expected);
}
