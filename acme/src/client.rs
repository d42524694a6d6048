//! Orders certificates from an ACME directory with instant-acme.
//!
//! One account per directory, created on first use and stored sealed, so
//! every edge node and every restart uses the same one. Challenge answers go
//! to the shared store, so whichever node the validator reaches can answer.
//! Each order in flight is journalled (its URL, then the CSR's sealed key
//! before finalising), so a node killed mid-order is resumed at the CA by
//! the next attempt instead of ordering again.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeStatus, ChallengeType, Identifier,
    NewAccount, NewOrder, Order, OrderStatus, RetryPolicy,
};
use rustls::pki_types::CertificateDer;

use crate::config::Challenge;
use crate::manager::{Issued, Issuer};
use crate::seal::Sealer;
use crate::store::{Accounts, ChallengeKind, Challenges, OrderLedger, PendingOrder};
use crate::{Error, Result, time};

/// Settings of the ACME client.
#[derive(Debug, Clone)]
pub struct AcmeOptions {
    /// Directory URL.
    pub directory_url: String,
    /// Contact address for the account.
    pub contact_email: Option<String>,
    /// Roots trusted for the directory's own TLS instead of the platform's
    /// (a test CA such as pebble); empty means the platform verifier. The
    /// binary reads them from `acme.extra_root_pem`.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Challenge for plain names.
    pub challenge: Challenge,
    /// First wait before polling an order.
    pub poll_initial: Duration,
    /// Longest an order may take.
    pub order_timeout: Duration,
}

/// An [`Issuer`] backed by an ACME directory.
pub struct AcmeIssuer {
    options: AcmeOptions,
    accounts: Arc<dyn Accounts>,
    challenges: Arc<dyn Challenges>,
    journal: Arc<dyn OrderLedger>,
    sealer: Arc<Sealer>,
    account: tokio::sync::OnceCell<Account>,
}

impl std::fmt::Debug for AcmeIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AcmeIssuer({})", self.options.directory_url)
    }
}

/// Journalled orders older than this are not resumed: a CA lets pending
/// orders expire within days, and the name is ordered afresh.
const JOURNAL_MAX_AGE_MS: i64 = 24 * 3600 * 1000;

/// The sealing context of a journalled CSR key.
fn journal_context(name: &str) -> String {
    format!("order-key:{name}")
}

/// A fresh key and a CSR for `names` (as instant-acme's `finalize` makes
/// them), the key as PEM and the CSR as DER.
fn csr(names: &[String]) -> std::result::Result<(String, Vec<u8>), rcgen::Error> {
    let mut params = rcgen::CertificateParams::new(names.to_vec())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    let key = rcgen::KeyPair::generate()?;
    let request = params.serialize_request(&key)?;
    Ok((key.serialize_pem(), request.der().to_vec()))
}

/// How long a published challenge answer stays valid.
const CHALLENGE_TTL_MS: i64 = 10 * 60 * 1000;

impl AcmeIssuer {
    /// An issuer for `options`, keeping its account in `accounts`,
    /// publishing challenge answers in `challenges` and journalling orders in
    /// flight in `journal` (all shared by the cluster).
    pub fn new(
        options: AcmeOptions,
        accounts: Arc<dyn Accounts>,
        challenges: Arc<dyn Challenges>,
        journal: Arc<dyn OrderLedger>,
        sealer: Arc<Sealer>,
    ) -> Self {
        Self {
            options,
            accounts,
            challenges,
            journal,
            sealer,
            account: tokio::sync::OnceCell::new(),
        }
    }

    fn account_error(&self, message: impl std::fmt::Display) -> Error {
        Error::Account {
            directory: self.options.directory_url.clone(),
            message: message.to_string(),
        }
    }

    /// The HTTP client for the directory. Like instant-acme's default, but with
    /// TCP_NODELAY: without it every POST (headers, then body) waits out the
    /// server's delayed ACK, about 40 ms, and an order makes six of them.
    fn builder(&self) -> Result<instant_acme::AccountBuilder> {
        let tls = hyper_rustls::HttpsConnectorBuilder::new();
        let tls = if self.options.extra_roots.is_empty() {
            tls.try_with_platform_verifier()
                .map_err(|e| self.account_error(e))?
        } else {
            let mut roots = rustls::RootCertStore::empty();
            for cert in &self.options.extra_roots {
                roots.add(cert.clone()).map_err(|e| {
                    self.account_error(format!("acme.extra_root_pem unusable: {e}"))
                })?;
            }
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(|e| self.account_error(e))?
            .with_root_certificates(roots)
            .with_no_client_auth();
            tls.with_tls_config(config)
        };
        let mut tcp = hyper_util::client::legacy::connect::HttpConnector::new();
        tcp.set_nodelay(true);
        tcp.enforce_http(false);
        let connector = tls
            .https_only()
            .enable_http1()
            .enable_http2()
            .wrap_connector(tcp);
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build::<_, instant_acme::BodyWrapper<bytes::Bytes>>(connector);
        Ok(Account::builder_with_http(Box::new(client)))
    }

    /// The account: loaded from the store, or created once and stored.
    pub async fn account(&self) -> Result<&Account> {
        self.account
            .get_or_try_init(|| async {
                let directory = self.options.directory_url.as_str();
                if let Some(sealed) = self.accounts.load_account(directory).await? {
                    return self.restore(&sealed).await;
                }
                let contact = self
                    .options
                    .contact_email
                    .as_ref()
                    .map(|email| format!("mailto:{email}"));
                let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
                let (account, credentials) = self
                    .builder()?
                    .create(
                        &NewAccount {
                            contact: &contacts,
                            terms_of_service_agreed: true,
                            only_return_existing: false,
                        },
                        directory.to_owned(),
                        None,
                    )
                    .await
                    .map_err(|e| self.account_error(e))?;
                let json = serde_json::to_vec(&credentials).map_err(|e| self.account_error(e))?;
                let sealed = self.sealer.seal(directory, &json)?;
                // Another node may have stored its account first: use that one, so
                // the whole cluster orders as one account.
                let stored = self.accounts.save_account(directory, &sealed).await?;
                if stored == sealed {
                    tracing::info!(directory, "ACME account created");
                    Ok(account)
                } else {
                    self.restore(&stored).await
                }
            })
            .await
    }

    async fn restore(&self, sealed: &[u8]) -> Result<Account> {
        let json = self.sealer.open(&self.options.directory_url, sealed)?;
        let credentials: AccountCredentials = serde_json::from_slice(&json)
            .map_err(|e| self.account_error(format!("stored credentials: {e}")))?;
        self.builder()?
            .from_credentials(credentials)
            .await
            .map_err(|e| self.account_error(e))
    }

    fn retry(&self) -> RetryPolicy {
        RetryPolicy::new()
            .initial_delay(self.options.poll_initial)
            .backoff(1.5)
            .timeout(self.options.order_timeout)
    }

    async fn order(&self, name: &str) -> Result<Issued> {
        let fail = |message: String| Error::Ca {
            name: name.to_owned(),
            message,
        };
        let began = std::time::Instant::now();
        let step = |what: &str| {
            tracing::debug!(
                name,
                step = what,
                elapsed_ms = began.elapsed().as_millis() as u64,
                "ACME order"
            );
        };
        let account = self.account().await?;
        step("account");
        let names: Vec<String> = match name.strip_prefix("*.") {
            Some(base) => vec![name.to_owned(), base.to_owned()],
            None => vec![name.to_owned()],
        };
        let identifiers: Vec<Identifier> = names.iter().cloned().map(Identifier::Dns).collect();
        // The journal keeps the first order's time, so its age limit counts
        // from when the CA first saw the order, however often it is resumed.
        let (mut order, mut key_pem, ordered_ms) = match self.resume(account, name).await {
            Some(resumed) => resumed,
            None => {
                let order = account
                    .new_order(&NewOrder::new(&identifiers))
                    .await
                    .map_err(|e| fail(format!("new order: {e}")))?;
                let ordered_ms = time::now_ms();
                let journalled = PendingOrder {
                    url: order.url().to_owned(),
                    key_sealed: None,
                    created_ms: ordered_ms,
                };
                self.journal.save_pending_order(name, &journalled).await?;
                (order, None, ordered_ms)
            }
        };
        let mut published: Vec<(ChallengeKind, String, String)> = Vec::new();
        let outcome = async {
            // Resumed after finalising: the CA has (or is making) the certificate.
            if let Some(key_pem) = key_pem.take() {
                let chain_pem = order
                    .poll_certificate(&self.retry())
                    .await
                    .map_err(|e| fail(format!("certificate: {e}")))?;
                return Ok(Issued { chain_pem, key_pem });
            }
            let mut authorizations = order.authorizations();
            while let Some(authz) = authorizations.next().await {
                let mut authz = authz.map_err(|e| fail(format!("authorization: {e}")))?;
                if authz.status == AuthorizationStatus::Valid {
                    continue;
                }
                let wildcard = authz.wildcard;
                let host = match authz.identifier().identifier {
                    Identifier::Dns(dns) => dns.clone(),
                    other => return Err(fail(format!("unexpected identifier {other:?}"))),
                };
                let kind = match (wildcard, self.options.challenge) {
                    (true, _) => ChallengeType::Dns01,
                    // The wildcard order's apex shares the DNS-01 name.
                    (false, _) if name.starts_with("*.") => ChallengeType::Dns01,
                    (false, Challenge::TlsAlpn01) => ChallengeType::TlsAlpn01,
                    (false, Challenge::Http01) => ChallengeType::Http01,
                };
                let mut challenge = authz
                    .challenge(kind.clone())
                    .ok_or_else(|| fail(format!("the CA offers no {kind:?} challenge")))?;
                let key_auth = challenge.key_authorization();
                let (store_kind, key, value) = match kind {
                    ChallengeType::Http01 => (
                        ChallengeKind::Http01,
                        challenge.token.clone(),
                        key_auth.as_str().to_owned(),
                    ),
                    ChallengeType::TlsAlpn01 => (
                        ChallengeKind::TlsAlpn01,
                        host.clone(),
                        key_auth.as_str().to_owned(),
                    ),
                    _ => (
                        ChallengeKind::Dns01,
                        format!("_acme-challenge.{host}"),
                        key_auth.dns_value(),
                    ),
                };
                let pending = challenge.status == ChallengeStatus::Pending;
                self.challenges
                    .put_challenge(store_kind, &key, &value, time::now_ms() + CHALLENGE_TTL_MS)
                    .await?;
                published.push((store_kind, key, value));
                // A resumed order's challenge may be under validation already.
                if pending {
                    challenge
                        .set_ready()
                        .await
                        .map_err(|e| fail(format!("challenge ready: {e}")))?;
                }
            }
            step("challenges ready");
            let status = order
                .poll_ready(&self.retry())
                .await
                .map_err(|e| fail(format!("waiting for validation: {e}")))?;
            if status != OrderStatus::Ready {
                return Err(fail(self.why_invalid(&mut order).await));
            }
            step("validated");
            let (key_pem, csr_der) = csr(&names).map_err(|e| fail(format!("CSR: {e}")))?;
            // The key is journalled before the CA sees the CSR: a node killed
            // after finalising can still fetch the certificate and serve it.
            let journalled = PendingOrder {
                url: order.url().to_owned(),
                key_sealed: Some(
                    self.sealer
                        .seal(&journal_context(name), key_pem.as_bytes())?,
                ),
                created_ms: ordered_ms,
            };
            self.journal.save_pending_order(name, &journalled).await?;
            order
                .finalize_csr(&csr_der)
                .await
                .map_err(|e| fail(format!("finalize: {e}")))?;
            step("finalized");
            let chain_pem = order
                .poll_certificate(&self.retry())
                .await
                .map_err(|e| fail(format!("certificate: {e}")))?;
            step("certificate");
            Ok(Issued { chain_pem, key_pem })
        }
        .await;
        for (kind, key, value) in published {
            if let Err(err) = self.challenges.delete_challenge(kind, &key, &value).await {
                tracing::warn!(error = %err.report(), "challenge answer not withdrawn; it expires on its own");
            }
        }
        // Issued or failed at the CA, the journal entry has served; a store
        // failure here (not the CA's) leaves it, to be resumed or replaced.
        if !matches!(&outcome, Err(Error::Store(_)))
            && let Err(err) = self.journal.clear_pending_order(name).await
        {
            tracing::warn!(name, error = %err.report(), "order journal entry not cleared");
        }
        outcome
    }

    /// The journalled order for `name`, if the CA can still complete it:
    /// the order, the key of its CSR when it was finalised, and when it was
    /// first ordered.
    async fn resume(&self, account: &Account, name: &str) -> Option<(Order, Option<String>, i64)> {
        let pending = match self.journal.pending_order(name).await {
            Ok(pending) => pending?,
            Err(err) => {
                tracing::warn!(name, error = %err.report(), "order journal unreadable; ordering anew");
                return None;
            }
        };
        if time::now_ms() - pending.created_ms > JOURNAL_MAX_AGE_MS {
            return None;
        }
        let mut order = match account.order(pending.url.clone()).await {
            Ok(order) => order,
            Err(err) => {
                tracing::info!(name, url = pending.url, error = %err, "journalled order not resumable; ordering anew");
                return None;
            }
        };
        let key = pending.key_sealed.as_ref().and_then(|sealed| {
            let plain = self.sealer.open(&journal_context(name), sealed).ok()?;
            String::from_utf8(plain).ok()
        });
        let status = order.state().status;
        let resumable = match status {
            OrderStatus::Pending | OrderStatus::Ready => Some((order, None, pending.created_ms)),
            // Finalised by the node that died: only its key can serve the certificate.
            OrderStatus::Processing | OrderStatus::Valid => {
                key.map(|key| (order, Some(key), pending.created_ms))
            }
            _ => None,
        };
        match &resumable {
            Some(_) => tracing::info!(
                name,
                url = pending.url,
                ?status,
                "resuming the journalled order"
            ),
            None => tracing::info!(
                name,
                url = pending.url,
                ?status,
                "journalled order cannot be completed; ordering anew"
            ),
        }
        resumable
    }

    /// The validator's complaint, for the error message and `last_error`.
    async fn why_invalid(&self, order: &mut instant_acme::Order) -> String {
        let mut reasons = Vec::new();
        let mut authorizations = order.authorizations();
        while let Some(Ok(mut authz)) = authorizations.next().await {
            if let Ok(state) = authz.refresh().await {
                for challenge in &state.challenges {
                    if let Some(problem) = &challenge.error {
                        reasons.push(problem.detail.clone().unwrap_or_default());
                    }
                }
            }
        }
        if reasons.is_empty() {
            "the order became invalid".to_owned()
        } else {
            format!("validation failed: {}", reasons.join("; "))
        }
    }
}

#[async_trait]
impl Issuer for AcmeIssuer {
    fn kind(&self) -> &'static str {
        "acme"
    }

    async fn issue(&self, name: &str) -> Result<Issued> {
        self.order(name).await
    }

    async fn renewal_window(&self, chain_pem: &str) -> Option<(i64, i64)> {
        let leaf = crate::certs::pem_certificates(chain_pem)
            .into_iter()
            .next()?;
        let id = instant_acme::CertificateIdentifier::try_from(&leaf).ok()?;
        let account = self.account().await.ok()?;
        match account.renewal_info(&id).await {
            Ok((info, _)) => {
                let start = info.suggested_window.start.unix_timestamp() * 1000;
                let end = info.suggested_window.end.unix_timestamp() * 1000;
                Some((start, end.max(start)))
            }
            Err(instant_acme::Error::Unsupported(_)) => None,
            Err(err) => {
                tracing::debug!(error = %err, "ARI unavailable; renewing at one third of the lifetime");
                None
            }
        }
    }
}
