//! Organisation slugs: the DNS label of a tenant's subdomain.

use std::fmt;

/// Labels that name our own services or invite phishing; never a tenant.
pub const RESERVED: &[&str] = &[
    "www",
    "api",
    "admin",
    "app",
    "status",
    "mail",
    "smtp",
    "imap",
    "pop",
    "ftp",
    "ns",
    "ns1",
    "ns2",
    "dns",
    "mx",
    "cdn",
    "static",
    "assets",
    "docs",
    "help",
    "support",
    "blog",
    "billing",
    "login",
    "signup",
    "auth",
    "account",
    "accounts",
    "dashboard",
    "console",
    "root",
    "system",
    "internal",
    "metrics",
    "health",
    "security",
    "abuse",
    "postmaster",
    "hostmaster",
    "webmaster",
    "noreply",
    "test",
    "staging",
    "dev",
    "localhost",
    "statuswatch",
];

/// A valid, unreserved, lowercase DNS label of 3–40 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    /// Validates `value`; `extra_reserved` comes from configuration.
    pub fn parse(value: &str, extra_reserved: &[String]) -> Result<Self, String> {
        let slug = value.trim().to_ascii_lowercase();
        if slug.len() < 3 || slug.len() > 40 {
            return Err("must be 3 to 40 characters".to_owned());
        }
        if !slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err("may contain only letters, digits and hyphens".to_owned());
        }
        if slug.starts_with('-') || slug.ends_with('-') {
            return Err("must not start or end with a hyphen".to_owned());
        }
        // `xn--` labels are punycode; `ab--` is reserved by IDNA for the same.
        if slug.get(2..4) == Some("--") {
            return Err("must not have hyphens in the third and fourth place".to_owned());
        }
        if RESERVED.contains(&slug.as_str())
            || extra_reserved.iter().any(|r| r.eq_ignore_ascii_case(&slug))
        {
            return Err(format!("`{slug}` is reserved"));
        }
        Ok(Self(slug))
    }

    /// The slug as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_slugs_are_normalised() {
        assert_eq!(
            Slug::parse(" Acme-Corp ", &[]).unwrap().as_str(),
            "acme-corp"
        );
        assert_eq!(Slug::parse("a1b", &[]).unwrap().as_str(), "a1b");
    }

    #[test]
    fn invalid_and_reserved_slugs_are_refused() {
        for bad in [
            "",
            "ab",
            &"a".repeat(41),
            "acme_corp",
            "acme.corp",
            "-acme",
            "acme-",
            "xn--acme",
            "ac--me",
            "ümlaut",
            "www",
            "API",
            "admin",
        ] {
            assert!(Slug::parse(bad, &[]).is_err(), "{bad}");
        }
        assert!(Slug::parse("mybrand", &["MyBrand".to_owned()]).is_err());
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]

            /// Whatever comes in, an accepted slug is a lowercase DNS label of
            /// 3–40 characters, unreserved, and parsing it again changes nothing.
            #[test]
            fn accepted_slugs_are_valid_labels(raw in "\\PC{0,48}|[ A-Za-z0-9_.-]{0,48}") {
                if let Ok(slug) = Slug::parse(&raw, &[]) {
                    let s = slug.as_str();
                    prop_assert!((3..=40).contains(&s.len()), "{s}");
                    prop_assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{s}");
                    prop_assert!(!s.starts_with('-') && !s.ends_with('-'), "{s}");
                    prop_assert!(s.get(2..4) != Some("--"), "{s}");
                    prop_assert!(!RESERVED.contains(&s), "{s}");
                    prop_assert_eq!(Slug::parse(s, &[]), Ok(slug.clone()));
                    prop_assert_eq!(s, raw.trim().to_ascii_lowercase());
                }
            }

            /// Every well-formed label that is not reserved is accepted, in any case.
            #[test]
            fn well_formed_labels_are_accepted(label in "[a-z0-9][a-z0-9-]{1,38}[a-z0-9]", upper in any::<bool>()) {
                prop_assume!(label.get(2..4) != Some("--") && !RESERVED.contains(&label.as_str()));
                let given = if upper { label.to_ascii_uppercase() } else { label.clone() };
                prop_assert_eq!(Slug::parse(&given, &[]).map(|s| s.as_str().to_owned()), Ok(label.clone()));
                prop_assert!(Slug::parse(&label, std::slice::from_ref(&given)).is_err(), "configured reserved");
            }
        }
    }
}
