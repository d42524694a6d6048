//! Which site each open TLS connection was made for, so a request that names
//! another site than its handshake did is answered `421 Misdirected Request`
//! (RFC 9110 15.5.20) unless the connection's certificate covers that name
//! too: a browser coalescing HTTP/2 connections then retries on a connection
//! of its own, and no request reaches a site through a name it did not show.
//!
//! Pingora hands every request of a connection the `Arc<SocketDigest>` that
//! [`super::TlsConnection`] made for it, and that value has no room for our
//! data (the slot in its TLS digest is only Pingora's to set). So connections
//! are found by the address of that `Arc`: unique while the connection lives,
//! which holds it, and removed from here before it drops.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use pingora_core::protocols::SocketDigest;
use rustls::sign::CertifiedKey;

/// What a connection's handshake named and presented.
#[derive(Debug)]
pub struct ConnectionName {
    /// The SNI name (lowercase).
    pub sni: String,
    key: Arc<CertifiedKey>,
    // Read only when a request names another host than `sni` (rare).
    names: OnceLock<Vec<String>>,
}

impl ConnectionName {
    /// The name `sni` and the certificate `key` presented for it.
    pub fn new(sni: &str, key: Arc<CertifiedKey>) -> Self {
        Self {
            sni: sni.trim_end_matches('.').to_ascii_lowercase(),
            key,
            names: OnceLock::new(),
        }
    }

    /// Whether a request for `host` (lowercase, no port) may be answered on
    /// this connection: the name of the handshake, or one its certificate covers.
    pub fn covers(&self, host: &str) -> bool {
        if host == self.sni {
            return true;
        }
        let names = self.names.get_or_init(|| {
            self.key
                .end_entity_cert()
                .map(|der| acme::certs::dns_names(der))
                .unwrap_or_default()
        });
        names
            .iter()
            .any(|name| acme::certs::name_covers(name, host))
    }
}

/// Open TLS connections by their socket digest.
#[derive(Debug, Default)]
pub struct Connections {
    by_digest: Mutex<HashMap<usize, Arc<ConnectionName>>>,
}

fn address(digest: &Arc<SocketDigest>) -> usize {
    Arc::as_ptr(digest) as usize
}

impl Connections {
    pub(super) fn insert(&self, digest: &Arc<SocketDigest>, name: ConnectionName) {
        self.lock().insert(address(digest), Arc::new(name));
    }

    pub(super) fn remove(&self, digest: &Arc<SocketDigest>) {
        self.lock().remove(&address(digest));
    }

    /// The connection a request came in on, if it is one of ours (TLS).
    pub fn get(&self, digest: &Arc<SocketDigest>) -> Option<Arc<ConnectionName>> {
        self.lock().get(&address(digest)).cloned()
    }

    /// Open connections.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no connection is open.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<usize, Arc<ConnectionName>>> {
        // The map stays consistent if a holder panicked.
        self.by_digest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
