//! Security headers added to every answer of the edge.

use http::HeaderValue;
use pingora_http::ResponseHeader;

/// What to send, decided once from configuration and kept as ready header
/// values, so answering adds no parsing or copying per request.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    /// `Strict-Transport-Security` value, if HSTS is on.
    pub hsts: Option<HeaderValue>,
    /// `Content-Security-Policy` of the SPA's pages (`None` if the configured
    /// text cannot be a header value; configuration validation refuses that).
    pub csp: Option<HeaderValue>,
}

impl SecurityHeaders {
    /// Headers for `max_age` seconds of HSTS (0 = off).
    pub fn new(hsts_max_age: u64, include_subdomains: bool, preload: bool, csp: &str) -> Self {
        let hsts = (hsts_max_age > 0)
            .then(|| {
                let mut value = format!("max-age={hsts_max_age}");
                if include_subdomains {
                    value.push_str("; includeSubDomains");
                }
                if preload {
                    value.push_str("; preload");
                }
                value
            })
            .and_then(|value| HeaderValue::try_from(value).ok());
        Self {
            hsts,
            csp: HeaderValue::from_str(csp).ok(),
        }
    }

    /// Adds the headers every answer carries; `page` adds the SPA's CSP.
    pub fn apply(&self, response: &mut ResponseHeader, page: bool) {
        if let Some(hsts) = &self.hsts {
            let _ = response.insert_header("strict-transport-security", hsts.clone());
        }
        let _ = response.insert_header(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        let _ = response.insert_header(
            "referrer-policy",
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
        if page {
            if let Some(csp) = &self.csp {
                let _ = response.insert_header("content-security-policy", csp.clone());
            }
            let _ = response.insert_header("x-frame-options", HeaderValue::from_static("DENY"));
        }
    }
}

/// The SPA's policy: same-origin everything, no inline scripts, no framing.
pub const DEFAULT_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_get_the_policy_and_every_answer_the_rest() {
        let headers = SecurityHeaders::new(31_536_000, true, true, DEFAULT_CSP);
        let mut page = ResponseHeader::build(200, None).unwrap();
        headers.apply(&mut page, true);
        assert_eq!(
            page.headers["strict-transport-security"],
            "max-age=31536000; includeSubDomains; preload"
        );
        assert_eq!(page.headers["content-security-policy"], DEFAULT_CSP);
        assert_eq!(page.headers["x-frame-options"], "DENY");
        assert_eq!(page.headers["x-content-type-options"], "nosniff");

        let off = SecurityHeaders::new(0, false, false, DEFAULT_CSP);
        let mut api = ResponseHeader::build(200, None).unwrap();
        off.apply(&mut api, false);
        assert!(api.headers.get("strict-transport-security").is_none());
        assert!(api.headers.get("content-security-policy").is_none());
        assert_eq!(
            api.headers["referrer-policy"],
            "strict-origin-when-cross-origin"
        );
    }
}
