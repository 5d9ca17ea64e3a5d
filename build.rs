//! Lists the interface catalogues (`assets/i18n/*.toml`) so that a new language is one new file:
//! generates `$OUT_DIR/catalogues.rs` with the language codes and the embedded files.

use std::{env, fs, path::Path};

/// The catalogue the others are checked against; listed first (the language switch's order).
const REFERENCE: &str = "fr";

fn main() {
    let dir = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("assets/i18n");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut langs: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .map(|path| {
            let code = path.file_stem().unwrap().to_string_lossy().into_owned();
            // The file name is the language's code, as in `lang` attributes and `?lang=`.
            assert!(
                (2..=3).contains(&code.len()) && code.chars().all(|c| c.is_ascii_lowercase()),
                "assets/i18n/{code}.toml: name a catalogue by its ISO 639 code (fr.toml)"
            );
            println!("cargo:rerun-if-changed={}", path.display());
            code
        })
        .collect();
    assert!(langs.iter().any(|l| l == REFERENCE), "assets/i18n/{REFERENCE}.toml is missing");
    langs.sort_by_key(|l| (l != REFERENCE, l.clone()));
    let codes = langs.iter().map(|l| format!("{l:?}")).collect::<Vec<_>>().join(", ");
    let files = langs
        .iter()
        .map(|l| format!("    ({l:?}, include_str!({:?})),\n", dir.join(format!("{l}.toml")).display().to_string()))
        .collect::<String>();
    let n = langs.len();
    let out = format!(
        "/// The languages of the interface: one per file in assets/i18n/, {REFERENCE:?} first.\n\
         pub const LANGS: [&str; {n}] = [{codes}];\n\
         /// The reference catalogue's code.\n\
         pub const REFERENCE: &str = {REFERENCE:?};\n\
         /// Each language's catalogue, as written.\n\
         const SOURCES: [(&str, &str); {n}] = [\n{files}];\n"
    );
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("catalogues.rs"), out).unwrap();
}
