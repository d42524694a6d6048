//! Custom hostnames tenants bring (e.g. `status.acme.com`).

use std::fmt;

use acme::name::DnsName;

/// A custom domain: a [`DnsName`] of at least two labels, under a real
/// top-level domain, neither ours nor a local-only name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hostname(DnsName);

impl Hostname {
    /// Validates `value`; names under `our_suffix` belong to us, not to a tenant.
    pub fn parse_custom(value: &str, our_suffix: &str) -> Result<Self, String> {
        let name = DnsName::parse(value.trim()).map_err(|problem| problem.to_string())?;
        let labels: Vec<&str> = name.labels().collect();
        if labels.len() < 2 {
            return Err("must have at least two labels, like status.example.com".to_owned());
        }
        if labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err("must end in a top-level domain, not a number".to_owned());
        }
        let text = name.as_str();
        let suffix = our_suffix.trim_matches('.').to_ascii_lowercase();
        if !suffix.is_empty() && (text == suffix || text.ends_with(&format!(".{suffix}"))) {
            return Err(format!("names under {suffix} are assigned by StatusWatch"));
        }
        if text == "localhost" || text.ends_with(".localhost") {
            return Err("must be a public DNS name".to_owned());
        }
        Ok(Self(name))
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_hostnames() {
        assert_eq!(
            Hostname::parse_custom("Status.Acme.COM.", "sw.io")
                .unwrap()
                .as_str(),
            "status.acme.com"
        );
        for bad in [
            "",
            "acme",
            "10.0.0.1",
            "[::1]",
            "a..b.com",
            "-a.com",
            "a_b.com",
            "_acme-challenge.acme.com",
            "x.sw.io",
            "sw.io",
            "app.localhost",
            "host.123",
            &format!("{}.com", "a".repeat(64)),
        ] {
            assert!(Hostname::parse_custom(bad, "sw.io").is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let error = |v: &str| Hostname::parse_custom(v, "sw.io").unwrap_err();
        assert_eq!(error("10.0.0.1"), "must be a DNS name, not an IP address");
        assert!(error("a_b.com").starts_with("`a_b` is not a valid DNS label"));
        assert!(error("acme").contains("at least two labels"));
    }

    mod properties {
        use std::net::IpAddr;

        use proptest::prelude::*;

        use super::*;

        fn valid_labels(name: &str) -> bool {
            name.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]

            /// An accepted name is lowercase, at most 253 bytes, of two or more
            /// valid labels, not an address, not ours, and parses to itself.
            #[test]
            fn accepted_names_are_public_dns_names(raw in "\\PC{0,80}|[A-Za-z0-9.:\\[\\]-]{0,80}") {
                if let Ok(name) = Hostname::parse_custom(&raw, "statuswatch.example") {
                    let n = name.as_str();
                    prop_assert!(n.len() <= 253 && n.contains('.'), "{n}");
                    prop_assert!(valid_labels(n), "{n}");
                    prop_assert!(n.parse::<IpAddr>().is_err(), "{n}");
                    prop_assert!(!n.ends_with(".statuswatch.example") && n != "statuswatch.example", "{n}");
                    prop_assert!(!n.ends_with(".localhost"), "{n}");
                    prop_assert_eq!(Hostname::parse_custom(n, "statuswatch.example"), Ok(name.clone()));
                }
            }

            /// Well-formed names are accepted; ours never are.
            #[test]
            fn well_formed_names_are_accepted(labels in prop::collection::vec("[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", 1..5), tld in "[a-z]{2,10}") {
                let name = format!("{}.{tld}", labels.join("."));
                prop_assume!(tld != "localhost");
                prop_assert_eq!(
                    Hostname::parse_custom(&format!(" {}. ", name.to_ascii_uppercase()), "statuswatch.example").map(|h| h.as_str().to_owned()),
                    Ok(name.clone())
                );
                let ours = format!("{}.statuswatch.example", labels.join("."));
                prop_assert!(Hostname::parse_custom(&ours, "statuswatch.example").is_err());
            }
        }
    }
}
