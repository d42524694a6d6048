//! DNS checks: the answer to a query, through hickory.

use std::time::Instant;

use hickory_resolver::TokioAsyncResolver;
use hickory_resolver::error::ResolveErrorKind;
use hickory_resolver::proto::rr::{RData, RecordType};

use super::{ProbeResult, elapsed_ms};
use crate::monitor::kinds::DnsRecordType;

fn record_type(kind: DnsRecordType) -> RecordType {
    match kind {
        DnsRecordType::A => RecordType::A,
        DnsRecordType::Aaaa => RecordType::AAAA,
        DnsRecordType::Cname => RecordType::CNAME,
        DnsRecordType::Mx => RecordType::MX,
        DnsRecordType::Ns => RecordType::NS,
        DnsRecordType::Txt => RecordType::TXT,
    }
}

/// One answer as text, names without the trailing dot.
fn answer_text(rdata: &RData) -> Option<String> {
    let name = |n: &hickory_resolver::proto::rr::Name| {
        n.to_ascii().trim_end_matches('.').to_ascii_lowercase()
    };
    Some(match rdata {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(a) => a.0.to_string(),
        RData::CNAME(c) => name(&c.0),
        RData::NS(n) => name(&n.0),
        RData::MX(mx) => name(mx.exchange()),
        RData::TXT(txt) => txt
            .txt_data()
            .iter()
            .map(|part| String::from_utf8_lossy(part).into_owned())
            .collect(),
        _ => return None,
    })
}

/// Queries `host` for `kind`; with `expected`, one answer must equal it.
pub(super) async fn probe(
    resolver: &TokioAsyncResolver,
    host: &str,
    kind: DnsRecordType,
    expected: Option<&str>,
) -> ProbeResult {
    let start = Instant::now();
    let fqdn = format!("{}.", host.trim_end_matches('.'));
    let lookup = match resolver.lookup(fqdn, record_type(kind)).await {
        Ok(lookup) => lookup,
        Err(err) if matches!(err.kind(), ResolveErrorKind::NoRecordsFound { .. }) => {
            return ProbeResult::down(
                format!("no {} records for {host}", kind.as_str()),
                Some(elapsed_ms(start)),
            );
        }
        Err(err) => {
            return ProbeResult::down(format!("DNS query failed: {err}"), Some(elapsed_ms(start)));
        }
    };
    let latency = elapsed_ms(start);
    let answers: Vec<String> = lookup.iter().filter_map(answer_text).collect();
    if answers.is_empty() {
        return ProbeResult::down(
            format!("no {} records for {host}", kind.as_str()),
            Some(latency),
        );
    }
    if let Some(expected) = expected {
        let want = expected.trim_end_matches('.').to_ascii_lowercase();
        let found = answers.iter().any(|a| {
            a.eq_ignore_ascii_case(&want) || (kind == DnsRecordType::Txt && a == expected)
        });
        if !found {
            return ProbeResult::down(
                format!(
                    "{} {host} answered {}, expected {expected}",
                    kind.as_str(),
                    answers.join(", ")
                ),
                Some(latency),
            );
        }
    }
    ProbeResult::up(latency)
}
