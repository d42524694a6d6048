//! The edge's own small authoritative DNS responder for DNS-01: an operator
//! delegates `_acme-challenge.<suffix>` to the edge (NS record), and the
//! edge answers TXT queries for it from the shared challenge store, so the
//! wildcard certificate needs no DNS provider API.

use std::net::SocketAddr;
use std::sync::Arc;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio_util::sync::CancellationToken;

use crate::ChallengeStore;

/// Largest answer over UDP without EDNS (RFC 1035 §4.2.1); a longer one goes
/// out truncated (TC set, no answers), and the resolver asks again over TCP.
const UDP_MAX: usize = 512;

/// UDP questions answered at once; past that they are dropped (resolvers
/// ask again), so a flood cannot queue challenge look-ups without bound.
const UDP_IN_FLIGHT: usize = 256;

/// Answers DNS queries for names under `zone` (e.g. `_acme-challenge.status.example`).
pub struct DnsResponder {
    zone: String,
    /// `zone` as a DNS name, for label-wise comparison with questions;
    /// none when the suffix is no DNS name, and then every question is refused.
    zone_name: Option<Name>,
    answers: Arc<dyn ChallengeStore>,
}

impl std::fmt::Debug for DnsResponder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DnsResponder({})", self.zone)
    }
}

impl DnsResponder {
    /// A responder authoritative for `_acme-challenge.<suffix>`.
    pub fn new(suffix: &str, answers: Arc<dyn ChallengeStore>) -> Self {
        let zone = format!(
            "_acme-challenge.{}",
            suffix.trim_matches('.').to_ascii_lowercase()
        );
        let zone_name = Name::from_ascii(format!("{zone}.")).ok();
        Self {
            zone,
            zone_name,
            answers,
        }
    }

    /// The zone this responder answers for.
    pub fn zone(&self) -> &str {
        &self.zone
    }

    /// The wire-format answer to one wire-format query; `None` for garbage.
    pub async fn answer(&self, query: &[u8]) -> Option<Vec<u8>> {
        let request = Message::from_vec(query).ok()?;
        if request.message_type() != MessageType::Query {
            return None;
        }
        let mut response = Message::new();
        response
            .set_id(request.id())
            .set_message_type(MessageType::Response)
            .set_op_code(request.op_code())
            .set_recursion_desired(request.recursion_desired())
            .set_recursion_available(false);
        response.add_queries(request.queries().iter().cloned());
        let Some(question) = request.queries().first() else {
            response.set_response_code(ResponseCode::FormErr);
            return response.to_vec().ok();
        };
        if request.op_code() != OpCode::Query {
            response.set_response_code(ResponseCode::NotImp);
            return response.to_vec().ok();
        }
        // Labels are compared as labels, not as text: a label holding an
        // escaped dot (`a\\._acme-challenge…`) is one label, not a subname.
        let qname = question.name();
        if !self
            .zone_name
            .as_ref()
            .is_some_and(|zone| zone.zone_of(qname))
        {
            // Not ours: an authoritative server refuses rather than recurses.
            response.set_response_code(ResponseCode::Refused);
            return response.to_vec().ok();
        }
        response.set_authoritative(true);
        if matches!(question.query_type(), RecordType::TXT | RecordType::ANY) {
            // Stored names are plain lowercase host names; any other label
            // (escaped bytes, underscores aside) has no challenge.
            let key = qname.to_lowercase().to_ascii();
            let key = key.trim_end_matches('.');
            if !key.contains('\\') {
                for value in self.answers.dns01(key).await {
                    // The owner is the question's name as asked, case included
                    // (resolvers randomise the case of their questions).
                    response.add_answer(Record::from_rdata(
                        qname.clone(),
                        0,
                        RData::TXT(TXT::new(vec![value])),
                    ));
                }
            }
        }
        response.set_response_code(ResponseCode::NoError);
        response.to_vec().ok()
    }

    /// The answer to a query over UDP: [`DnsResponder::answer`], truncated
    /// when it is over 512 bytes.
    pub async fn answer_udp(&self, query: &[u8]) -> Option<Vec<u8>> {
        let reply = self.answer(query).await?;
        if reply.len() <= UDP_MAX {
            return Some(reply);
        }
        let mut truncated = Message::from_vec(&reply).ok()?;
        truncated.take_answers();
        truncated.set_truncated(true);
        let mut bytes = truncated.to_vec().ok()?;
        if bytes.len() > UDP_MAX {
            // Many questions echoed: the first alone (at most 259 bytes) fits.
            let first = truncated.take_queries().into_iter().next();
            truncated.add_queries(first);
            bytes = truncated.to_vec().ok()?;
        }
        Some(bytes)
    }

    /// Serves UDP and TCP on `addr` until `shutdown`.
    pub async fn serve(
        self: Arc<Self>,
        udp: UdpSocket,
        tcp: TcpListener,
        shutdown: CancellationToken,
    ) {
        let udp_task = {
            let me = self.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(async move { me.serve_udp(udp, shutdown).await })
        };
        self.serve_tcp(tcp, shutdown).await;
        let _ = udp_task.await;
    }

    async fn serve_udp(self: Arc<Self>, socket: UdpSocket, shutdown: CancellationToken) {
        let socket = Arc::new(socket);
        let in_flight = Arc::new(tokio::sync::Semaphore::new(UDP_IN_FLIGHT));
        let mut buf = vec![0_u8; 4096];
        loop {
            let (n, peer): (usize, SocketAddr) = tokio::select! {
                () = shutdown.cancelled() => return,
                got = socket.recv_from(&mut buf) => match got {
                    Ok(got) => got,
                    Err(_) => continue,
                },
            };
            let Ok(place) = in_flight.clone().try_acquire_owned() else {
                continue;
            };
            let query = buf[..n].to_vec();
            let (me, socket) = (self.clone(), socket.clone());
            tokio::spawn(async move {
                if let Some(reply) = me.answer_udp(&query).await {
                    let _ = socket.send_to(&reply, peer).await;
                }
                drop(place);
            });
        }
    }

    async fn serve_tcp(self: Arc<Self>, listener: TcpListener, shutdown: CancellationToken) {
        loop {
            let (mut stream, _) = tokio::select! {
                () = shutdown.cancelled() => return,
                got = listener.accept() => match got {
                    Ok(got) => got,
                    Err(_) => continue,
                },
            };
            let me = self.clone();
            tokio::spawn(async move {
                // Length-prefixed messages (RFC 1035 4.2.2); a slow client gets 10 s.
                let served = tokio::time::timeout(std::time::Duration::from_secs(10), async {
                    loop {
                        let len = usize::from(stream.read_u16().await.ok()?);
                        let mut query = vec![0_u8; len];
                        stream.read_exact(&mut query).await.ok()?;
                        let reply = me.answer(&query).await?;
                        let len = u16::try_from(reply.len()).ok()?;
                        stream.write_u16(len).await.ok()?;
                        stream.write_all(&reply).await.ok()?;
                    }
                    #[allow(unreachable_code)]
                    Some(())
                });
                let _ = served.await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use hickory_proto::op::Query;

    use super::*;
    use crate::store::{ChallengeKind, Challenges, MemoryStore};

    struct StoreAnswers(Arc<MemoryStore>);

    #[async_trait::async_trait]
    impl ChallengeStore for StoreAnswers {
        async fn http01(&self, _token: &str) -> Option<String> {
            None
        }
        async fn dns01(&self, name: &str) -> Vec<String> {
            self.0
                .get_challenges(ChallengeKind::Dns01, name)
                .await
                .unwrap_or_default()
        }
    }

    fn query(name: &str, kind: RecordType) -> Vec<u8> {
        let mut message = Message::new();
        message.set_id(7).set_message_type(MessageType::Query);
        message.add_query(Query::query(Name::from_ascii(name).unwrap(), kind));
        message.to_vec().unwrap()
    }

    #[tokio::test]
    async fn answers_txt_in_its_zone_and_refuses_the_rest() {
        let store = Arc::new(MemoryStore::default());
        let far = crate::time::now_ms() + 60_000;
        for value in ["one", "two"] {
            store
                .put_challenge(
                    ChallengeKind::Dns01,
                    "_acme-challenge.status.test",
                    value,
                    far,
                )
                .await
                .unwrap();
        }
        let responder = DnsResponder::new("Status.Test.", Arc::new(StoreAnswers(store)));
        let reply = responder
            .answer(&query("_ACME-challenge.status.test.", RecordType::TXT))
            .await
            .unwrap();
        let reply = Message::from_vec(&reply).unwrap();
        assert_eq!(reply.id(), 7);
        assert!(reply.authoritative());
        let mut values: Vec<String> = reply
            .answers()
            .iter()
            .map(|r| r.data().unwrap().to_string())
            .collect();
        values.sort();
        assert_eq!(values, ["one", "two"]);

        let other = responder
            .answer(&query("www.example.com.", RecordType::A))
            .await
            .unwrap();
        assert_eq!(
            Message::from_vec(&other).unwrap().response_code(),
            ResponseCode::Refused
        );
        assert!(responder.answer(b"garbage").await.is_none());
    }

    #[tokio::test]
    async fn serves_udp_and_tcp() {
        let store = Arc::new(MemoryStore::default());
        store
            .put_challenge(
                ChallengeKind::Dns01,
                "_acme-challenge.status.test",
                "token-value",
                crate::time::now_ms() + 60_000,
            )
            .await
            .unwrap();
        let responder = Arc::new(DnsResponder::new(
            "status.test",
            Arc::new(StoreAnswers(store)),
        ));
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        let tcp = TcpListener::bind(addr).await.unwrap();
        let shutdown = CancellationToken::new();
        let served = tokio::spawn(responder.serve(udp, tcp, shutdown.clone()));
        let query = query("_acme-challenge.status.test.", RecordType::TXT);

        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.send_to(&query, addr).await.unwrap();
        let mut buf = [0_u8; 1024];
        let n = client.recv(&mut buf).await.unwrap();
        let reply = Message::from_vec(&buf[..n]).unwrap();
        assert_eq!(reply.answers().len(), 1);

        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream
            .write_u16(u16::try_from(query.len()).unwrap())
            .await
            .unwrap();
        stream.write_all(&query).await.unwrap();
        let len = usize::from(stream.read_u16().await.unwrap());
        let mut answer = vec![0_u8; len];
        stream.read_exact(&mut answer).await.unwrap();
        let reply = Message::from_vec(&answer).unwrap();
        assert_eq!(
            reply.answers()[0].data().unwrap().to_string(),
            "token-value"
        );

        shutdown.cancel();
        tokio::time::timeout(std::time::Duration::from_secs(5), served)
            .await
            .expect("stops on shutdown")
            .unwrap();
    }

    #[tokio::test]
    async fn long_answers_over_udp_are_truncated_and_whole_over_tcp() {
        let store = Arc::new(MemoryStore::default());
        let far = crate::time::now_ms() + 60_000;
        // Twenty DNS-01 values (43 characters, as ACME's are): over 1 KB.
        for n in 0..20 {
            let value = format!("{n:02}{}", "x".repeat(41));
            store
                .put_challenge(
                    ChallengeKind::Dns01,
                    "_acme-challenge.status.test",
                    &value,
                    far,
                )
                .await
                .unwrap();
        }
        let responder = DnsResponder::new("status.test", Arc::new(StoreAnswers(store)));
        let ask = query("_acme-challenge.status.test.", RecordType::TXT);
        let whole = Message::from_vec(&responder.answer(&ask).await.unwrap()).unwrap();
        assert_eq!(whole.answers().len(), 20);
        assert!(!whole.truncated());
        let udp = responder.answer_udp(&ask).await.unwrap();
        assert!(udp.len() <= UDP_MAX, "{} bytes over UDP", udp.len());
        let udp = Message::from_vec(&udp).unwrap();
        assert!(udp.truncated(), "TC tells the resolver to ask over TCP");
        assert!(udp.answers().is_empty());
        assert_eq!((udp.id(), udp.response_code()), (7, ResponseCode::NoError));
        assert_eq!(udp.queries(), whole.queries());

        // A short answer goes out as it is.
        let short = query("_acme-challenge.other.status.test.", RecordType::TXT);
        assert_eq!(
            responder.answer_udp(&short).await,
            responder.answer(&short).await
        );

        // Forty long questions (no shared label to compress) echoed back
        // would not fit either: the first alone does.
        let mut many = Message::new();
        many.set_id(9).set_message_type(MessageType::Query);
        for n in 0..40 {
            let name = format!("q{n}{}.example.", "a".repeat(50));
            many.add_query(Query::query(Name::from_ascii(name).unwrap(), RecordType::A));
        }
        let udp = responder.answer_udp(&many.to_vec().unwrap()).await.unwrap();
        assert!(udp.len() <= UDP_MAX, "{} bytes over UDP", udp.len());
        let udp = Message::from_vec(&udp).unwrap();
        assert!(udp.truncated());
        assert_eq!(udp.queries(), &many.queries()[..1]);
    }

    /// Answers only once let through, counting the questions it was asked.
    struct GatedAnswers {
        asked: std::sync::atomic::AtomicUsize,
        gate: tokio::sync::Semaphore,
    }

    #[async_trait::async_trait]
    impl ChallengeStore for GatedAnswers {
        async fn http01(&self, _token: &str) -> Option<String> {
            None
        }
        async fn dns01(&self, _name: &str) -> Vec<String> {
            self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _pass = self.gate.acquire().await;
            vec!["value".to_owned()]
        }
    }

    #[tokio::test]
    async fn a_udp_flood_is_answered_at_most_so_many_at_once() {
        use std::sync::atomic::Ordering::SeqCst;
        use std::time::Duration;
        let answers = Arc::new(GatedAnswers {
            asked: 0.into(),
            gate: tokio::sync::Semaphore::new(0),
        });
        let responder = Arc::new(DnsResponder::new("status.test", answers.clone()));
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        let tcp = TcpListener::bind(addr).await.unwrap();
        let shutdown = CancellationToken::new();
        let served = tokio::spawn(responder.serve(udp, tcp, shutdown.clone()));
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let ask = query("_acme-challenge.status.test.", RecordType::TXT);
        let sent = UDP_IN_FLIGHT + 100;
        for _ in 0..sent {
            client.send_to(&ask, addr).await.unwrap();
            // Let the responder read it, so the socket's buffer never overflows.
            tokio::task::yield_now().await;
        }
        // Every place is taken and the rest were dropped, not queued.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while answers.asked.load(SeqCst) < UDP_IN_FLIGHT {
            assert!(
                tokio::time::Instant::now() < deadline,
                "places never filled"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(answers.asked.load(SeqCst), UDP_IN_FLIGHT);

        // Let them through one at a time (so no reply overflows the client's
        // socket buffer): each place answers once, the dropped never.
        let mut buf = [0_u8; 1024];
        for n in 0..UDP_IN_FLIGHT {
            answers.gate.add_permits(1);
            tokio::time::timeout(Duration::from_secs(5), client.recv(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("reply {n} never came"))
                .unwrap();
        }
        answers.gate.add_permits(sent);
        assert!(
            tokio::time::timeout(Duration::from_millis(300), client.recv(&mut buf))
                .await
                .is_err(),
            "a dropped question was answered"
        );
        assert_eq!(answers.asked.load(SeqCst), UDP_IN_FLIGHT);
        // With the places free again, a new question is answered.
        client.send_to(&ask, addr).await.unwrap();
        let n = tokio::time::timeout(Duration::from_secs(5), client.recv(&mut buf))
            .await
            .expect("answered once places are free")
            .unwrap();
        assert_eq!(Message::from_vec(&buf[..n]).unwrap().answers().len(), 1);
        shutdown.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(5), served).await;
    }

    /// A label holding an escaped dot is one label: `foo\._acme-challenge`
    /// beside `status.test` is not under the zone, though its text ends in it.
    #[tokio::test]
    async fn a_label_holding_a_dot_is_not_a_subname() {
        let responder = DnsResponder::new("status.test", Arc::new(StoreAnswers(Arc::default())));
        let name = Name::from_labels([&b"foo._acme-challenge"[..], b"status", b"test"]).unwrap();
        let mut message = Message::new();
        message.set_id(9).set_message_type(MessageType::Query);
        message.add_query(Query::query(name, RecordType::TXT));
        let reply = responder.answer(&message.to_vec().unwrap()).await.unwrap();
        let reply = Message::from_vec(&reply).unwrap();
        assert_eq!(reply.response_code(), ResponseCode::Refused);
        assert!(!reply.authoritative());
    }

    /// Resolvers randomise the case of their questions and expect it back.
    #[tokio::test]
    async fn the_answer_keeps_the_case_of_the_question() {
        let store = Arc::new(MemoryStore::default());
        store
            .put_challenge(
                ChallengeKind::Dns01,
                "_acme-challenge.status.test",
                "token",
                crate::time::now_ms() + 60_000,
            )
            .await
            .unwrap();
        let responder = DnsResponder::new("status.test", Arc::new(StoreAnswers(store)));
        let asked = "_AcMe-ChAlLeNgE.sTaTuS.TeSt.";
        let reply = responder
            .answer(&query(asked, RecordType::TXT))
            .await
            .unwrap();
        let reply = Message::from_vec(&reply).unwrap();
        assert_eq!(reply.answers().len(), 1);
        assert!(
            reply.answers()[0]
                .name()
                .eq_case(&Name::from_ascii(asked).unwrap())
        );
    }

    mod properties {
        use std::collections::HashMap;

        use proptest::prelude::*;

        use super::*;

        const SUFFIX: &str = "status.test";

        /// Challenge values by (lowercase) name, as the test set them.
        fn stored() -> HashMap<&'static str, Vec<&'static str>> {
            HashMap::from([
                ("_acme-challenge.status.test", vec!["one", "two"]),
                ("www._acme-challenge.status.test", vec!["three"]),
            ])
        }

        /// A responder over a store holding [`stored`], and a runtime to call it on.
        fn responder() -> (tokio::runtime::Runtime, DnsResponder) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let store = Arc::new(MemoryStore::default());
            runtime.block_on(async {
                for (name, values) in stored() {
                    for value in values {
                        store
                            .put_challenge(
                                ChallengeKind::Dns01,
                                name,
                                value,
                                crate::time::now_ms() + 3_600_000,
                            )
                            .await
                            .unwrap();
                    }
                }
            });
            (
                runtime,
                DnsResponder::new(SUFFIX, Arc::new(StoreAnswers(store))),
            )
        }

        /// Whatever the bytes, the answer is nothing (not a query) or a
        /// well-formed response to the query they hold: same id, same
        /// questions, answers only from the zone, only for TXT or ANY, each
        /// owned by the name asked.
        fn check_reply(query: &[u8], reply: Option<Vec<u8>>) -> Result<(), TestCaseError> {
            let request = Message::from_vec(query).ok();
            let Some(reply) = reply else {
                prop_assert!(
                    request.is_none_or(|r| r.message_type() != MessageType::Query),
                    "a query got no answer"
                );
                return Ok(());
            };
            let request = request.expect("answered bytes parse as a message");
            prop_assert_eq!(request.message_type(), MessageType::Query);
            let reply =
                Message::from_vec(&reply).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(reply.message_type(), MessageType::Response);
            prop_assert_eq!(reply.id(), request.id());
            prop_assert_eq!(reply.op_code(), request.op_code());
            prop_assert_eq!(reply.queries(), request.queries());
            prop_assert!(!reply.recursion_available());
            if !reply.answers().is_empty() {
                let question = &request.queries()[0];
                prop_assert_eq!(reply.response_code(), ResponseCode::NoError);
                prop_assert!(reply.authoritative());
                prop_assert!(matches!(
                    question.query_type(),
                    RecordType::TXT | RecordType::ANY
                ));
                for answer in reply.answers() {
                    prop_assert!(answer.name().eq_case(question.name()));
                    prop_assert_eq!(answer.record_type(), RecordType::TXT);
                }
            }
            Ok(())
        }

        /// A query's wire bytes.
        fn encoded(id: u16, name: Name, kind: RecordType, rd: bool) -> Vec<u8> {
            let mut message = Message::new();
            message
                .set_id(id)
                .set_message_type(MessageType::Query)
                .set_recursion_desired(rd);
            message.add_query(Query::query(name, kind));
            message.to_vec().unwrap()
        }

        fn record_type() -> impl Strategy<Value = RecordType> {
            prop_oneof![
                Just(RecordType::TXT),
                Just(RecordType::ANY),
                Just(RecordType::A),
                Just(RecordType::AAAA),
                Just(RecordType::NS),
                Just(RecordType::SOA),
                Just(RecordType::CAA),
                any::<u16>().prop_map(RecordType::from),
            ]
        }

        /// Labels near the zone: its own, their case changed, and others
        /// (some holding dots or bytes that need escaping).
        fn labels() -> impl Strategy<Value = Vec<Vec<u8>>> {
            let label = prop_oneof![
                4 => prop::sample::select(vec!["_acme-challenge", "status", "test", "www", "example"])
                    .prop_map(|l| l.as_bytes().to_vec()),
                2 => "[A-Za-z0-9_-]{1,12}".prop_map(String::into_bytes),
                1 => prop::collection::vec(any::<u8>(), 1..20),
            ];
            let tail = prop_oneof![
                Just(vec![]),
                Just(vec![
                    b"_acme-challenge".to_vec(),
                    b"status".to_vec(),
                    b"test".to_vec()
                ]),
                Just(vec![b"status".to_vec(), b"test".to_vec()]),
            ];
            (prop::collection::vec(label, 0..4), tail).prop_map(|(mut head, tail)| {
                head.extend(tail);
                head
            })
        }

        /// The name with the case of each letter chosen by `flips`.
        fn with_case(labels: &[Vec<u8>], flips: &[bool]) -> Vec<Vec<u8>> {
            let mut flip = flips.iter().cycle();
            labels
                .iter()
                .map(|l| {
                    l.iter()
                        .map(|b| {
                            if *flip.next().unwrap_or(&false) {
                                b.to_ascii_uppercase()
                            } else {
                                *b
                            }
                        })
                        .collect()
                })
                .collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]

            /// Arbitrary bytes never panic and get nothing or a well-formed reply.
            #[test]
            fn arbitrary_bytes_get_nothing_or_a_well_formed_reply(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
                let (runtime, responder) = responder();
                let reply = runtime.block_on(responder.answer(&bytes));
                check_reply(&bytes, reply)?;
            }

            /// Valid queries with bytes overwritten or cut short (most of the
            /// parser is behind the header that random bytes rarely get right).
            #[test]
            fn damaged_queries_get_nothing_or_a_well_formed_reply(
                labels in labels(),
                kind in record_type(),
                edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
                cut in any::<prop::sample::Index>(),
                shorten in any::<bool>(),
            ) {
                let Ok(name) = Name::from_labels(labels) else { return Ok(()) };
                let mut bytes = encoded(7, name, kind, true);
                for (at, byte) in edits {
                    let at = at.index(bytes.len());
                    bytes[at] = byte;
                }
                if shorten {
                    bytes.truncate(cut.index(bytes.len()));
                }
                let (runtime, responder) = responder();
                let reply = runtime.block_on(responder.answer(&bytes));
                check_reply(&bytes, reply)?;
            }

            /// Names under the zone get NOERROR with exactly the stored values
            /// for TXT and ANY (none for other types); other names get REFUSED.
            #[test]
            fn questions_get_the_zone_answers_or_refused(
                labels in labels(),
                flips in prop::collection::vec(any::<bool>(), 1..8),
                kind in record_type(),
                id in any::<u16>(),
                rd in any::<bool>(),
            ) {
                let asked = with_case(&labels, &flips);
                let Ok(name) = Name::from_labels(asked.clone()) else { return Ok(()) };
                let bytes = encoded(id, name, kind, rd);
                let (runtime, responder) = responder();
                let reply = runtime.block_on(responder.answer(&bytes));
                check_reply(&bytes, reply.clone())?;
                let reply = Message::from_vec(&reply.expect("a query is answered")).unwrap();
                prop_assert_eq!(reply.recursion_desired(), rd);
                let lower: Vec<String> = labels
                    .iter()
                    .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
                    .collect();
                let in_zone = lower.ends_with(&["_acme-challenge".into(), "status".into(), "test".into()]);
                if !in_zone {
                    prop_assert_eq!(reply.response_code(), ResponseCode::Refused);
                    prop_assert!(reply.answers().is_empty());
                    prop_assert!(!reply.authoritative());
                    return Ok(());
                }
                prop_assert_eq!(reply.response_code(), ResponseCode::NoError);
                prop_assert!(reply.authoritative());
                let plain = labels.iter().all(|l| l.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_'));
                let mut expected: Vec<&str> = match kind {
                    RecordType::TXT | RecordType::ANY if plain => {
                        stored().get(lower.join(".").as_str()).cloned().unwrap_or_default()
                    }
                    _ => Vec::new(),
                };
                let mut got: Vec<String> = reply
                    .answers()
                    .iter()
                    .map(|r| r.data().map(ToString::to_string).unwrap_or_default())
                    .collect();
                got.sort();
                expected.sort_unstable();
                prop_assert_eq!(got, expected);
            }
        }
    }
}
