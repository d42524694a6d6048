//! Outgoing mail: SMTP through lettre, or the log when email is off.

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::EmailConfig;
use crate::config::SmtpSecurity;

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// An address or the message could not be built.
    #[error("cannot build the message: {0}")]
    Build(String),
    /// The SMTP server refused or could not be reached.
    #[error("SMTP delivery failed: {0}")]
    Smtp(String),
}

/// One mail: plain text and HTML alternatives.
#[derive(Debug, Clone)]
pub struct Mail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    /// A real SMTP server.
    Smtp {
        /// The connection pool.
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        /// Sender.
        from: Mailbox,
    },
    /// Email is off: log that a mail would have gone out (with its body only in development).
    Log {
        /// Include the body, which may hold one-time links.
        include_body: bool,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Smtp { from, .. } => write!(f, "Mailer::Smtp(from {from})"),
            Self::Log { include_body } => write!(f, "Mailer::Log(include_body: {include_body})"),
        }
    }
}

impl Mailer {
    /// Builds the mailer `[email]` describes.
    pub fn from_config(config: &EmailConfig, production: bool) -> Result<Self, MailError> {
        if !config.enabled {
            return Ok(Self::Log {
                include_body: !production,
            });
        }
        let host = config.smtp_host.as_deref().unwrap_or_default();
        let builder = match config.smtp_security {
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| MailError::Build(e.to_string()))?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| MailError::Build(e.to_string()))?,
        };
        let mut builder = builder
            .port(config.smtp_port)
            .timeout(Some(std::time::Duration::from_secs(15)));
        if let Some(user) = &config.smtp_username {
            let password = config
                .smtp_password
                .as_ref()
                .map(|p| p.expose_secret().to_owned())
                .unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        let from = config
            .from
            .parse::<Mailbox>()
            .map_err(|e| MailError::Build(format!("email.from: {e}")))?;
        Ok(Self::Smtp {
            transport: Box::new(builder.build()),
            from,
        })
    }

    /// Sends one mail.
    pub async fn send(&self, mail: Mail) -> Result<(), MailError> {
        self.send_with_headers(mail, &[]).await
    }

    /// Sends one mail with extra header fields (ASCII names, e.g.
    /// `List-Unsubscribe`); values are encoded as the header needs.
    pub async fn send_with_headers(
        &self,
        mail: Mail,
        headers: &[(&'static str, String)],
    ) -> Result<(), MailError> {
        match self {
            Self::Log { include_body } => {
                if *include_body {
                    tracing::info!(to = %mail.to, subject = %mail.subject, body = %mail.text, "email is off; mail logged");
                } else {
                    tracing::warn!(to = %mail.to, subject = %mail.subject, "email is off; mail not sent");
                }
                Ok(())
            }
            Self::Smtp { transport, from } => {
                let to = mail
                    .to
                    .parse::<Mailbox>()
                    .map_err(|e| MailError::Build(format!("recipient: {e}")))?;
                let mut builder = Message::builder().from(from.clone()).to(to);
                for (name, value) in headers {
                    builder = builder.raw_header(HeaderValue::new(
                        HeaderName::new_from_ascii_str(name),
                        value.clone(),
                    ));
                }
                let message = builder
                    .subject(mail.subject)
                    .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
                    .map_err(|e| MailError::Build(e.to_string()))?;
                transport
                    .send(message)
                    .await
                    .map_err(|e| MailError::Smtp(e.to_string()))?;
                Ok(())
            }
        }
    }
}

impl Mailer {
    /// Sends without making the caller wait; a failure is logged, since the
    /// user can ask for the mail again.
    pub fn send_in_background(&self, mail: Mail, what: &'static str) {
        let mailer = self.clone();
        tokio::spawn(async move {
            if let Err(err) = mailer.send(mail).await {
                tracing::error!(error = %err, mail = what, "mail not sent");
            }
        });
    }
}

/// Escapes text for HTML bodies.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
