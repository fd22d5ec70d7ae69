//! What the API subcommands (`check`, `lint`, `peers`, `routes`) share in
//! their output: the `--output` format, colour (only on a terminal, never
//! with `--no-color` or `NO_COLOR`), plain-text tables whose columns are
//! sized on the visible text, and the `--fail-on` threshold with the exit
//! codes it leads to.
//!
//! Exit codes, the same for every one of these subcommands:
//! [`EXIT_OK`] (0) nothing at or above the threshold, [`EXIT_FINDINGS`] (1)
//! findings at or above it (or an incomplete answer), [`EXIT_CANNOT_CHECK`]
//! (2) nothing could be checked: bad arguments, no daemon answered, a
//! manifest that cannot be read.

use bgpd::verify::Severity;
use clap::ValueEnum;
use std::io::IsTerminal;

/// Nothing at or above `--fail-on`.
pub const EXIT_OK: u8 = 0;
/// Findings at or above `--fail-on`, or only part of the daemons answered.
pub const EXIT_FINDINGS: u8 = 1;
/// Nothing could be checked.
pub const EXIT_CANNOT_CHECK: u8 = 2;

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables and findings for a person
    Table,
    /// One JSON document (one per line with --watch)
    Json,
}

/// `--fail-on`: the least severity that makes the exit status 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any finding, notes included
    Info,
    /// Warnings and critical findings
    Warning,
    /// Critical findings only
    Critical,
    /// Never: exit 0 whatever is found (2 still when nothing was checked)
    Never,
}

impl FailOn {
    /// Whether a finding of `severity` fails the run.
    pub fn fails(self, severity: Severity) -> bool {
        match self {
            FailOn::Info => true,
            FailOn::Warning => severity >= Severity::Warning,
            FailOn::Critical => severity >= Severity::Critical,
            FailOn::Never => false,
        }
    }
}

/// ANSI colours used by the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Red,
    Yellow,
    Green,
    Cyan,
    Dim,
    Bold,
}

impl Color {
    fn code(self) -> &'static str {
        match self {
            Color::Red => "1;31",
            Color::Yellow => "33",
            Color::Green => "32",
            Color::Cyan => "36",
            Color::Dim => "2",
            Color::Bold => "1",
        }
    }
}

/// Whether to colour, decided once per run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Colour when standard output is a terminal, `--no-color` was not
    /// given and `NO_COLOR` is unset or empty (<https://no-color.org>).
    pub fn detect(no_color: bool) -> Style {
        let env_off = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: !no_color && !env_off && std::io::stdout().is_terminal(),
        }
    }

    /// No colour at all.
    #[cfg(test)]
    pub fn plain() -> Style {
        Style { color: false }
    }

    /// `text` in `color`, or as it is without colour.
    pub fn paint(self, text: &str, color: Color) -> String {
        if self.color && !text.is_empty() {
            format!("\x1b[{}m{text}\x1b[0m", color.code())
        } else {
            text.to_string()
        }
    }

    /// A severity as a fixed-width upper-case label, coloured.
    pub fn severity(self, severity: Severity) -> String {
        let (text, color) = match severity {
            Severity::Critical => ("CRITICAL", Color::Red),
            Severity::Warning => ("WARNING", Color::Yellow),
            Severity::Info => ("INFO", Color::Cyan),
        };
        self.paint(text, color)
    }
}

/// One table cell: its text and an optional colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub color: Option<Color>,
}

impl Cell {
    /// A cell without colour.
    pub fn new(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            color: None,
        }
    }

    /// A coloured cell.
    pub fn colored(text: impl Into<String>, color: Color) -> Cell {
        Cell {
            text: text.into(),
            color: Some(color),
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::new(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::new(text)
    }
}

/// A table: a header row and rows of cells, columns separated by two
/// spaces, every column as wide as its widest visible text, the last one
/// not padded (no trailing blanks).
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty, extra ones are dropped.
    pub fn row(&mut self, cells: Vec<Cell>) {
        let mut cells = cells;
        cells.resize(self.header.len(), Cell::new(""));
        self.rows.push(cells);
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, each line indented by `indent` spaces and ended
    /// by a newline.
    pub fn render(&self, style: Style, indent: usize) -> String {
        let n = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.text.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: Vec<(String, usize)>| {
            let mut text = " ".repeat(indent);
            for (i, (shown, visible)) in cells.into_iter().enumerate() {
                text.push_str(&shown);
                if i + 1 < n {
                    text.push_str(&" ".repeat(widths[i] - visible + 2));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(
            self.header
                .iter()
                .map(|h| (style.paint(h, Color::Dim), h.chars().count()))
                .collect(),
        );
        for row in &self.rows {
            line(
                row.iter()
                    .map(|c| {
                        let shown = match c.color {
                            Some(color) => style.paint(&c.text, color),
                            None => c.text.clone(),
                        };
                        (shown, c.text.chars().count())
                    })
                    .collect(),
            );
        }
        out
    }
}

/// A UTC time, `2025-12-02 03:51:07Z`, from seconds since the epoch.
pub fn utc(epoch_seconds: f64) -> String {
    if !epoch_seconds.is_finite() || epoch_seconds < 0.0 {
        return "-".to_string();
    }
    let secs = epoch_seconds.floor() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (the
/// well-known era/day-of-era decomposition: 400-year eras of 146097 days,
/// years counted from March so that the leap day comes last).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A duration in seconds as `3d4h`, `2h5m`, `4m10s` or `12s`.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "-".to_string();
    }
    let s = seconds as u64;
    let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    if d > 0 {
        format!("{d}d{h}h")
    } else if h > 0 {
        format!("{h}h{m}m")
    } else if m > 0 {
        format!("{m}m{sec}s")
    } else {
        format!("{sec}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_the_widest_visible_text() {
        let mut t = Table::new(&["a", "long header", "c"]);
        t.row(vec![
            "wide cell".into(),
            Cell::colored("x", Color::Red),
            "".into(),
        ]);
        t.row(vec!["y".into()]);
        let plain = t.render(Style::plain(), 2);
        assert_eq!(plain, "  a          long header  c\n  wide cell  x\n  y\n");
        let colored = t.render(Style { color: true }, 0);
        // Escape codes do not count toward the width.
        assert!(
            colored.contains("wide cell  \x1b[1;31mx\x1b[0m"),
            "{colored:?}"
        );
    }

    #[test]
    fn thresholds() {
        assert!(FailOn::Warning.fails(Severity::Critical));
        assert!(FailOn::Warning.fails(Severity::Warning));
        assert!(!FailOn::Warning.fails(Severity::Info));
        assert!(!FailOn::Critical.fails(Severity::Warning));
        assert!(FailOn::Info.fails(Severity::Info));
        assert!(!FailOn::Never.fails(Severity::Critical));
    }

    #[test]
    fn dates_and_durations() {
        assert_eq!(utc(0.0), "1970-01-01 00:00:00Z");
        assert_eq!(utc(951_782_400.0), "2000-02-29 00:00:00Z");
        assert_eq!(utc(1_764_650_000.9), "2025-12-02 04:33:20Z");
        assert_eq!(utc(-1.0), "-");
        assert_eq!(duration(59.9), "59s");
        assert_eq!(duration(3_725.0), "1h2m");
        assert_eq!(duration(90_061.0), "1d1h");
    }
}
