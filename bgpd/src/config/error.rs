//! [`ConfigError`] and the mapping between field paths and source positions.
//!
//! Validation knows the field path (`peer[1].prefix`) and finds its line by
//! walking the spanned document; a toml error knows its byte span and finds
//! its field path by searching the same document for the node at that span.

use std::fmt;
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Why a configuration was refused.
///
/// `Display` gives one of:
///
/// * `{file}: {field} = {value}: {reason}` for a bad value, e.g.
///   `bgpd.toml: peer[2].remote_asn = 0: AS 0 is reserved (RFC 7607)`;
/// * `{file}: {field}: {reason}` for a missing or misplaced field;
/// * `{file}: {reason}` when no field is involved (unreadable file);
/// * `{file}: [{field}: ]TOML parse error at line L, column C ...` for TOML
///   syntax errors and for keys or types the schema does not accept: the
///   reason is then toml's own multi-line report, with the offending line
///   and a caret under the spot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file name as given to [`super::Config::from_file`] or
    /// [`super::Config::from_str`].
    pub file: String,
    /// Field path such as `peer[1].prefix`, `listen[0]`, `mrt.dir`; empty
    /// when the error concerns the whole file.
    pub field: String,
    /// The offending value rendered as TOML (`"172.29.51.0/33"`, `0`), or
    /// `None` when the field is missing or the error is not about one value.
    pub value: Option<String>,
    /// What is wrong: one line, or toml's report for errors toml found.
    pub reason: String,
    /// 1-based line of the field (or of its table) in the file, when known.
    pub line: Option<u32>,
    /// 1-based column (in characters) on `line`, when known.
    pub column: Option<u32>,
}

impl ConfigError {
    /// An error about the file as a whole (it cannot be read, ...).
    pub(super) fn file(file: &str, reason: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_owned(),
            field: String::new(),
            value: None,
            reason: reason.into(),
            line: None,
            column: None,
        }
    }

    /// An error about one field, positioned by looking `field` up in `doc`.
    pub(super) fn field(
        file: &str,
        text: &str,
        doc: &Spanned<DeTable<'_>>,
        field: &str,
        value: Option<String>,
        reason: impl Into<String>,
    ) -> Self {
        let (line, column) = match span_of_path(doc, field) {
            Some(span) => {
                let (l, c) = line_column(text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        ConfigError {
            file: file.to_owned(),
            field: field.to_owned(),
            value,
            reason: reason.into(),
            line,
            column,
        }
    }

    /// An error toml reported: a syntax error (no `doc` yet) or a key or type
    /// the schema refuses (`doc` parsed, so the span can be named).
    pub(super) fn toml(
        file: &str,
        text: &str,
        doc: Option<&Spanned<DeTable<'_>>>,
        mut err: toml::de::Error,
    ) -> Self {
        err.set_input(Some(text));
        let span = err.span();
        let (line, column) = match &span {
            Some(s) => {
                let (l, c) = line_column(text, s.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        let field = match (doc, &span) {
            (Some(doc), Some(s)) => path_at(doc.get_ref(), s.start).unwrap_or_default(),
            _ => String::new(),
        };
        ConfigError {
            file: file.to_owned(),
            field,
            value: None,
            reason: err.to_string().trim_end().to_owned(),
            line,
            column,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        if !self.field.is_empty() {
            f.write_str(&self.field)?;
            if let Some(value) = &self.value {
                write!(f, " = {value}")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.reason)
    }
}

impl std::error::Error for ConfigError {}

/// 1-based line and character column of byte offset `at` in `text`
/// (saturating at `u32::MAX`, far beyond any configuration file).
pub(super) fn line_column(text: &str, at: usize) -> (u32, u32) {
    let at = at.min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    (clamp(line), clamp(column))
}

/// One step of a field path: `peer[1].families[0]` is
/// `Key(peer) Index(1) Key(families) Index(0)`.
enum Step<'p> {
    Key(&'p str),
    Index(usize),
}

fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            out.push(Step::Key(name));
        }
        while let Some(close) = rest.find(']') {
            if let Ok(i) = rest[1..close].parse() {
                out.push(Step::Index(i));
            }
            rest = &rest[close + 1..];
        }
    }
    out
}

/// Span of the value at `path`, or of the deepest ancestor that exists (a
/// defaulted field is positioned at its table's header).
fn span_of_path(doc: &Spanned<DeTable<'_>>, path: &str) -> Option<Range<usize>> {
    let mut best: Option<Range<usize>> = None;
    let mut node: Option<&DeValue<'_>> = None;
    for step in steps(path) {
        let next = match (step, node) {
            (Step::Key(k), None) => lookup(doc.get_ref(), k),
            (Step::Key(k), Some(DeValue::Table(t))) => lookup(t, k),
            (Step::Index(i), Some(DeValue::Array(a))) => a.get(i),
            _ => None,
        };
        let Some(v) = next else { break };
        best = Some(v.span());
        node = Some(v.get_ref());
    }
    best
}

fn lookup<'t, 'i>(table: &'t DeTable<'i>, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref() == key)
        .map(|(_, v)| v)
}

/// The field path of the node whose key or value span holds `at`, searching
/// the whole tree (a `[table]` spans only its header, not its body, so the
/// search cannot prune by containment).
fn path_at(table: &DeTable<'_>, at: usize) -> Option<String> {
    for (key, value) in table.iter() {
        if let Some(inner) = path_in_value(value, at) {
            return Some(join(key.get_ref(), &inner));
        }
        if contains(&key.span(), at) || contains(&value.span(), at) {
            return Some(key.get_ref().to_string());
        }
    }
    None
}

/// Path from `value` down to a descendant whose key or value span holds `at`,
/// relative (starting with `.key` or `[i]`); `value` itself is tested by the
/// caller.
fn path_in_value(value: &Spanned<DeValue<'_>>, at: usize) -> Option<String> {
    match value.get_ref() {
        DeValue::Table(t) => path_at(t, at).map(|p| format!(".{p}")),
        DeValue::Array(a) => a.iter().enumerate().find_map(|(i, elem)| {
            if let Some(inner) = path_in_value(elem, at) {
                Some(format!("[{i}]{inner}"))
            } else if contains(&elem.span(), at) {
                Some(format!("[{i}]"))
            } else {
                None
            }
        }),
        _ => None,
    }
}

fn join(key: &str, rest: &str) -> String {
    format!("{key}{rest}")
}

fn contains(span: &Range<usize>, at: usize) -> bool {
    span.contains(&at) || (span.is_empty() && span.start == at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        // 'é' is two bytes but one column.
        assert_eq!(line_column(text, 9), (2, 3));
    }

    #[test]
    fn paths_round_trip_through_spans() {
        let text = "asn = 1\n[[peer]]\nname = \"a\"\n[[peer]]\nname = \"b\"\nfamilies = [\"x\", \"y\"]\n[peer.graceful_restart]\nhelper = true\n";
        let doc = DeTable::parse(text).unwrap();
        for path in [
            "asn",
            "peer[0].name",
            "peer[1].name",
            "peer[1].families[1]",
            "peer[1].graceful_restart.helper",
        ] {
            let span = span_of_path(&doc, path).unwrap();
            assert_eq!(path_at(doc.get_ref(), span.start).as_deref(), Some(path));
        }
        // A missing field falls back to its table's header.
        let span = span_of_path(&doc, "peer[0].remote_asn").unwrap();
        assert_eq!(&text[span], "[[peer]]");
        assert_eq!(
            line_column(text, span_of_path(&doc, "peer[1]").unwrap().start).0,
            4
        );
    }
}
