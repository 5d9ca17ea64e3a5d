//! `.properties` files as ChatonsInfos writes them: UTF-8 text, one `key = value` per line, `#`
//! and `!` comments, Java's escapes (`\n`, `\t`, `\uXXXX`, `\\`, a trailing `\` continues the
//! line). Reading keeps each entry's line number, so every refusal can name it.

use crate::refusal::{Kind, Reason};

/// A file larger than this is refused before it is read (real ones are a few kilobytes).
pub const MAX_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    /// The line (from 1) where the entry starts.
    pub line: usize,
}

/// Why a file is refused, as data: each door words it in its reader's language
/// ([`InfoError::reason`]); `Display` is the command line's English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InfoError {
    TooLarge {
        max: usize,
    },
    NotUtf8 {
        line: usize,
    },
    /// A fault of the entry at `line`.
    Line {
        line: usize,
        fault: Reason,
    },
    Missing {
        key: String,
    },
}

impl InfoError {
    pub fn line(line: usize, kind: Kind, values: &[(&'static str, &str)]) -> InfoError {
        InfoError::Line { line, fault: Reason::new(kind, values) }
    }

    pub fn reason(&self) -> Reason {
        let at = |line: usize, fault: Reason| Reason::nested(Kind::AtLine, &[("line", &line.to_string())], fault);
        match self {
            InfoError::TooLarge { max } => Reason::new(Kind::InfoTooLarge, &[("max", &max.to_string())]),
            InfoError::NotUtf8 { line } => at(*line, Reason::new(Kind::InfoNotUtf8, &[])),
            InfoError::Line { line, fault } => at(*line, fault.clone()),
            InfoError::Missing { key } => Reason::new(Kind::InfoMissing, &[("key", key)]),
        }
    }
}

impl std::fmt::Display for InfoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.reason().fmt(f)
    }
}

impl std::error::Error for InfoError {}

/// The entries of a file, in the file's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    pub entries: Vec<Entry>,
}

impl Properties {
    /// The last entry for `key` (a later line overrides an earlier one, as in Java).
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }

    /// The value for `key`, trimmed; an empty value counts as absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entry(key).map(|e| e.value.trim()).filter(|v| !v.is_empty())
    }
}

/// Reads a file: refuses one over [`MAX_BYTES`] or not UTF-8, naming the line at fault.
pub fn parse(bytes: &[u8]) -> Result<Properties, InfoError> {
    if bytes.len() > MAX_BYTES {
        return Err(InfoError::TooLarge { max: MAX_BYTES });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        InfoError::NotUtf8 { line }
    })?;
    parse_text(text.strip_prefix('\u{feff}').unwrap_or(text))
}

fn parse_text(text: &str) -> Result<Properties, InfoError> {
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let mut entries = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = i;
        let first = lines[i].trim_start_matches([' ', '\t', '\u{c}']);
        i += 1;
        if first.is_empty() || first.starts_with('#') || first.starts_with('!') {
            continue;
        }
        let mut logical = first.to_string();
        while ends_with_odd_backslashes(&logical) {
            logical.pop();
            match lines.get(i) {
                Some(next) => logical.push_str(next.trim_start_matches([' ', '\t', '\u{c}'])),
                None => break,
            }
            i += 1;
        }
        let (raw_key, raw_value) = split_key(&logical);
        let line = start + 1;
        let key = unescape(raw_key, line)?;
        let value = unescape(raw_value, line)?;
        if let Some(c) = key.chars().find(|c| c.is_control()) {
            let code = format!("{:04X}", c as u32);
            return Err(InfoError::line(line, Kind::InfoControlChar, &[("code", &code)]));
        }
        entries.push(Entry { key, value, line });
    }
    Ok(Properties { entries })
}

fn ends_with_odd_backslashes(s: &str) -> bool {
    s.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
}

/// Splits a logical line at the first unescaped `=`, `:` or blank, as Java does.
fn split_key(line: &str) -> (&str, &str) {
    let mut escaped = false;
    for (at, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '=' | ':' | ' ' | '\t' | '\u{c}' => {
                let key = &line[..at];
                let mut rest = line[at..].trim_start_matches([' ', '\t', '\u{c}']);
                if c != '=' && c != ':' {
                    if let Some(r) = rest.strip_prefix(['=', ':']) {
                        rest = r;
                    }
                } else {
                    rest = &rest[1..];
                }
                return (key, rest.trim_start_matches([' ', '\t', '\u{c}']));
            }
            _ => {}
        }
    }
    (line, "")
}

fn unescape(raw: &str, line: usize) -> Result<String, InfoError> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = (hex.len() == 4).then(|| u32::from_str_radix(&hex, 16).ok()).flatten();
                match code.and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => return Err(InfoError::line(line, Kind::InfoBadEscape, &[("hex", &hex)])),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Ok(out)
}

/// Writes a file section by section, in the order the spec lists them.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    /// A `# text` line.
    pub fn comment(&mut self, text: &str) -> &mut Self {
        for line in text.lines() {
            self.out.push_str("# ");
            self.out.push_str(line);
            self.out.push('\n');
        }
        self
    }

    /// A blank line, then `# [Name]`, as the spec's templates head each section.
    pub fn section(&mut self, name: &str) -> &mut Self {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        self.comment(&format!("[{name}]"))
    }

    pub fn entry(&mut self, key: &str, value: &str) -> &mut Self {
        self.out.push_str(&escape(key, true));
        self.out.push_str(" = ");
        self.out.push_str(&escape(value, false));
        self.out.push('\n');
        self
    }

    /// An entry only when there is a value: fields Ronron does not know are left out.
    pub fn optional(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) => self.entry(key, v),
            None => self,
        }
    }

    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.out)
    }
}

/// Java's escapes; UTF-8 text stays as it is (the files are UTF-8, not Latin-1).
fn escape(text: &str, key: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            ' ' if key || i == 0 => out.push_str("\\ "),
            '=' | ':' if key => {
                out.push('\\');
                out.push(c);
            }
            '#' | '!' if key && i == 0 => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String, usize)> {
        parse(text.as_bytes()).unwrap().entries.into_iter().map(|e| (e.key, e.value, e.line)).collect()
    }

    #[test]
    fn reads_the_concept_example_of_the_spec() {
        // StatoolInfos' CONCEPT.md example, as published.
        let text = "# [Organisation]\norganization.name=Chapril\n\
                    organization.description=Chapril est le chaton de l\\'April.\n\
                    organization.website=https://www.chapril.org/\norganization.logo=\n\
                    organization.contact.email=contact@chapril.org\n";
        let props = parse(text.as_bytes()).unwrap();
        assert_eq!(props.get("organization.name"), Some("Chapril"));
        assert_eq!(props.get("organization.description"), Some("Chapril est le chaton de l'April."));
        assert_eq!(props.get("organization.logo"), None, "an empty value is absent");
        assert_eq!(props.entry("organization.website").unwrap().line, 4);
    }

    #[test]
    fn separators_comments_continuations_and_escapes() {
        let text =
            "! bang comment\n  # indented comment\r\na = 1\nb:2\nc 3\nd\\=e = x\\ny\\u00e9\nlong = one \\\n    two\n\
                    empty =\nquoted = 'https://x.example/'\n";
        assert_eq!(
            pairs(text),
            vec![
                ("a".into(), "1".into(), 3),
                ("b".into(), "2".into(), 4),
                ("c".into(), "3".into(), 5),
                ("d=e".into(), "x\nyé".into(), 6),
                ("long".into(), "one two".into(), 7),
                ("empty".into(), "".into(), 9),
                ("quoted".into(), "'https://x.example/'".into(), 10),
            ]
        );
    }

    #[test]
    fn writes_what_it_reads_back() {
        let mut w = Writer::new();
        w.comment("made by a test").section("Service");
        for value in
            ["Café: ouvert = oui", " leading space", "two\nlines", "back\\slash", "tab\there", "#not a comment"]
        {
            w.entry("service.description", value);
            let text = {
                let mut copy = Writer { out: w.out.clone() };
                copy.finish()
            };
            assert_eq!(parse(text.as_bytes()).unwrap().entry("service.description").unwrap().value, value);
        }
        let text = w.finish();
        assert!(
            text.starts_with("# made by a test\n\n# [Service]\nservice.description = Café: ouvert = oui\n"),
            "{text}"
        );
        assert_eq!(escape("odd key=x", true), "odd\\ key\\=x");
    }

    #[test]
    fn refuses_what_is_not_utf8_or_too_big_naming_the_line() {
        let mut bytes = b"a = 1\nb = 2\nc = caf".to_vec();
        bytes.push(0xe9); // Latin-1 é
        assert_eq!(parse(&bytes), Err(InfoError::NotUtf8 { line: 3 }));
        assert_eq!(parse(&vec![b'#'; MAX_BYTES + 1]), Err(InfoError::TooLarge { max: MAX_BYTES }));
        let err = parse(b"a = 1\n\nb = \\u12G4\n").unwrap_err();
        assert_eq!(err.to_string(), "line 3: `\\u12G4` is not a valid \\uXXXX escape");
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_key() {
        assert_eq!(pairs("\u{feff}file.class = service\n"), vec![("file.class".into(), "service".into(), 1)]);
    }
}
