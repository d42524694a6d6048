//! Email addresses as accounts are keyed: trimmed, lowercased, plausibly deliverable.

use std::fmt;

/// A syntactically plausible, lowercased email address of at most 254 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Validates and normalises `value`.
    pub fn parse(value: &str) -> Result<Self, String> {
        let email = value.trim().to_lowercase();
        if email.len() > 254 {
            return Err("must be at most 254 characters".to_owned());
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err("must be an email address like name@example.com".to_owned());
        };
        let domain_ok = domain.len() >= 3
            && domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        if !domain_ok || !local_ok {
            return Err("must be an email address like name@example.com".to_owned());
        }
        Ok(Self(email))
    }

    /// The address as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            EmailAddress::parse(" Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        assert!(EmailAddress::parse("ann+tag@mail.example.co.uk").is_ok());
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "ann@localhost",
            "a b@example.com",
            "ann@exa mple.com",
            "ann@-x.com",
            "a..b@example.com",
            "ann@example.com\r\nBcc: x@y.z",
            &format!("{}@example.com", "a".repeat(65)),
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]

            /// An accepted address is at most 254 bytes, has one `@` with a
            /// dotted domain, carries no whitespace or control character (so it
            /// cannot split a mail header), and parses to itself.
            #[test]
            fn accepted_addresses_are_safe_and_stable(raw in "\\PC{0,80}|[A-Za-z0-9@. \\r\\n<>,;\"+_-]{0,80}") {
                if let Ok(email) = EmailAddress::parse(&raw) {
                    let e = email.as_str();
                    prop_assert!(e.len() <= 254, "{e}");
                    prop_assert!(!e.chars().any(|c| c.is_whitespace() || c.is_control()), "{e:?}");
                    prop_assert!(!e.contains(['<', '>', ',', ';', '"']), "{e}");
                    let (_, domain) = e.rsplit_once('@').unwrap();
                    prop_assert!(domain.contains('.'), "{e}");
                    prop_assert_eq!(EmailAddress::parse(e), Ok(email.clone()));
                }
            }

            /// Plain addresses are accepted and lowercased.
            #[test]
            fn plain_addresses_are_accepted(local in "[A-Za-z0-9]([A-Za-z0-9._+-]{0,20}[A-Za-z0-9])?", domain in "[a-z0-9]{1,10}\\.[a-z]{2,6}") {
                prop_assume!(!local.contains(".."));
                let given = format!("{local}@{domain}");
                prop_assert_eq!(EmailAddress::parse(&given).map(|e| e.as_str().to_owned()), Ok(given.to_lowercase()));
            }
        }
    }
}
