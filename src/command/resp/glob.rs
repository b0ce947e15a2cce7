//! Glob-style patterns as Redis matches them (`CONFIG GET`, `KEYS`,
//! `SCAN MATCH`, `PSUBSCRIBE`, `PUBSUB CHANNELS`): `*` any run of bytes,
//! `?` one byte, `[abc]`, `[a-z]` and `[^x]` sets, `\` to take the next
//! byte literally.
//!
//! Pure and allocation-free. Stars are matched by backtracking only to the
//! last star seen, so a hostile pattern costs at most
//! `pattern.len() * text.len()` steps, never an exponential search.

/// Whether `text` matches `pattern` as a whole; with `nocase`, ASCII
/// letters match in either case.
pub fn matches(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where to resume after a mismatch: the pattern just past the last star,
    // and the text position that star's run ends at so far.
    let mut resume: Option<(usize, usize)> = None;
    loop {
        if p < pattern.len() && pattern[p] == b'*' {
            while p < pattern.len() && pattern[p] == b'*' {
                p += 1;
            }
            if p == pattern.len() {
                return true;
            }
            resume = Some((p, t));
            continue;
        }
        if p == pattern.len() && t == text.len() {
            return true;
        }
        if p < pattern.len() && t < text.len() {
            if let Some(next) = step(pattern, p, text[t], nocase) {
                p = next;
                t += 1;
                continue;
            }
        }
        // Mismatch: let the last star swallow one more byte, if any is left.
        match resume {
            Some((after_star, star_end)) if star_end < text.len() => {
                resume = Some((after_star, star_end + 1));
                p = after_star;
                t = star_end + 1;
            }
            _ => return false,
        }
    }
}

/// Matches the one-byte element of `pattern` at `p` (not a star) against
/// `byte`: the position after the element if it matches.
fn step(pattern: &[u8], p: usize, byte: u8, nocase: bool) -> Option<usize> {
    let fold = |b: u8| if nocase { b.to_ascii_lowercase() } else { b };
    match pattern[p] {
        b'?' => Some(p + 1),
        b'[' => set(pattern, p + 1, fold(byte), nocase),
        b'\\' if p + 1 < pattern.len() => (fold(pattern[p + 1]) == fold(byte)).then_some(p + 2),
        literal => (fold(literal) == fold(byte)).then_some(p + 1),
    }
}

/// Matches a set whose body starts at `p` (just past `[`) against `byte`
/// (already folded): the position after its `]` if it matches. A set left
/// open runs to the end of the pattern.
fn set(pattern: &[u8], mut p: usize, byte: u8, nocase: bool) -> Option<usize> {
    let fold = |b: u8| if nocase { b.to_ascii_lowercase() } else { b };
    let negated = pattern.get(p) == Some(&b'^');
    if negated {
        p += 1;
    }
    let mut found = false;
    while p < pattern.len() && pattern[p] != b']' {
        if pattern[p] == b'\\' && p + 1 < pattern.len() {
            p += 1;
            found |= fold(pattern[p]) == byte;
        } else if p + 2 < pattern.len() && pattern[p + 1] == b'-' {
            let (a, b) = (fold(pattern[p]), fold(pattern[p + 2]));
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            found |= (low..=high).contains(&byte);
            p += 2;
        } else {
            found |= fold(pattern[p]) == byte;
        }
        p += 1;
    }
    let after = (p + 1).min(pattern.len());
    (found != negated).then_some(after)
}

#[cfg(test)]
mod tests {
    use super::matches;

    fn m(pattern: &str, text: &str) -> bool {
        matches(pattern.as_bytes(), text.as_bytes(), false)
    }

    #[test]
    fn stars_and_question_marks() {
        assert!(m("*", ""));
        assert!(m("*", "maxmemory"));
        assert!(m("max*", "maxmemory"));
        assert!(m("max*", "max"));
        assert!(!m("max*", "ma"));
        assert!(m("*policy", "maxmemory-policy"));
        assert!(m("m*m*y", "maxmemory"));
        assert!(!m("m*m*x", "maxmemory"));
        assert!(m("p?rt", "port"));
        assert!(!m("p?rt", "prt"));
        assert!(m("***a**", "banana"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("a", ""));
    }

    #[test]
    fn sets_ranges_negation_and_escapes() {
        assert!(m("[mp]*", "port"));
        assert!(m("[mp]*", "maxclients"));
        assert!(!m("[mp]*", "save"));
        assert!(m("[a-c]at", "bat"));
        assert!(m("[c-a]at", "bat"), "a reversed range still matches");
        assert!(!m("[a-c]at", "rat"));
        assert!(m("[^a-c]at", "rat"));
        assert!(!m("[^a-c]at", "cat"));
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
        assert!(m("[\\]]", "]"));
        assert!(m("a\\", "a\\"), "a trailing backslash is itself");
        assert!(m("[ab", "a"), "an open set runs to the end");
        assert!(!m("[]x", "x"), "an empty set matches nothing");
    }

    #[test]
    fn nocase_folds_ascii_letters() {
        assert!(matches(b"MAX*", b"maxmemory", true));
        assert!(matches(b"[L-P]ort", b"port", true));
        assert!(!matches(b"MAX*", b"maxmemory", false));
    }

    #[test]
    fn hostile_patterns_stay_linear() {
        let pattern = "*a".repeat(50) + "b";
        let text = "a".repeat(5000);
        assert!(!m(&pattern, &text));
    }
}
