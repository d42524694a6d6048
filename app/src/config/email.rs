//! `[email]`: SMTP delivery for alerts and account mail.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::redacted;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: local sinks and tests only.
    None,
}

/// SMTP settings; email alerts are off unless `enabled`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// Send email alerts and account mail.
    pub enabled: bool,
    /// SMTP server host name.
    #[serde(default)]
    pub smtp_host: Option<String>,
    /// SMTP server port.
    pub smtp_port: u16,
    /// Transport security.
    pub smtp_security: SmtpSecurity,
    /// SMTP user name.
    #[serde(default)]
    pub smtp_username: Option<String>,
    /// SMTP password.
    #[serde(default, serialize_with = "redacted")]
    pub smtp_password: Option<SecretString>,
    /// Sender address of every mail.
    pub from: String,
}

impl EmailConfig {
    /// Appends one message per problem, each naming its key.
    pub fn validate(&self, production: bool, problems: &mut Vec<String>) {
        if !self.enabled {
            return;
        }
        if self
            .smtp_host
            .as_deref()
            .is_none_or(|h| h.trim().is_empty())
        {
            problems.push("email.smtp_host: required when email.enabled is true".to_owned());
        }
        if self.smtp_port == 0 {
            problems.push("email.smtp_port: must not be 0".to_owned());
        }
        if production && self.smtp_security == SmtpSecurity::None {
            problems.push(
                "email.smtp_security: `none` sends credentials in clear; use starttls or tls"
                    .to_owned(),
            );
        }
        let from = self.from.trim();
        if !from.contains('@') || from.starts_with('@') || from.ends_with('@') {
            problems.push(format!("email.from: `{from}` is not an email address"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(host: Option<&str>) -> EmailConfig {
        EmailConfig {
            enabled: true,
            smtp_host: host.map(str::to_owned),
            smtp_port: 587,
            smtp_security: SmtpSecurity::Starttls,
            smtp_username: None,
            smtp_password: None,
            from: "alerts@example.com".to_owned(),
        }
    }

    #[test]
    fn enabled_email_needs_a_host() {
        let mut problems = Vec::new();
        email(None).validate(true, &mut problems);
        assert_eq!(
            problems,
            ["email.smtp_host: required when email.enabled is true"]
        );
        problems.clear();
        email(Some("smtp.example.com")).validate(true, &mut problems);
        assert!(problems.is_empty());
        let mut off = email(None);
        off.enabled = false;
        off.validate(true, &mut problems);
        assert!(problems.is_empty());
    }

    #[test]
    fn production_refuses_plaintext_and_bad_sender() {
        let mut config = email(Some("smtp.example.com"));
        config.smtp_security = SmtpSecurity::None;
        config.from = "nobody".to_owned();
        let mut problems = Vec::new();
        config.validate(true, &mut problems);
        assert_eq!(problems.len(), 2, "{problems:?}");
        problems.clear();
        config.validate(false, &mut problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
    }
}
