//! Preparing the text of a manifest file: Flux post-build substitutions and
//! the split into YAML documents, each with the line it starts on.

/// Replaces every Flux post-build substitution with a default,
/// `${VAR:=default}` or `${VAR:-default}`, by its default (what Flux
/// substitutes when the variable is unset). `${VAR}` stays as written: it is
/// a valid YAML scalar, and its value is not known here. `$${VAR}` is Flux's
/// escape for a literal `${VAR}` and stays too. Substitutions never span
/// lines, so line numbers do not change.
pub fn substitute_defaults(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        let escaped = rest[..at].ends_with('$');
        out.push_str(&rest[..at]);
        let candidate = &rest[at..];
        match (escaped, parse_default(candidate)) {
            (false, Some((default, len))) => {
                out.push_str(default);
                rest = &candidate[len..];
            }
            _ => {
                out.push_str("${");
                rest = &candidate[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// For text starting with `${NAME:=default}` or `${NAME:-default}`, the
/// default and the length of the whole expression.
fn parse_default(text: &str) -> Option<(&str, usize)> {
    let inner = text.strip_prefix("${")?;
    let name_len = inner
        .char_indices()
        .find(|&(i, c)| !(c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(inner.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let after = &inner[name_len..];
    let default_text = after
        .strip_prefix(":=")
        .or_else(|| after.strip_prefix(":-"))?;
    let end = default_text.find(['}', '\n'])?;
    if !default_text[end..].starts_with('}') {
        return None;
    }
    let len = 2 + name_len + 2 + end + 1;
    Some((&default_text[..end], len))
}

/// One YAML document of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document<'a> {
    /// The document's text, from the line after its `---` (or the file's
    /// start) to the line before the next marker.
    pub text: &'a str,
    /// 1-based file line of the first line of `text`.
    pub start_line: u32,
    /// 1-based file line of the first line that is neither blank nor a
    /// comment (where `apiVersion:` usually is); `None` for an empty
    /// document.
    pub first_line: Option<u32>,
}

/// Whether `line` is a document marker (`---` or `...` at the start of the
/// line, alone or followed by whitespace).
pub fn is_marker(line: &str) -> bool {
    ["---", "..."].iter().any(|m| {
        line.strip_prefix(m)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
    })
}

/// Whether `line` holds nothing for YAML: blank, or a comment.
pub fn is_blank(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed.is_empty() || trimmed.starts_with('#')
}

/// Splits `text` into its documents on `---` and `...` lines. A `---` line
/// whose rest is not a comment (`--- !tag` or `--- value`) is not used by
/// Kubernetes manifests and is treated as a plain marker.
pub fn documents(text: &str) -> Vec<Document<'_>> {
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1u32;
    let mut offset = 0usize;
    for (line_no, line) in (1u32..).zip(text.split_inclusive('\n')) {
        if is_marker(line) {
            docs.push(document(&text[start..offset], start_line));
            start = offset + line.len();
            start_line = line_no + 1;
        }
        offset += line.len();
    }
    docs.push(document(&text[start..], start_line));
    docs
}

fn document(text: &str, start_line: u32) -> Document<'_> {
    let first_line = text
        .lines()
        .position(|l| !is_blank(l))
        .map(|i| start_line + i as u32);
    Document {
        text,
        start_line,
        first_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_substituted_and_plain_variables_kept() {
        let text = "a: ${SECRET_DOMAIN}\nb: \"${LB_IP:=172.29.52.100}\"\nc: ${X:-}\nd: $${Y:=z}\n";
        assert_eq!(
            substitute_defaults(text),
            "a: ${SECRET_DOMAIN}\nb: \"172.29.52.100\"\nc: \nd: $${Y:=z}\n"
        );
    }

    #[test]
    fn malformed_substitutions_stay() {
        for text in [
            "${:=x}",
            "${A:=x",
            "${A:=x\n}",
            "${A=x}",
            "${9A:=x}",
            "$",
            "${",
        ] {
            assert_eq!(substitute_defaults(text), text);
        }
        assert_eq!(substitute_defaults("${A1_B:=x}${C:=y}"), "xy");
    }

    #[test]
    fn documents_know_their_lines() {
        let text =
            "# header\n---\n# c\n\napiVersion: v1\nkind: A\n---\n---  # empty\nkind: B\n...\n";
        let docs = documents(text);
        let got: Vec<_> = docs.iter().map(|d| (d.start_line, d.first_line)).collect();
        assert_eq!(
            got,
            [(1, None), (3, Some(5)), (8, None), (9, Some(9)), (11, None)]
        );
        assert_eq!(docs[1].text, "# c\n\napiVersion: v1\nkind: A\n");
        assert_eq!(docs[3].text, "kind: B\n");
    }

    #[test]
    fn markers_need_the_start_of_a_line() {
        assert!(is_marker("---"));
        assert!(is_marker("--- # x"));
        assert!(is_marker("---\r\n"));
        assert!(!is_marker(" ---"));
        assert!(!is_marker("----"));
        assert!(!is_marker("---x"));
        let docs = documents("a: |\n  ---\n  text\n");
        assert_eq!(docs.len(), 1);
    }
}
