//! The only place that writes to the terminal. Everything written passes
//! the redaction layer (`firebreak_primitives::redact`): a secret the
//! process resolved never reaches stdout or stderr, logs included.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;

/// Writes a result line to stdout.
pub(crate) fn out(text: &str) {
    let text = firebreak_primitives::redact(text);
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
}

/// Writes raw text (already terminated) to stdout.
pub(crate) fn out_raw(text: &str) {
    let text = firebreak_primitives::redact(text);
    let mut stdout = std::io::stdout().lock();
    let _ = write!(stdout, "{text}");
}

/// Writes diagnostics to stderr.
pub(crate) fn error(text: &str) {
    let text = firebreak_primitives::redact(text);
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}

/// Writes already-terminated diagnostics to stderr.
pub(crate) fn error_raw(text: &str) {
    let text = firebreak_primitives::redact(text);
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{text}");
}

/// Longest log line written; the rest is cut and counted.
const LOG_LINE_MAX: usize = 8 * 1024;

/// A log event on its way to stderr: collected whole, then redacted, cut
/// to [`LOG_LINE_MAX`] bytes and written at once. A hostile endpoint's
/// 150 MB error body becomes one short line.
pub(crate) struct LogLine(Vec<u8>);

impl LogLine {
    pub(crate) const fn new() -> Self {
        Self(Vec::new())
    }
}

impl std::io::Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // keep a little more than the cap, so the cut can say how much went
        let room = (LOG_LINE_MAX * 2).saturating_sub(self.0.len());
        self.0.extend_from_slice(&buf[..buf.len().min(room)]);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.0);
        let mut text = firebreak_primitives::redact(&text);
        if text.len() > LOG_LINE_MAX {
            let mut cut = LOG_LINE_MAX;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str(" … (log line cut)\n");
        }
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(text.as_bytes());
    }
}

/// A progress bar on standard error (hidden when it is not a terminal).
pub(crate) fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {what} [{{bar:30}}] {{pos}}/{{len}} blocks  {{per_sec}}  eta {{eta}}  {{msg}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    #[test]
    fn a_log_line_keeps_at_most_its_cap_while_written() {
        let mut line = LogLine::new();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..150 {
            // 150 MB offered: what is kept stays bounded
            assert_eq!(line.write(&chunk).unwrap(), chunk.len());
        }
        assert!(line.0.len() <= LOG_LINE_MAX * 2, "{} bytes kept", line.0.len());
        line.0.clear(); // nothing to print from a test
    }
}
