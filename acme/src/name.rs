//! DNS names, checked once: [`DnsName`] for every name the edge serves or a
//! certificate is issued for (SNI, tenants' subdomains, custom domains), and
//! [`record_name`] for names that are only looked up in DNS.

use std::fmt;
use std::net::IpAddr;

/// Longest name in presentation form, without the trailing dot (RFC 1035).
const MAX_NAME: usize = 253;
/// Longest label (RFC 1035).
const MAX_LABEL: usize = 63;

/// A host name: lowercase, without a trailing dot, at most 253 bytes of
/// dot-separated labels of 1–63 letters, digits and inner hyphens (RFC 1123),
/// and not an IP address.
///
/// `_` is refused: it is not valid in a host name, and CAs refuse it in
/// certificates (CA/Browser Forum Baseline Requirements, since ballot SC-12).
/// The `_acme-challenge.` label DNS-01 needs is put in front of a `DnsName`
/// by the code that publishes the answer; it is never parsed as one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DnsName(String);

/// What is wrong with a name, in words fit for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing left after trimming the trailing dot.
    #[error("must not be empty")]
    Empty,
    /// Longer than DNS allows.
    #[error("must be at most 253 characters, not {0}")]
    TooLong(usize),
    /// An IPv4 or IPv6 literal.
    #[error("must be a DNS name, not an IP address")]
    IpAddress,
    /// One label breaks the rules; `problem` says which.
    #[error("`{label}` is not a valid DNS label: {problem}")]
    Label {
        /// The label as given (cut to 64 characters).
        label: String,
        /// Which rule it breaks.
        problem: &'static str,
    },
}

impl DnsName {
    /// Lowercases `value`, drops one trailing dot and checks the rules above.
    pub fn parse(value: &str) -> Result<Self, NameError> {
        check(value, false).map(Self)
    }

    /// The name as stored and compared.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The labels, leftmost first.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.0.split('.')
    }
}

impl fmt::Display for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for DnsName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<DnsName> for String {
    fn from(name: DnsName) -> Self {
        name.0
    }
}

/// A name to look records up under (a DNS monitor's `_dmarc.example.com`):
/// [`DnsName`]'s rules, except that labels may also hold `_` (RFC 8552).
/// Never a name to serve or to issue a certificate for.
pub fn record_name(value: &str) -> Result<String, NameError> {
    check(value, true)
}

fn check(value: &str, underscore: bool) -> Result<String, NameError> {
    let name = value
        .strip_suffix('.')
        .unwrap_or(value)
        .to_ascii_lowercase();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME {
        return Err(NameError::TooLong(name.len()));
    }
    if name
        .trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
        .is_ok()
    {
        return Err(NameError::IpAddress);
    }
    for label in name.split('.') {
        if let Some(problem) = label_problem(label, underscore) {
            return Err(NameError::Label {
                label: label.chars().take(64).collect(),
                problem,
            });
        }
    }
    Ok(name)
}

fn label_problem(label: &str, underscore: bool) -> Option<&'static str> {
    if label.is_empty() {
        Some("labels must not be empty (two dots in a row, or a leading dot)")
    } else if label.len() > MAX_LABEL {
        Some("labels are at most 63 characters")
    } else if label.starts_with('-') || label.ends_with('-') {
        Some("labels must not start or end with a hyphen")
    } else if !label
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || (underscore && b == b'_'))
    {
        Some(if underscore {
            "only letters, digits, hyphens and underscores are allowed"
        } else {
            "only letters, digits and hyphens are allowed"
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        assert_eq!(
            DnsName::parse("Acme.LOCALHOST.").unwrap().as_str(),
            "acme.localhost"
        );
        assert_eq!(DnsName::parse("localhost").unwrap().as_str(), "localhost");
        for bad in [
            "",
            ".",
            "127.0.0.1",
            "::1",
            "[::1]",
            "a..b",
            ".a",
            "a.com..",
            "-a.com",
            "a-.com",
            "a b.com",
            "a_b.com",
            "_acme-challenge.a.com",
            "*.a.com",
            "ex\u{e4}mple.com",
            &"a".repeat(254),
            &format!("{}.com", "a".repeat(64)),
        ] {
            assert!(DnsName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let error = |v: &str| DnsName::parse(v).unwrap_err().to_string();
        assert_eq!(error(""), "must not be empty");
        assert_eq!(error("10.0.0.1"), "must be a DNS name, not an IP address");
        assert_eq!(
            error(&"a".repeat(300)),
            "must be at most 253 characters, not 300"
        );
        assert_eq!(
            error("a_b.com"),
            "`a_b` is not a valid DNS label: only letters, digits and hyphens are allowed"
        );
        assert!(error("a..com").contains("must not be empty"));
        assert!(error("-a.com").contains("hyphen"));
    }

    #[test]
    fn record_names_may_hold_underscores() {
        assert_eq!(
            record_name("_DMARC.example.com.").as_deref(),
            Ok("_dmarc.example.com")
        );
        assert!(record_name("a b.com").is_err());
        assert!(record_name("10.0.0.1").is_err());
        assert!(DnsName::parse("_dmarc.example.com").is_err());
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]

            /// An accepted name is lowercase LDH labels within the length
            /// limits, not an address, and parses to itself.
            #[test]
            fn accepted_names_are_host_names(raw in "\\PC{0,80}|[A-Za-z0-9._:\\[\\]-]{0,80}") {
                if let Ok(name) = DnsName::parse(&raw) {
                    let n = name.as_str();
                    prop_assert!(!n.is_empty() && n.len() <= 253, "{n}");
                    prop_assert!(n.parse::<IpAddr>().is_err(), "{n}");
                    for label in name.labels() {
                        prop_assert!(!label.is_empty() && label.len() <= 63, "{n}");
                        prop_assert!(!label.starts_with('-') && !label.ends_with('-'), "{n}");
                        prop_assert!(label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{n}");
                    }
                    prop_assert_eq!(DnsName::parse(n), Ok(name.clone()));
                }
            }

            /// Every well-formed name is accepted, in any case, with or without the root dot.
            #[test]
            fn well_formed_names_are_accepted(labels in prop::collection::vec("[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", 1..6), dot in any::<bool>()) {
                let name = labels.join(".");
                prop_assume!(name.parse::<IpAddr>().is_err());
                let typed = format!("{}{}", name.to_ascii_uppercase(), if dot { "." } else { "" });
                prop_assert_eq!(DnsName::parse(&typed).map(String::from), Ok(name.clone()));
                prop_assert_eq!(record_name(&typed), Ok(name));
            }
        }
    }
}
