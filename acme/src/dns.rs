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

/// Answers DNS queries for names under `zone` (e.g. `_acme-challenge.status.example`).
pub struct DnsResponder {
    zone: String,
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
        Self {
            zone: format!(
                "_acme-challenge.{}",
                suffix.trim_matches('.').to_ascii_lowercase()
            ),
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
        let qname = question.name().to_ascii();
        let qname = qname.trim_end_matches('.').to_ascii_lowercase();
        if qname != self.zone && !qname.ends_with(&format!(".{}", self.zone)) {
            // Not ours: an authoritative server refuses rather than recurses.
            response.set_response_code(ResponseCode::Refused);
            return response.to_vec().ok();
        }
        response.set_authoritative(true);
        if matches!(question.query_type(), RecordType::TXT | RecordType::ANY) {
            for value in self.answers.dns01(&qname).await {
                let name = Name::from_ascii(format!("{qname}.")).ok()?;
                response.add_answer(Record::from_rdata(
                    name,
                    0,
                    RData::TXT(TXT::new(vec![value])),
                ));
            }
        }
        response.set_response_code(ResponseCode::NoError);
        response.to_vec().ok()
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
        let mut buf = vec![0_u8; 4096];
        loop {
            let (n, peer): (usize, SocketAddr) = tokio::select! {
                () = shutdown.cancelled() => return,
                got = socket.recv_from(&mut buf) => match got {
                    Ok(got) => got,
                    Err(_) => continue,
                },
            };
            let query = buf[..n].to_vec();
            let (me, socket) = (self.clone(), socket.clone());
            tokio::spawn(async move {
                if let Some(reply) = me.answer(&query).await {
                    let _ = socket.send_to(&reply, peer).await;
                }
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
}
