//! "Did you mean" suggestions.

/// The candidate closest to `word`, if it is close enough to be a typo.
pub(crate) fn closest<'c>(
    word: &str,
    candidates: impl Iterator<Item = &'c str>,
) -> Option<&'c str> {
    candidates
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3) && *d < c.len().max(word.len()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `` `a`, `b`, `c` `` for hints.
pub(crate) fn list<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return "(none defined)".to_owned();
    }
    items.iter().map(|s| format!("`{}`", s.as_ref())).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_only_near_misses() {
        let c = ["contain", "notify-only", "recover"];
        assert_eq!(closest("contian", c.iter().copied()), Some("contain"));
        assert_eq!(closest("zzz", c.iter().copied()), None);
        assert_eq!(list(&["a", "b"]), "`a`, `b`");
    }
}
