//! Finding the line of a field in YAML text, so that errors and `lint`
//! findings can point at `spec.virtualRouters[0].serviceSelector` rather
//! than at the start of the object.
//!
//! This is an indentation-aware scan of block-style YAML, the style of
//! Kubernetes manifests: mappings of `key: value` lines, sequences of
//! `- ` entries (indented under their key or level with it), comments,
//! block scalars (`|`, `>`) and multi-line scalars (skipped, being more
//! indented than their key). A flow collection (`{...}`, `[...]`) is not
//! entered: a path that goes into one resolves to the line of its key,
//! the closest line there is for it.

use super::split::{is_blank, is_marker};

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step<'a> {
    /// A map key; a key with dots (`lbipam.cilium.io/ips`) spans several.
    Key(&'a str),
    Index(usize),
}

/// Parses `spec.virtualRouters[0].serviceSelector` (the form of
/// [`ParseError::path`](crate::ParseError::path)) into steps. `None` when
/// the path is malformed.
fn steps(path: &str) -> Option<Vec<Step<'_>>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.contains(']') {
            return None;
        }
        if !key.is_empty() {
            out.push(Step::Key(key));
        }
        while let Some(rest) = indexes.strip_prefix('[') {
            let end = rest.find(']')?;
            out.push(Step::Index(rest[..end].parse().ok()?));
            indexes = &rest[end + 1..];
        }
        if !indexes.is_empty() {
            return None;
        }
    }
    Some(out)
}

/// Returns the 1-based line, in `text`'s numbering, of the field at `path`
/// (e.g. `spec.virtualRouters[0].serviceSelector`, or `items[2]` for an
/// entry of a list) within the object that starts on line `object_line` of
/// `text`. `text` is a whole file (or any text numbered from its first
/// line); `object_line` is the line of the object's first key, as in
/// [`Origin::line`](crate::objects::Origin::line), and may be a `- ` line
/// of a sequence when the object is an entry of one. An empty path gives
/// `object_line` itself. `None` when the field is not written in the text
/// (absent, or defaulted).
pub fn find_line(text: &str, object_line: u32, path: &str) -> Option<u32> {
    let lines: Vec<&str> = text.lines().collect();
    let steps = steps(path)?;
    let first = usize::try_from(object_line).ok()?.checked_sub(1)?;
    let line = lines.get(first)?;
    if is_blank(line) || is_marker(line) {
        return None;
    }
    let scan = Scan { lines: &lines };
    let col = indent(line);
    let (idx, col) = scan.after_dashes(first, col)?;
    scan.mapping(idx, col, &steps).map(|i| i as u32 + 1)
}

/// Number of leading spaces.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The text of `line` from byte column `col`.
fn at(line: &str, col: usize) -> &str {
    line.get(col..).unwrap_or("")
}

/// Whether `s` starts a sequence entry: `-` then a space or the line's end.
fn is_dash(s: &str) -> bool {
    s.starts_with('-') && (s.len() == 1 || s[1..].starts_with([' ', '\t', '\r']))
}

/// Whether `s` holds nothing but an optional comment.
fn is_empty_rest(s: &str) -> bool {
    let t = s.trim_start();
    t.is_empty() || t.starts_with('#') || t == "\r"
}

/// Splits `key: rest` at the key's colon; the key unquoted. `None` when the
/// text is not a mapping entry.
fn split_key(s: &str) -> Option<(String, &str)> {
    let (key, rest) = match s.chars().next()? {
        '"' => {
            let mut escaped = false;
            let mut end = None;
            for (i, c) in s.char_indices().skip(1) {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => {
                        end = Some(i);
                        break;
                    }
                    _ => escaped = false,
                }
            }
            let end = end?;
            (s[1..end].replace("\\\"", "\""), &s[end + 1..])
        }
        '\'' => {
            let mut i = 1;
            let bytes = s.as_bytes();
            loop {
                match bytes.get(i)? {
                    b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
                    b'\'' => break,
                    _ => i += 1,
                }
            }
            (s[1..i].replace("''", "'"), &s[i + 1..])
        }
        '#' | '[' | '{' | '-' | '?' | '|' | '>' | '&' | '*' | '!' => return None,
        _ => {
            let mut colon = None;
            for (i, c) in s.char_indices() {
                if c == ':'
                    && s[i + 1..]
                        .chars()
                        .next()
                        .is_none_or(|n| n == ' ' || n == '\t' || n == '\r')
                {
                    colon = Some(i);
                    break;
                }
                if c == '#' && s[..i].ends_with([' ', '\t']) {
                    return None;
                }
            }
            let colon = colon?;
            return Some((s[..colon].trim_end().to_owned(), &s[colon + 1..]));
        }
    };
    let rest = rest.trim_start_matches([' ', '\t']);
    Some((key, rest.strip_prefix(':')?))
}

/// Strips node properties (`&anchor`, `!tag`) from the start of a value.
fn strip_properties(mut s: &str) -> &str {
    loop {
        s = s.trim_start_matches([' ', '\t']);
        if s.starts_with('&') || s.starts_with('!') {
            s = s.find([' ', '\t']).map_or("", |i| &s[i..]);
        } else {
            return s;
        }
    }
}

struct Scan<'a> {
    lines: &'a [&'a str],
}

impl Scan<'_> {
    /// The next line from `idx` on that holds YAML content; `None` at the
    /// end of the text or of the document.
    fn next_content(&self, mut idx: usize) -> Option<usize> {
        while let Some(line) = self.lines.get(idx) {
            if is_marker(line) {
                return None;
            }
            if !is_blank(line) {
                return Some(idx);
            }
            idx += 1;
        }
        None
    }

    /// Skips the `- ` of every sequence entry that starts at (`idx`,
    /// `col`): the position of the node inside the innermost one.
    fn after_dashes(&self, mut idx: usize, mut col: usize) -> Option<(usize, usize)> {
        while is_dash(at(self.lines[idx], col)) {
            (idx, col) = self.after_dash(idx, col)?;
        }
        Some((idx, col))
    }

    /// The position of the node of the sequence entry whose `-` is at
    /// (`idx`, `col`): after the dash, or on the next content line when
    /// nothing follows it.
    fn after_dash(&self, idx: usize, col: usize) -> Option<(usize, usize)> {
        let line = self.lines[idx];
        let col = col + 1 + dash_gap(line, col);
        if is_empty_rest(at(line, col)) {
            let next = self.next_content(idx + 1)?;
            return Some((next, indent(self.lines[next])));
        }
        Some((idx, col))
    }

    /// The line of `path` in the node at (`idx`, `col`), a mapping or a
    /// sequence.
    fn node(&self, idx: usize, col: usize, path: &[Step<'_>]) -> Option<usize> {
        let text = at(self.lines[idx], col);
        if path.is_empty() || text.starts_with(['{', '[']) {
            // A flow collection is not entered.
            Some(idx)
        } else if is_dash(text) {
            self.sequence(idx, col, path)
        } else {
            self.mapping(idx, col, path)
        }
    }

    /// The line of `path` in the sequence whose first `-` is at (`idx`,
    /// `col`).
    fn sequence(&self, idx: usize, col: usize, path: &[Step<'_>]) -> Option<usize> {
        let Some((Step::Index(wanted), rest)) = path.split_first() else {
            return None;
        };
        let mut entry = 0usize;
        let mut i = idx;
        loop {
            let line = self.lines[i];
            if i == idx || (indent(line) == col && is_dash(at(line, col))) {
                if entry == *wanted {
                    if rest.is_empty() {
                        return Some(i);
                    }
                    let (j, c) = self.after_dash(i, col)?;
                    return self.node(j, c, rest);
                }
                entry += 1;
            } else if indent(line) <= col {
                return None;
            }
            i = self.next_content(i + 1)?;
        }
    }

    /// The line of `path` in the mapping whose first key is at (`idx`,
    /// `col`). A key with dots matches several steps at once.
    fn mapping(&self, idx: usize, col: usize, path: &[Step<'_>]) -> Option<usize> {
        if path.is_empty() {
            return Some(idx);
        }
        let mut i = idx;
        loop {
            let line = self.lines[i];
            let ind = indent(line);
            if i != idx && ind < col {
                return None;
            }
            if i == idx || (ind == col && !is_dash(at(line, col))) {
                if let Some((key, value)) = split_key(at(line, col)) {
                    for taken in key_matches(&key, path) {
                        if let Some(found) = self.value(i, col, value, &path[taken..]) {
                            return Some(found);
                        }
                    }
                } else if i == idx {
                    return None;
                }
            }
            i = self.next_content(i + 1)?;
        }
    }

    /// The line of `path` in the value of the key on line `idx` at `col`,
    /// `value` being the text after its colon.
    fn value(&self, idx: usize, col: usize, value: &str, path: &[Step<'_>]) -> Option<usize> {
        if path.is_empty() {
            return Some(idx);
        }
        let inline = strip_properties(value);
        if !is_empty_rest(inline) {
            // A flow collection is not entered; a scalar has no fields.
            return inline.starts_with(['{', '[']).then_some(idx);
        }
        let next = self.next_content(idx + 1)?;
        let line = self.lines[next];
        let ind = indent(line);
        if ind > col || (ind == col && is_dash(at(line, col))) {
            self.node(next, ind, path)
        } else {
            None
        }
    }
}

/// Spaces between the `-` at `col` of `line` and what follows it.
fn dash_gap(line: &str, col: usize) -> usize {
    let rest = at(line, col + 1);
    rest.len() - rest.trim_start_matches(' ').len()
}

/// The numbers of leading key steps of `path` that `key` matches: one when
/// it equals the first step, more when it equals several joined with dots.
fn key_matches(key: &str, path: &[Step<'_>]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut joined = String::new();
    for (n, step) in path.iter().enumerate() {
        let Step::Key(k) = step else { break };
        if n > 0 {
            joined.push('.');
        }
        joined.push_str(k);
        if joined == key {
            out.push(n + 1);
        }
        if joined.len() >= key.len() {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "\
# leading comment
apiVersion: cilium.io/v2alpha1
kind: CiliumBGPPeeringPolicy
metadata:
  name: bgp-peering   # trailing comment
  annotations:
    lbipam.cilium.io/ips: \"172.29.52.100\"
    note: |
      spec:
        virtualRouters: not really
spec:
  nodeSelector: {matchLabels: {a: b}}
  virtualRouters:
  - localASN: 64512
    neighbors:
      - peerAddress: 172.29.51.1/32

        peerASN: 64513
      -
        peerAddress: 172.29.51.10/32
        'peerASN': 64513
  -   localASN: 64512
      \"serviceSelector\":
        matchExpressions:
        - {key: a, operator: In, values: [x]}
---
spec: {}
";

    fn line(path: &str) -> Option<u32> {
        find_line(POLICY, 2, path)
    }

    #[test]
    fn finds_keys_at_every_depth() {
        assert_eq!(line(""), Some(2));
        assert_eq!(line("kind"), Some(3));
        assert_eq!(line("metadata.name"), Some(5));
        assert_eq!(line("spec"), Some(11));
        assert_eq!(line("spec.virtualRouters"), Some(13));
        assert_eq!(line("spec.virtualRouters[0]"), Some(14));
        assert_eq!(line("spec.virtualRouters[0].localASN"), Some(14));
        assert_eq!(
            line("spec.virtualRouters[0].neighbors[0].peerASN"),
            Some(18)
        );
        assert_eq!(line("spec.virtualRouters[0].neighbors[1]"), Some(19));
        assert_eq!(
            line("spec.virtualRouters[0].neighbors[1].peerAddress"),
            Some(20)
        );
        assert_eq!(
            line("spec.virtualRouters[0].neighbors[1].peerASN"),
            Some(21)
        );
        assert_eq!(line("spec.virtualRouters[1].localASN"), Some(22));
        assert_eq!(line("spec.virtualRouters[1].serviceSelector"), Some(23));
        assert_eq!(
            line("spec.virtualRouters[1].serviceSelector.matchExpressions[0]"),
            Some(25)
        );
    }

    #[test]
    fn keys_with_dots_and_block_scalars() {
        assert_eq!(line("metadata.annotations.lbipam.cilium.io/ips"), Some(7));
        assert_eq!(line("metadata.annotations.note"), Some(8));
        assert_eq!(line("metadata.annotations.note.spec"), None);
    }

    #[test]
    fn flow_collections_resolve_to_their_key() {
        assert_eq!(line("spec.nodeSelector.matchLabels.a"), Some(12));
        assert_eq!(
            line("spec.virtualRouters[1].serviceSelector.matchExpressions[0].values[0]"),
            Some(25)
        );
    }

    #[test]
    fn absent_fields_and_bad_paths_are_none() {
        assert_eq!(line("status"), None);
        assert_eq!(line("spec.virtualRouters[2]"), None);
        assert_eq!(line("spec.virtualRouters[0].serviceSelector"), None);
        assert_eq!(line("spec.virtualRouters[0].localASN.x"), None);
        assert_eq!(line("spec.virtualRouters[x]"), None);
        assert_eq!(line("spec.virtualRouters[0"), None);
        assert_eq!(find_line(POLICY, 1, "kind"), None);
        assert_eq!(find_line(POLICY, 99, "kind"), None);
        assert_eq!(find_line(POLICY, 0, "kind"), None);
    }

    #[test]
    fn stops_at_the_document_end() {
        // The second document's `spec` is not the first one's.
        let text = "kind: A\n---\nspec: {}\n";
        assert_eq!(find_line(text, 1, "spec"), None);
        assert_eq!(find_line(text, 3, "spec"), Some(3));
    }

    #[test]
    fn objects_inside_a_list() {
        let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata:
    name: a
-
  apiVersion: v1
  kind: Node
  metadata:
    name: b
";
        assert_eq!(find_line(text, 1, "items[0]"), Some(4));
        assert_eq!(find_line(text, 1, "items[1]"), Some(8));
        assert_eq!(find_line(text, 4, "metadata.name"), Some(7));
        assert_eq!(find_line(text, 4, "kind"), Some(5));
        assert_eq!(find_line(text, 8, "metadata.name"), Some(12));
        assert_eq!(find_line(text, 8, "kind"), Some(10));
    }

    #[test]
    fn path_steps() {
        assert_eq!(
            steps("a.b[0][12].c"),
            Some(vec![
                Step::Key("a"),
                Step::Key("b"),
                Step::Index(0),
                Step::Index(12),
                Step::Key("c")
            ])
        );
        assert_eq!(steps(""), Some(vec![]));
        assert_eq!(steps("a]"), None);
    }

    #[test]
    fn key_splitting() {
        assert_eq!(split_key("a: b"), Some(("a".to_owned(), " b")));
        assert_eq!(split_key("a:"), Some(("a".to_owned(), "")));
        assert_eq!(
            split_key("http://x: y"),
            Some(("http://x".to_owned(), " y"))
        );
        assert_eq!(split_key("'it''s' : v"), Some(("it's".to_owned(), " v")));
        assert_eq!(split_key("\"a\\\"b\": v"), Some(("a\"b".to_owned(), " v")));
        assert_eq!(split_key("plain scalar"), None);
        assert_eq!(split_key("a # b: c"), None);
        assert_eq!(split_key("- a: b"), None);
    }
}
