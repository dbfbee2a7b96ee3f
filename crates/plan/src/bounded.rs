//! Reading the files a plan names (the plan itself, ABIs, secrets,
//! keystores) with bounds: only regular files, at most a stated size, read
//! with that limit. A device (`/dev/zero`), a FIFO or a directory gets an
//! error that says what it is, never an endless read.

use std::{
    io::{self, Read as _},
    path::Path,
};

/// Largest plan file.
pub const PLAN_MAX_BYTES: u64 = 4 * 1024 * 1024;
/// Largest ABI file (compiler artifacts with bytecode included).
pub const ABI_MAX_BYTES: u64 = 32 * 1024 * 1024;
/// Largest secret file (a URL, a token, a password).
pub const SECRET_MAX_BYTES: u64 = 64 * 1024;
/// Largest keystore file.
pub const KEYSTORE_MAX_BYTES: u64 = 1024 * 1024;

/// Checks that `path` is a regular file of at most `cap` bytes.
///
/// # Errors
/// When it is missing, not a regular file (the error says what it is) or
/// larger than `cap` (the error states the limit).
pub fn check_regular(path: &Path, cap: u64) -> io::Result<()> {
    let meta = std::fs::metadata(path)?;
    let kind = meta.file_type();
    let what = if kind.is_dir() {
        Some("a directory")
    } else if kind.is_file() {
        None
    } else {
        Some(special(&kind))
    };
    if let Some(what) = what {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {what}, not a regular file"),
        ));
    }
    if meta.len() > cap {
        return Err(too_large(meta.len(), cap));
    }
    Ok(())
}

/// Reads the regular file at `path`, at most `cap` bytes, as UTF-8 text.
///
/// # Errors
/// As [`check_regular`]; also when the file grows past `cap` while read or
/// is not UTF-8.
pub fn read_text(path: &Path, cap: u64) -> io::Result<String> {
    check_regular(path, cap)?;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(bytes.len() as u64, cap));
    }
    String::from_utf8(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))
}

fn too_large(size: u64, cap: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {size} bytes, over the limit of {cap} bytes"),
    )
}

#[cfg(unix)]
fn special(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_directories_and_big_files_are_refused_with_what_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let err = |p: &Path, cap| read_text(p, cap).unwrap_err().to_string();
        assert_eq!(err(dir.path(), 10), "it is a directory, not a regular file");
        #[cfg(unix)]
        assert_eq!(err(Path::new("/dev/zero"), 10), "it is a character device, not a regular file");
        let big = dir.path().join("big");
        std::fs::write(&big, "x".repeat(11)).unwrap();
        assert_eq!(err(&big, 10), "it is 11 bytes, over the limit of 10 bytes");
        assert_eq!(read_text(&big, 11).unwrap(), "x".repeat(11));
        assert!(err(&dir.path().join("missing"), 10).contains("No such file"));
    }
}
