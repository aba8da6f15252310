//! Input quoted in an error: at most a short excerpt, whatever the input's length, with its
//! control characters escaped (an error never prints a megabyte of a file, nor bytes a
//! terminal would act on); and bytes written out as hexadecimal ([`hex`]), the one way a
//! signature, a token's hash or an error's id is spelled.

/// At most this many characters of an input are quoted in an error.
pub const EXCERPT_CHARS: usize = 80;

fn head(text: &str) -> Option<(String, usize)> {
    let n = text.chars().count();
    (n > EXCERPT_CHARS).then(|| (text.chars().take(EXCERPT_CHARS).collect(), n))
}

/// `text` in quotes, as `{:?}` shows it: whole when short; else its first [`EXCERPT_CHARS`]
/// characters, an ellipsis and its length (`"xxxx…" (10000 characters)`).
#[must_use]
pub fn quoted(text: &str) -> String {
    match head(text) {
        None => format!("{text:?}"),
        Some((h, n)) => format!("{:?} ({n} characters)", format!("{h}…")),
    }
}

/// `text` without quotes, control characters escaped: whole when short; else its first
/// [`EXCERPT_CHARS`] characters, an ellipsis and its length.
#[must_use]
pub fn excerpt(text: &str) -> String {
    let escaped = |s: &str| -> String {
        s.chars()
            .flat_map(|c| {
                if c.is_control() {
                    c.escape_debug().collect::<Vec<_>>()
                } else {
                    vec![c]
                }
            })
            .collect()
    };
    match head(text) {
        None => escaped(text),
        Some((h, n)) => format!("{}… ({n} characters)", escaped(&h)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_whole_and_long_text_an_excerpt_with_its_length() {
        assert_eq!(quoted("abc"), "\"abc\"");
        assert_eq!(excerpt("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        let long = "x".repeat(5_000_000);
        let q = quoted(&long);
        assert!(
            q.len() < 120 && q.ends_with("…\" (5000000 characters)"),
            "{q}"
        );
        let e = excerpt(&long);
        assert!(
            e.len() < 120 && e.ends_with("… (5000000 characters)"),
            "{e}"
        );
    }
}

/// Bytes as lowercase hexadecimal: signatures, token hashes, error ids.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod hex_tests {
    #[test]
    fn bytes_become_two_lowercase_digits_each() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(super::hex(&[]), "");
    }
}
