//! Secrets out of error reports: what leaves the process for Sentry has
//! passwords in URLs, Stripe keys, webhook secrets, bearer tokens and link
//! tokens replaced, whatever field they hide in.

/// Prefixes of values that are secret up to the next delimiter.
const SECRET_PREFIXES: [&str; 7] = [
    "sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_", "Bearer ", "bearer ",
];

/// Query parameters whose values are secret.
const SECRET_PARAMS: [&str; 5] = ["token=", "code=", "password=", "secret=", "key="];

const REDACTED: &str = "[REDACTED]";

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '&' | ',' | ';' | ')' | '>' | '<' | '`')
}

/// `text` with every secret it holds replaced by `[REDACTED]`.
pub fn scrub(text: &str) -> String {
    let mut out = scrub_url_passwords(text);
    for prefix in SECRET_PREFIXES.iter().chain(SECRET_PARAMS.iter()) {
        out = replace_after(&out, prefix);
    }
    out
}

/// Replaces what follows each `marker` up to a delimiter.
fn replace_after(text: &str, marker: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let value_start = at + marker.len();
        out.push_str(&rest[..value_start]);
        let tail = &rest[value_start..];
        let end = tail.find(is_delimiter).unwrap_or(tail.len());
        if end > 0 {
            out.push_str(REDACTED);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// `scheme://user:password@host` → `scheme://user:[REDACTED]@host`.
fn scrub_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let after = at + 3;
        out.push_str(&rest[..after]);
        let tail = &rest[after..];
        let authority_end = tail
            .find(|c: char| c == '/' || is_delimiter(c))
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at_sign), Some(colon)) if colon < at_sign => {
                out.push_str(&authority[..=colon]);
                out.push_str(REDACTED);
                out.push_str(&authority[at_sign..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_replaced_wherever_they_are() {
        assert_eq!(
            scrub("cannot connect to postgres://sw:hunter2@db:5432/sw: refused"),
            "cannot connect to postgres://sw:[REDACTED]@db:5432/sw: refused"
        );
        assert_eq!(
            scrub("stripe said no to sk_live_51Habc, whsec_xyz and \"Bearer eyJ.a.b\""),
            "stripe said no to sk_live_[REDACTED], whsec_[REDACTED] and \"Bearer [REDACTED]\""
        );
        assert_eq!(
            scrub("GET /reset-password?token=abc.def&next=/x"),
            "GET /reset-password?token=[REDACTED]&next=/x"
        );
        // Nothing secret: unchanged.
        let plain = "https://example.com/status/ went down (timeout after 10 s)";
        assert_eq!(scrub(plain), plain);
        assert_eq!(
            scrub("user@example.com: no mailbox"),
            "user@example.com: no mailbox"
        );
    }
}
