//! Positioned diagnostics and their rendering for people and machines.

use std::{fmt::Write as _, ops::Range};

use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The plan is invalid.
    Error,
    /// The plan is valid but weaker than it should be; fails only under `--strict`.
    Warning,
}

impl Level {
    /// `"error"` or `"warning"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

/// One finding about a plan, anchored to a byte range of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub level: Level,
    /// Stable machine-readable code, e.g. `unknown-reference`.
    pub code: &'static str,
    /// What is wrong, naming the object.
    pub message: String,
    /// Byte range in the source; `None` for findings about the file as a whole.
    pub span: Option<Range<usize>>,
    /// One line saying how to fix it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A new error.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self { level: Level::Error, code, message: message.into(), span: None, hint: None }
    }

    /// A new warning.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self { level: Level::Warning, code, message: message.into(), span: None, hint: None }
    }

    /// Anchors the diagnostic.
    #[must_use]
    pub fn with_span(mut self, span: Option<Range<usize>>) -> Self {
        self.span = span;
        self
    }

    /// Adds the fix hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// A plan file's name and text, with line lookup.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: String,
    text: String,
    line_starts: Vec<usize>,
}

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1, in characters.
    pub column: usize,
}

impl SourceFile {
    /// Wraps a file's text under the name diagnostics will show.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts =
            std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Self { name: name.into(), text, line_starts }
    }

    /// The name shown in diagnostics.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Line and column of a byte offset (clamped to the text).
    pub fn position(&self, offset: usize) -> Position {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let line = self.line_starts.partition_point(|&start| start <= offset).max(1);
        let start = self.line_starts[line - 1];
        Position { line, column: self.text[start..offset].chars().count() + 1 }
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts.get(line - 1).copied().unwrap_or(self.text.len());
        let end = self.line_starts.get(line).map_or(self.text.len(), |&next| next);
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }
}

/// Masks a secret on a displayed source line so that diagnostics never print
/// it: the span's characters (when they hold the value) and any 64-hex-digit
/// run (a private key) become `*`, keeping the caret aligned.
fn redact(line: &str, start_col: usize, end_col: usize) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = chars.clone();
    // the string value under the caret, without its quotes
    if chars.get(start_col.saturating_sub(1)).is_some_and(|c| *c == '"' || *c == '\'') {
        let end = end_col.saturating_sub(2).min(chars.len());
        for slot in out.iter_mut().take(end).skip(start_col) {
            *slot = '*';
        }
    }
    // any key-like hex run elsewhere on the line
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
        if run >= 64 {
            out[i..i + run].iter_mut().for_each(|c| *c = '*');
        }
        i += run.max(1);
    }
    out.into_iter().collect()
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// All diagnostics for one file.
#[derive(Debug, Clone)]
pub struct Report {
    /// The checked file.
    pub file: SourceFile,
    /// Findings, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.level == Level::Error).count()
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.level == Level::Warning).count()
    }

    /// Whether the plan fails the check (warnings count under `strict`).
    pub fn fails(&self, strict: bool) -> bool {
        self.errors() > 0 || (strict && self.warnings() > 0)
    }

    /// Renders every diagnostic as `file:line:col`, the source line and a caret.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            render_one(&self.file, d, &mut out);
        }
        out
    }

    /// The machine form used by `--json`.
    pub fn to_json(&self) -> serde_json::Value {
        let items: Vec<_> = self
            .diagnostics
            .iter()
            .map(|d| {
                let (start, end) = match &d.span {
                    Some(span) => {
                        (Some(self.file.position(span.start)), Some(self.file.position(span.end)))
                    }
                    None => (None, None),
                };
                serde_json::json!({
                    "level": d.level,
                    "code": d.code,
                    "message": d.message,
                    "file": self.file.name(),
                    "line": start.map(|p| p.line),
                    "column": start.map(|p| p.column),
                    "end_line": end.map(|p| p.line),
                    "end_column": end.map(|p| p.column),
                    "hint": d.hint,
                })
            })
            .collect();
        serde_json::json!({
            "file": self.file.name(),
            "errors": self.errors(),
            "warnings": self.warnings(),
            "diagnostics": items,
        })
    }
}

fn render_one(file: &SourceFile, d: &Diagnostic, out: &mut String) {
    let _ = writeln!(out, "{}[{}]: {}", d.level.as_str(), d.code, d.message);
    match &d.span {
        Some(span) => {
            let start = file.position(span.start);
            let end = file.position(span.end.max(span.start));
            let _ = writeln!(out, "  --> {}:{}:{}", file.name(), start.line, start.column);
            let line_text = file.line_text(start.line);
            let gutter = start.line.to_string().len();
            let width = if end.line == start.line {
                end.column.saturating_sub(start.column).max(1)
            } else {
                line_text.chars().count().saturating_sub(start.column - 1).max(1)
            };
            let pad: String = line_text
                .chars()
                .take(start.column - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let shown = if matches!(d.code, "literal-private-key" | "literal-secret") {
                redact(line_text, file.position(span.start).column, file.position(span.end).column)
            } else {
                line_text.to_owned()
            };
            let _ = writeln!(out, "{:gutter$} |", "");
            let _ = writeln!(out, "{} | {}", start.line, shown);
            let _ = writeln!(out, "{:gutter$} | {}{}", "", pad, "^".repeat(width));
            if let Some(hint) = &d.hint {
                let _ = writeln!(out, "{:gutter$} = help: {}", "", hint);
            }
        }
        None => {
            let _ = writeln!(out, "  --> {}", file.name());
            if let Some(hint) = &d.hint {
                let _ = writeln!(out, "   = help: {hint}");
            }
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_char_counted() {
        let f = SourceFile::new("p.toml", "a = 1\nnäme = \"x\"\n");
        assert_eq!(f.position(0), Position { line: 1, column: 1 });
        assert_eq!(f.position(6), Position { line: 2, column: 1 });
        // byte 10 is after "näm" (ä is two bytes): column 4
        assert_eq!(f.position(10), Position { line: 2, column: 4 });
        assert_eq!(f.position(10_000).line, 3);
        assert_eq!(f.line_text(2), "näme = \"x\"");
    }

    #[test]
    fn secrets_are_masked_in_rendered_lines() {
        let key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
        let text = format!("[signers.g]\nprivate_key = \"{key}\"\n");
        let report = Report {
            file: SourceFile::new("p.toml", text.as_str()),
            diagnostics: vec![
                Diagnostic::error("literal-private-key", "key in plan").with_span(Some(12..23)),
            ],
        };
        let out = report.render();
        assert!(
            !out.contains("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"),
            "{out}"
        );
        assert!(out.contains("private_key = \"0x****"), "{out}");
        let report = Report {
            file: SourceFile::new("p.toml", "url = \"https://hooks/T0/B0/secret\"\n"),
            diagnostics: vec![Diagnostic::error("literal-secret", "clear").with_span(Some(6..34))],
        };
        let out = report.render();
        assert!(!out.contains("secret\""), "{out}");
        assert!(out.contains("url = \"****"), "{out}");
    }

    #[test]
    fn renders_caret_under_span() {
        let file = SourceFile::new("p.toml", "[x]\nplaybook = \"contian\"\n");
        let report = Report {
            file,
            diagnostics: vec![
                Diagnostic::error("unknown-reference", "no playbook `contian`")
                    .with_span(Some(15..24))
                    .with_hint("did you mean `contain`?"),
            ],
        };
        let text = report.render();
        assert!(text.contains("  --> p.toml:2:12\n"), "{text}");
        assert!(text.contains("2 | playbook = \"contian\"\n  |            ^^^^^^^^^\n"), "{text}");
        assert!(text.contains("= help: did you mean `contain`?"), "{text}");
    }
}
