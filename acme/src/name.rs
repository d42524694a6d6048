//! Server names as presented in SNI: normalised and checked before any look-up.

/// The lowercase name without a trailing dot, if it is a plausible DNS name.
///
/// Anything else (IP literals, empty labels, odd characters, over-long names)
/// is refused here, so junk SNI values cost neither a query nor a cache slot.
pub fn normalize(sni: &str) -> Option<String> {
    let name = sni.trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() || name.len() > 253 || name.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let valid = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    valid.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn names() {
        assert_eq!(
            normalize("Acme.LOCALHOST.").as_deref(),
            Some("acme.localhost")
        );
        assert_eq!(normalize("localhost").as_deref(), Some("localhost"));
        for bad in [
            "",
            "127.0.0.1",
            "a..b",
            "-a.com",
            "a b.com",
            "ex\u{e4}mple.com",
            &"a".repeat(254),
        ] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }
}
