//! Security headers added to every answer of the edge.

use pingora_http::ResponseHeader;

/// What to send, decided once from configuration.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    /// `Strict-Transport-Security` value, if HSTS is on.
    pub hsts: Option<String>,
    /// `Content-Security-Policy` of the SPA's pages.
    pub csp: String,
}

impl SecurityHeaders {
    /// Headers for `max_age` seconds of HSTS (0 = off).
    pub fn new(hsts_max_age: u64, include_subdomains: bool, preload: bool, csp: String) -> Self {
        let hsts = (hsts_max_age > 0).then(|| {
            let mut value = format!("max-age={hsts_max_age}");
            if include_subdomains {
                value.push_str("; includeSubDomains");
            }
            if preload {
                value.push_str("; preload");
            }
            value
        });
        Self { hsts, csp }
    }

    /// Adds the headers every answer carries; `page` adds the SPA's CSP.
    pub fn apply(&self, response: &mut ResponseHeader, page: bool) {
        if let Some(hsts) = &self.hsts {
            let _ = response.insert_header("strict-transport-security", hsts.as_str());
        }
        let _ = response.insert_header("x-content-type-options", "nosniff");
        let _ = response.insert_header("referrer-policy", "strict-origin-when-cross-origin");
        if page {
            let _ = response.insert_header("content-security-policy", self.csp.as_str());
            let _ = response.insert_header("x-frame-options", "DENY");
        }
    }
}

/// The SPA's policy: same-origin everything, no inline scripts, no framing.
pub const DEFAULT_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
