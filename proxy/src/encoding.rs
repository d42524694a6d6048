//! Content codings the edge keeps precompressed (gzip, brotli, zstd): making
//! the variants once, and choosing one by `Accept-Encoding` with its q-values.
//!
//! Compressing once at load (static files) or when stored (cached app
//! answers) replaces compressing on every request: a 150 KB script cost
//! about 1.7 ms of CPU per gzip answer on the fly.

use std::io::Write;

use bytes::Bytes;

/// Bodies smaller than this are sent as they are: the coding's own overhead
/// and a `Content-Encoding` header eat what compression would save.
pub const MIN_COMPRESS_BYTES: usize = 256;

/// A content coding the edge can serve from memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coding {
    /// RFC 9110 `gzip`.
    Gzip,
    /// RFC 7932 `br`.
    Brotli,
    /// RFC 8878 `zstd`.
    Zstd,
}

impl Coding {
    /// Every coding, in the server's order of preference at equal q-values
    /// (smallest output first for text).
    pub const ALL: [Self; 3] = [Self::Brotli, Self::Zstd, Self::Gzip];

    /// `Content-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Brotli => "br",
            Self::Zstd => "zstd",
        }
    }

    /// Compresses `body` once (the cost is paid once, not per request).
    pub fn compress(self, body: &[u8], effort: Effort) -> std::io::Result<Vec<u8>> {
        let (gzip, brotli, zstd) = match effort {
            Effort::Max => (9, 9, 12),
            Effort::Fast => (6, 5, 6),
        };
        match self {
            Self::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(
                    Vec::with_capacity(body.len() / 3),
                    flate2::Compression::new(gzip),
                );
                encoder.write_all(body)?;
                encoder.finish()
            }
            Self::Brotli => {
                let mut out = Vec::with_capacity(body.len() / 3);
                let params = brotli::enc::BrotliEncoderParams {
                    quality: brotli,
                    lgwin: 22,
                    ..Default::default()
                };
                brotli::BrotliCompress(&mut &body[..], &mut out, &params)?;
                Ok(out)
            }
            Self::Zstd => zstd::bulk::compress(body, zstd),
        }
    }
}

/// How hard to compress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    /// Small output (static files, compressed once per load): brotli 9,
    /// zstd 12, gzip 9. Brotli 10-11 and zstd 15-19 took 10-60 times as long
    /// on a 180 KB script for no smaller (at times larger) output.
    Max,
    /// Cheap enough to do whenever an app answer is stored (every few
    /// seconds per page at worst): brotli 5, zstd 6, gzip 6.
    Fast,
}

/// A body and the coded forms of it that are smaller.
#[derive(Debug, Clone, Default)]
pub struct Variants {
    /// gzip form.
    pub gzip: Option<Bytes>,
    /// brotli form.
    pub br: Option<Bytes>,
    /// zstd form.
    pub zstd: Option<Bytes>,
}

impl Variants {
    /// Compresses a body of a compressible type into every coding not
    /// already in `self` (shipped siblings), keeping only smaller forms.
    pub fn complete(mut self, body: &[u8], content_type: &str, effort: Effort) -> Self {
        if body.len() < MIN_COMPRESS_BYTES || !is_compressible(content_type) {
            return self;
        }
        for coding in Coding::ALL {
            if self.get(coding).is_some() {
                continue;
            }
            match coding.compress(body, effort) {
                Ok(coded) if coded.len() < body.len() => {
                    self.set(coding, Bytes::from(coded));
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(error = %err, coding = coding.token(), "compression failed")
                }
            }
        }
        self
    }

    /// Every coded form of `body` made anew (see [`Self::complete`]).
    pub fn build(body: &[u8], content_type: &str, effort: Effort) -> Self {
        Self::default().complete(body, content_type, effort)
    }

    /// The form in `coding`, if kept.
    pub fn get(&self, coding: Coding) -> Option<&Bytes> {
        match coding {
            Coding::Gzip => self.gzip.as_ref(),
            Coding::Brotli => self.br.as_ref(),
            Coding::Zstd => self.zstd.as_ref(),
        }
    }

    /// Stores the form in `coding`.
    pub fn set(&mut self, coding: Coding, body: Bytes) {
        match coding {
            Coding::Gzip => self.gzip = Some(body),
            Coding::Brotli => self.br = Some(body),
            Coding::Zstd => self.zstd = Some(body),
        }
    }

    /// Bytes held by every form.
    pub fn bytes(&self) -> usize {
        [&self.gzip, &self.br, &self.zstd]
            .iter()
            .filter_map(|v| v.as_ref().map(Bytes::len))
            .sum()
    }

    /// Whether any coded form is kept.
    pub fn is_empty(&self) -> bool {
        self.gzip.is_none() && self.br.is_none() && self.zstd.is_none()
    }

    /// The kept form the client prefers by `accept` (an `Accept-Encoding`
    /// value), or `None` for identity.
    pub fn choose(&self, accept: &str) -> Option<(Coding, &Bytes)> {
        let coding = negotiate(accept, |c| self.get(c).is_some())?;
        self.get(coding).map(|body| (coding, body))
    }
}

/// Text-like types worth compressing; images, fonts and archives already are.
pub fn is_compressible(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/javascript"
                | "application/xml"
                | "application/wasm"
                | "image/svg+xml"
                | "image/x-icon"
        )
}

/// The coding among those `available` with the highest q-value in `accept`
/// (RFC 9110 12.5.3): `*` covers codings not named, `q=0` refuses, and at
/// equal q the server's order ([`Coding::ALL`]) decides. `None` means identity.
pub fn negotiate(accept: &str, available: impl Fn(Coding) -> bool) -> Option<Coding> {
    let mut named: Vec<(String, u16)> = Vec::new();
    for part in accept.split(',') {
        let mut pieces = part.split(';');
        let name = pieces
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        let q = pieces
            .filter_map(|p| {
                let (key, value) = p.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| qvalue(value.trim()))
            })
            .next()
            .unwrap_or(Some(1000));
        // A malformed q-value is read as a refusal: never send what may not be understood.
        named.push((name, q.unwrap_or(0)));
    }
    let q_of = |token: &str| {
        named
            .iter()
            .find(|(name, _)| name == token)
            .or_else(|| named.iter().find(|(name, _)| name == "*"))
            .map_or(0, |(_, q)| *q)
    };
    let mut best: Option<(Coding, u16)> = None;
    for coding in Coding::ALL {
        let q = q_of(coding.token());
        if q > 0 && available(coding) && best.is_none_or(|(_, top)| q > top) {
            best = Some((coding, q));
        }
    }
    best.map(|(coding, _)| coding)
}

/// A q-value in thousandths (`0`, `0.5`, `1.000`); `None` when malformed.
fn qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The ETag of a coded form: the identity tag with the coding appended inside
/// the quotes, so caches and `If-None-Match` never mix forms (RFC 9110 8.8.3.3).
pub fn variant_etag(etag: &str, coding: Coding) -> String {
    match etag.strip_suffix('"') {
        Some(open) => format!("{open}-{}\"", coding.token()),
        None => format!("{etag}-{}", coding.token()),
    }
}

/// Whether `if_none_match` (a header value) matches `etag` by weak comparison.
pub fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let etag = bare(etag);
    if_none_match
        .split(',')
        .any(|t| t.trim() == "*" || bare(t) == etag)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn all() -> impl Fn(Coding) -> bool {
        |_| true
    }

    #[test]
    fn q_values_decide_and_zero_refuses() {
        assert_eq!(negotiate("gzip", all()), Some(Coding::Gzip));
        assert_eq!(
            negotiate("gzip, deflate, br, zstd", all()),
            Some(Coding::Brotli)
        );
        assert_eq!(negotiate("br;q=0.5, gzip;q=0.8", all()), Some(Coding::Gzip));
        assert_eq!(negotiate("br;q=0, gzip", all()), Some(Coding::Gzip));
        assert_eq!(
            negotiate("BR;Q=0.000, gzip;q=0.001", all()),
            Some(Coding::Gzip)
        );
        assert_eq!(negotiate("*;q=0.1, br;q=0", all()), Some(Coding::Zstd));
        assert_eq!(negotiate("*", all()), Some(Coding::Brotli));
        assert_eq!(negotiate("identity", all()), None);
        assert_eq!(negotiate("", all()), None);
        assert_eq!(negotiate("gzip;q=0", all()), None);
        assert_eq!(negotiate("gzip;q=2", all()), None, "malformed q refuses");
        assert_eq!(negotiate("gzip;q=0.5x", all()), None);
        assert_eq!(
            negotiate("br, gzip", |c| c == Coding::Gzip),
            Some(Coding::Gzip),
            "only what is kept"
        );
    }

    #[test]
    fn variants_decode_to_the_original() {
        let body = "<li class=\"component\">API: operational</li>\n".repeat(200);
        let variants = Variants::build(body.as_bytes(), "text/html; charset=utf-8", Effort::Max);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&variants.gzip.as_ref().unwrap()[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, body);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &variants.br.as_ref().unwrap()[..], &mut out).unwrap();
        assert_eq!(out, body.as_bytes());
        let out = zstd::bulk::decompress(variants.zstd.as_ref().unwrap(), body.len()).unwrap();
        assert_eq!(out, body.as_bytes());
        assert!(variants.bytes() < body.len());
    }

    #[test]
    fn small_or_binary_bodies_are_not_coded() {
        assert!(Variants::build(b"tiny", "text/plain", Effort::Fast).is_empty());
        assert!(Variants::build(&[7; 4096], "image/png", Effort::Fast).is_empty());
        assert!(!Variants::build(&[b'a'; 4096], "application/json", Effort::Fast).is_empty());
        let shipped = Variants {
            gzip: Some(Bytes::from_static(b"shipped")),
            ..Variants::default()
        };
        let completed = shipped.complete(&[b'a'; 4096], "text/css", Effort::Fast);
        assert_eq!(
            completed.gzip.as_deref(),
            Some(&b"shipped"[..]),
            "shipped forms are kept"
        );
        assert!(completed.br.is_some() && completed.zstd.is_some());
    }

    #[test]
    fn variant_tags_differ_and_match_weakly() {
        assert_eq!(variant_etag("\"abc\"", Coding::Gzip), "\"abc-gzip\"");
        assert_eq!(variant_etag("W/\"abc\"", Coding::Brotli), "W/\"abc-br\"");
        assert!(etag_matches("\"x\", W/\"abc-br\"", "\"abc-br\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abc\"", "\"abc-gzip\""));
    }
}
