//! Reading the intent from YAML manifests: one file, or a GitOps tree of
//! them (Flux or Argo CD with kustomize), into an [`Inventory`].
//!
//! - A directory is walked recursively in sorted order for `*.yaml` and
//!   `*.yml` files; hidden files and directories (`.git`, `.github`,
//!   `.sops.yaml`, ...) are skipped, and so are symbolic links to
//!   directories (they could loop).
//! - A file may hold several documents separated by `---` lines. Each
//!   object records its file and the line of its document's first line that
//!   is neither blank nor a comment (see [`Origin`]); an object from a
//!   `kind: List` (or `ServiceList`, ... as `kubectl get -o yaml` writes
//!   them) records the line of its entry.
//! - Flux post-build substitutions are tolerated: `${VAR:=default}` and
//!   `${VAR:-default}` read as their default, `${VAR}` stays literal text.
//! - `kustomization.yaml` files and Flux `Kustomization`s are not objects
//!   and are passed over silently. A Service or EndpointSlice without a
//!   namespace gets the `namespace:` of the nearest `kustomization.yaml` in
//!   its directory or above (what kustomize would set in the usual layout),
//!   else `default` (what `kubectl apply` and Flux do); a cluster-scoped
//!   object's namespace is cleared, as the API server does.
//! - Documents that are not Kubernetes objects, kinds the verifier does not
//!   read, Go templates (Helm chart sources) and second definitions of one
//!   object are [`Skipped`], with the reason. A document that is not valid
//!   YAML, or an object of a kind the verifier reads whose fields have the
//!   wrong type, is a [`FilesError`] naming the file, line and field.
//!
//! [`find_line`] locates a field within an object's text, and
//! [`embedded_default`] is the built-in inventory of the home cluster.

mod embedded;
mod locate;
mod split;

pub use embedded::{embedded_default, embedded_text, EMBEDDED_FILES};
pub use locate::find_line;
pub use split::substitute_defaults;

use crate::objects::{Inventory, Origin};
use crate::parse::{object_from_json, type_meta, ParseError};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// What a load produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loaded {
    pub inventory: Inventory,
    /// YAML files read, `kustomization.yaml` files included.
    pub files: usize,
    /// Documents that were not empty (or comments only), whatever their
    /// kind; a `List` counts once.
    pub documents: usize,
    /// Documents (or `List` entries) that yield no object, in file order.
    pub skipped: Vec<Skipped>,
}

/// A document that was read but yields no object. Not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub file: PathBuf,
    /// 1-based line of the document's (or `List` entry's) first line.
    pub line: u32,
    /// Why, e.g. `apps/v1 Deployment longhorn-ui is not a kind the
    /// verifier reads`.
    pub why: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.why)
    }
}

/// Why a file or tree could not be loaded.
#[derive(Debug)]
pub enum FilesError {
    /// A file or directory could not be read (or is not UTF-8).
    Io { path: PathBuf, error: io::Error },
    /// A document is not valid YAML (or not representable as JSON).
    Yaml {
        file: PathBuf,
        line: u32,
        message: String,
    },
    /// An object of a kind the verifier reads is malformed.
    Object {
        file: PathBuf,
        /// The line of the offending field when it can be found, else of the
        /// object.
        line: u32,
        error: ParseError,
    },
}

impl FilesError {
    pub fn file(&self) -> &Path {
        match self {
            FilesError::Io { path, .. } => path,
            FilesError::Yaml { file, .. } | FilesError::Object { file, .. } => file,
        }
    }

    pub fn line(&self) -> Option<u32> {
        match self {
            FilesError::Io { .. } => None,
            FilesError::Yaml { line, .. } | FilesError::Object { line, .. } => Some(*line),
        }
    }
}

impl fmt::Display for FilesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilesError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            FilesError::Yaml {
                file,
                line,
                message,
            } => write!(f, "{}:{line}: invalid YAML: {message}", file.display()),
            FilesError::Object { file, line, error } => {
                write!(f, "{}:{line}: {error}", file.display())
            }
        }
    }
}

impl std::error::Error for FilesError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FilesError::Io { error, .. } => Some(error),
            FilesError::Object { error, .. } => Some(error),
            FilesError::Yaml { .. } => None,
        }
    }
}

/// Loads the manifests at `path`: one YAML file (whatever its name), or
/// every `*.yaml` / `*.yml` file under a directory. Objects' origins name
/// files as `path` joined with their path under it.
pub fn load_path(path: &Path) -> Result<Loaded, FilesError> {
    let io_error = |p: &Path| {
        let path = p.to_path_buf();
        move |error| FilesError::Io { path, error }
    };
    let meta = fs::metadata(path).map_err(io_error(path))?;
    let mut loader = Loader::default();
    if !meta.is_dir() {
        let text = fs::read_to_string(path).map_err(io_error(path))?;
        loader.add(&text, path, None, is_kustomization(path))?;
        return Ok(loader.loaded);
    }
    let mut relative = Vec::new();
    walk(path, Path::new(""), &mut relative)?;
    relative.sort();
    let mut texts = Vec::with_capacity(relative.len());
    for rel in relative {
        let full = path.join(&rel);
        let text = fs::read_to_string(&full).map_err(io_error(&full))?;
        texts.push((rel, full, text));
    }
    let mut namespaces = BTreeMap::new();
    for (rel, full, text) in &texts {
        if is_kustomization(rel) {
            if let Some(ns) = kustomization_namespace(text, full)? {
                namespaces.insert(rel.parent().unwrap_or(Path::new("")).to_path_buf(), ns);
            }
        }
    }
    for (rel, full, text) in &texts {
        let namespace = rel
            .ancestors()
            .skip(1)
            .find_map(|dir| namespaces.get(dir))
            .map(String::as_str);
        let shown = if path == Path::new(".") { rel } else { full };
        loader.add(text, shown, namespace, is_kustomization(rel))?;
    }
    Ok(loader.loaded)
}

/// Loads the manifests of one file's text; `file` is what origins and
/// errors call it. Namespaced objects without a namespace get `default`.
pub fn load_str(text: &str, file: &Path) -> Result<Loaded, FilesError> {
    let mut loader = Loader::default();
    loader.add(text, file, None, is_kustomization(file))?;
    Ok(loader.loaded)
}

/// Collects the paths (relative to `root`) of the YAML files under
/// `root.join(rel)`.
fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<(), FilesError> {
    let dir = root.join(rel);
    let io_error = |error| FilesError::Io {
        path: dir.clone(),
        error,
    };
    for entry in fs::read_dir(&dir).map_err(io_error)? {
        let entry = entry.map_err(io_error)?;
        let name = entry.file_name();
        let Some(name_str) = name.to_str() else {
            continue;
        };
        if name_str.starts_with('.') {
            continue;
        }
        let file_type = entry.file_type().map_err(io_error)?;
        let child = rel.join(&name);
        if file_type.is_dir() {
            walk(root, &child, out)?;
        } else if name_str.ends_with(".yaml") || name_str.ends_with(".yml") {
            // A symbolic link is read when it leads to a file.
            let target_is_file =
                !file_type.is_symlink() || fs::metadata(entry.path()).is_ok_and(|m| m.is_file());
            if target_is_file {
                out.push(child);
            }
        }
    }
    Ok(())
}

/// Whether the file is a kustomize `kustomization.yaml` by its name.
fn is_kustomization(path: &Path) -> bool {
    matches!(
        path.file_name().and_then(|n| n.to_str()),
        Some("kustomization.yaml" | "kustomization.yml")
    )
}

/// The `namespace:` a kustomization sets, if any.
fn kustomization_namespace(text: &str, file: &Path) -> Result<Option<String>, FilesError> {
    let text = substitute_defaults(text);
    for doc in split::documents(&text) {
        if doc.first_line.is_none() {
            continue;
        }
        let value = parse_yaml(&doc, file)?;
        if let Some(ns) = value.get("namespace").and_then(Value::as_str) {
            return Ok(Some(ns.to_owned()));
        }
    }
    Ok(None)
}

/// Adds `offset` to every `line N` of a YAML error message, whose lines
/// count from the document's start.
fn shift_lines(message: &str, offset: u32) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("line ") {
        let (before, after) = rest.split_at(at + "line ".len());
        out.push_str(before);
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        match after[..digits].parse::<u32>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&after[..digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// Parses one document into JSON, merge keys (`<<`) applied.
fn parse_yaml(doc: &split::Document<'_>, file: &Path) -> Result<Value, FilesError> {
    let first = doc.first_line.unwrap_or(doc.start_line);
    let yaml_error = |e: serde_yaml::Error| {
        let line = e
            .location()
            .map_or(first, |l| doc.start_line + l.line() as u32 - 1);
        FilesError::Yaml {
            file: file.to_path_buf(),
            line,
            message: shift_lines(&e.to_string(), doc.start_line - 1),
        }
    };
    let mut value: serde_yaml::Value = serde_yaml::from_str(doc.text).map_err(yaml_error)?;
    value.apply_merge().map_err(yaml_error)?;
    serde_json::to_value(value).map_err(|e| FilesError::Yaml {
        file: file.to_path_buf(),
        line: first,
        message: e.to_string(),
    })
}

#[derive(Default)]
struct Loader {
    loaded: Loaded,
}

impl Loader {
    /// Reads every document of one file's text.
    fn add(
        &mut self,
        text: &str,
        file: &Path,
        namespace: Option<&str>,
        kustomization: bool,
    ) -> Result<(), FilesError> {
        self.loaded.files += 1;
        let text = substitute_defaults(text);
        for doc in split::documents(&text) {
            let Some(first) = doc.first_line else {
                continue;
            };
            self.loaded.documents += 1;
            let value = match parse_yaml(&doc, file) {
                Ok(value) => value,
                Err(FilesError::Yaml { .. }) if doc.text.contains("{{") => {
                    self.skip(
                        file,
                        first,
                        "not valid YAML: a template ({{ … }}), not a manifest",
                    );
                    continue;
                }
                Err(e) => return Err(e),
            };
            if kustomization || value.is_null() {
                continue;
            }
            self.value(value, &text, file, first, namespace)?;
        }
        Ok(())
    }

    fn skip(&mut self, file: &Path, line: u32, why: impl Into<String>) {
        self.loaded.skipped.push(Skipped {
            file: file.to_path_buf(),
            line,
            why: why.into(),
        });
    }

    /// Reads one document (or `List` entry) whose first line is `line` of
    /// the file's `text`.
    fn value(
        &mut self,
        value: Value,
        text: &str,
        file: &Path,
        line: u32,
        namespace: Option<&str>,
    ) -> Result<(), FilesError> {
        let Some((api_version, kind)) = type_meta(&value) else {
            let what = match &value {
                Value::Object(_) => "a mapping without `apiVersion` and `kind`",
                Value::Array(_) => "a sequence",
                _ => "a scalar",
            };
            self.skip(file, line, format!("not a Kubernetes object: {what}"));
            return Ok(());
        };
        if api_version.starts_with("kustomize.config.k8s.io/")
            || api_version.starts_with("kustomize.toolkit.fluxcd.io/")
        {
            return Ok(());
        }
        if kind.ends_with("List") {
            if let Some(Value::Array(items)) = value.get("items") {
                for (i, item) in items.clone().into_iter().enumerate() {
                    let at = find_line(text, line, &format!("items[{i}]")).unwrap_or(line);
                    self.value(item, text, file, at, namespace)?;
                }
                return Ok(());
            }
        }
        let described = describe(&value, api_version, kind);
        let mut object = match object_from_json(value) {
            Ok(Some(object)) => object,
            Ok(None) => {
                self.skip(
                    file,
                    line,
                    format!("{described} is not a kind the verifier reads"),
                );
                return Ok(());
            }
            Err(error) => {
                return Err(FilesError::Object {
                    file: file.to_path_buf(),
                    line: find_line(text, line, &error.path).unwrap_or(line),
                    error,
                })
            }
        };
        let kind = object.kind();
        let meta = object.meta_mut();
        if !kind.namespaced() {
            meta.namespace.clear();
        } else if meta.namespace.is_empty() {
            meta.namespace = namespace.unwrap_or("default").to_owned();
        }
        meta.origin = Origin {
            file: Some(file.to_path_buf()),
            line: Some(line),
        };
        let inventory = &self.loaded.inventory;
        let meta = object.meta();
        if let Some(first) = inventory.get_meta(kind, &meta.namespace, &meta.name) {
            let name = if meta.namespace.is_empty() {
                meta.name.clone()
            } else {
                format!("{}/{}", meta.namespace, meta.name)
            };
            let at = match (&first.origin.file, first.origin.line) {
                (Some(f), Some(l)) => format!("{}:{l}", f.display()),
                _ => "another document".to_owned(),
            };
            self.skip(
                file,
                line,
                format!("second definition of {kind} {name}; the first, at {at}, is kept"),
            );
            return Ok(());
        }
        self.loaded.inventory.upsert(object);
        Ok(())
    }
}

/// `apps/v1 Deployment longhorn-ui` (with the name when there is one).
fn describe(value: &Value, api_version: &str, kind: &str) -> String {
    match value.pointer("/metadata/name").and_then(Value::as_str) {
        Some(name) => format!("{api_version} {kind} {name}"),
        None => format!("{api_version} {kind}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_error_lines_count_from_the_file_start() {
        assert_eq!(
            shift_lines("x at line 3 column 5, y at line 1 column 1", 10),
            "x at line 13 column 5, y at line 11 column 1"
        );
        assert_eq!(
            shift_lines("no numbers on line x", 2),
            "no numbers on line x"
        );
    }

    #[test]
    fn kustomization_names() {
        assert!(is_kustomization(Path::new("a/kustomization.yaml")));
        assert!(is_kustomization(Path::new("kustomization.yml")));
        assert!(!is_kustomization(Path::new("a/ks.yaml")));
    }
}
