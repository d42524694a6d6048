//! A decrypted TLS connection dressed in Pingora's IO traits, so the HTTP
//! proxy can run on a handshake we performed ourselves.

use std::future::Future;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use pingora_core::protocols::l4::stream::Stream as L4Stream;
use pingora_core::protocols::raw_connect::ProxyDigest;
use pingora_core::protocols::{
    ALPN, GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, SocketDigest, Ssl,
    TimingDigest, UniqueID, UniqueIDType,
};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio_rustls::server::TlsStream;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::names::{ConnectionName, Connections};

/// An established TLS connection.
///
/// It also bounds how long a client may keep sending without getting an
/// answer: the clock starts at the first byte read after the last write, and
/// once `request_deadline` has passed reads fail. A slowloris client trickling
/// header bytes is cut off even though each byte arrives "in time".
pub struct TlsConnection {
    inner: TlsStream<L4Stream>,
    // Plaintext handed to rustls since the last flush.
    unflushed: usize,
    fd: RawFd,
    alpn: Option<ALPN>,
    digest: Arc<SocketDigest>,
    request_deadline: Duration,
    reading_since: Option<Instant>,
    // One timer per connection, re-armed per request: no allocation per request.
    timer: Pin<Box<tokio::time::Sleep>>,
    drain: Pin<Box<WaitForCancellationFutureOwned>>,
    last_io: Instant,
    drain_timer: Option<Pin<Box<tokio::time::Sleep>>>,
    // Where this connection's name is registered, to be removed on drop.
    registry: Option<Arc<Connections>>,
}

/// How long an HTTP/1 connection must have been quiet before a drain closes it.
/// A client that is about to send gets its answer with `Connection: close`
/// instead, so no request is caught by the close.
const DRAIN_IDLE: Duration = Duration::from_millis(500);

/// Unflushed plaintext beyond which a write first sends what is waiting.
///
/// The same bound as Pingora's own listeners (`DEFAULT_L4_WRITE_BUFFER_SIZE`,
/// one Ethernet MSS): Pingora flushes a `Content-Length` body only at its
/// end, so a slowly streamed body must not wait for rustls's 64 KiB limit.
const WRITE_THROUGH: usize = 1460;

impl std::fmt::Debug for TlsConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TlsConnection(fd {})", self.fd)
    }
}

impl TlsConnection {
    /// Wraps a finished handshake; a request must arrive within `request_deadline`.
    /// Once `drain` is cancelled, an idle HTTP/1 connection reads end-of-stream,
    /// so keep-alive connections close between requests instead of holding a
    /// shutdown or upgrade until their idle timeout.
    pub fn new(
        inner: TlsStream<L4Stream>,
        fd: RawFd,
        request_deadline: Duration,
        drain: CancellationToken,
    ) -> Self {
        let alpn = match inner.get_ref().1.alpn_protocol() {
            Some(b"h2") => Some(ALPN::H2),
            _ => Some(ALPN::H1),
        };
        Self {
            inner,
            unflushed: 0,
            fd,
            alpn,
            digest: Arc::new(SocketDigest::from_raw_fd(fd)),
            request_deadline,
            reading_since: None,
            timer: Box::pin(tokio::time::sleep(request_deadline)),
            drain: Box::pin(drain.cancelled_owned()),
            last_io: Instant::now(),
            drain_timer: None,
            registry: None,
        }
    }

    /// Registers the name and certificate of the handshake in `registry`,
    /// where the edge looks up the connection of each request, until it drops.
    pub fn registered(mut self, registry: Arc<Connections>, name: ConnectionName) -> Self {
        registry.insert(&self.digest, name);
        self.registry = Some(registry);
        self
    }

    fn too_slow() -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, "request not received in time")
    }

    /// An answer is going out: the client is being served, not stalling us.
    /// No clock read here: writes are frequent, and `last_io` is stamped at flush.
    fn answered(&mut self) {
        self.reading_since = None;
    }

    /// Draining and quiet long enough: end the connection. Otherwise arm a
    /// timer for when it will have been quiet long enough.
    fn drained_and_idle(&mut self, cx: &mut Context<'_>) -> bool {
        let idle_h1 = self.reading_since.is_none() && matches!(self.alpn, Some(ALPN::H1));
        if !idle_h1 || self.drain.as_mut().poll(cx).is_pending() {
            return false;
        }
        if self.last_io.elapsed() >= DRAIN_IDLE {
            return true;
        }
        let at = tokio::time::Instant::from_std(self.last_io + DRAIN_IDLE);
        let timer = self
            .drain_timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        timer.as_mut().reset(at);
        timer.as_mut().poll(cx).is_ready()
    }
}

impl AsyncRead for TlsConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self
            .reading_since
            .is_some_and(|since| since.elapsed() >= self.request_deadline)
        {
            return Poll::Ready(Err(Self::too_slow()));
        }
        if self.drained_and_idle(cx) {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    let now = Instant::now();
                    self.last_io = now;
                    if self.reading_since.is_none() {
                        self.reading_since = Some(now);
                        let deadline = tokio::time::Instant::from_std(now + self.request_deadline);
                        self.timer.as_mut().reset(deadline);
                    }
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                // Waiting for more of a request: wake up when its time is over.
                if self.reading_since.is_some() && self.timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(Self::too_slow()));
                }
                Poll::Pending
            }
            other => other,
        }
    }
}

impl TlsConnection {
    /// Encrypts `write` into rustls's outgoing buffer without sending it.
    ///
    /// The records wait there until Pingora flushes, so a response's header
    /// and body leave in one `writev` instead of one syscall (and one wake-up
    /// of the client) per record. Pingora flushes at the end of a response,
    /// after each chunk and HTTP/2 frame; past [`WRITE_THROUGH`] unflushed
    /// bytes a write sends what waits first.
    fn poll_buffered(
        &mut self,
        cx: &mut Context<'_>,
        write: impl Fn(&mut rustls::Writer<'_>) -> std::io::Result<usize>,
        len: usize,
    ) -> Poll<std::io::Result<usize>> {
        self.answered();
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        if self.unflushed >= WRITE_THROUGH {
            std::task::ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
            self.unflushed = 0;
        }
        for _ in 0..2 {
            let written = write(&mut self.inner.get_mut().1.writer())?;
            if written > 0 {
                self.unflushed += written;
                return Poll::Ready(Ok(written));
            }
            // rustls's buffer limit is reached: send what it holds, then retry.
            std::task::ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
            self.unflushed = 0;
        }
        Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()))
    }
}

impl AsyncWrite for TlsConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        use std::io::Write;
        self.poll_buffered(cx, |w| w.write(buf), buf.len())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        std::task::ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
        if self.unflushed > 0 {
            self.last_io = Instant::now();
        }
        self.unflushed = 0;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        use std::io::Write;
        let len = bufs.iter().map(|b| b.len()).sum();
        self.poll_buffered(cx, |w| w.write_vectored(bufs), len)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }
}

impl Drop for TlsConnection {
    /// TLS requires a `close_notify` before the write side closes (RFC 8446
    /// §6.1). Pingora drops idle and finished connections without shutting
    /// them down, so the alert goes out here: one attempt, without waiting.
    fn drop(&mut self) {
        if let Some(registry) = self.registry.take() {
            registry.remove(&self.digest);
        }
        let (io, tls) = self.inner.get_mut();
        tls.send_close_notify();
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut socket = WithoutWaiting { io, cx: &mut cx };
        while tls.wants_write() {
            if !matches!(tls.write_tls(&mut socket), Ok(n) if n > 0) {
                break;
            }
        }
    }
}

/// Writes what the socket takes now; a full socket is `WouldBlock`.
struct WithoutWaiting<'a, 'b> {
    io: &'a mut L4Stream,
    cx: &'a mut Context<'b>,
}

impl std::io::Write for WithoutWaiting<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match Pin::new(&mut *self.io).poll_write(self.cx, buf) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(std::io::ErrorKind::WouldBlock.into()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[async_trait]
impl Shutdown for TlsConnection {
    async fn shutdown(&mut self) {
        let _ = AsyncWriteExt::shutdown(&mut self.inner).await;
    }
}

impl UniqueID for TlsConnection {
    fn id(&self) -> UniqueIDType {
        self.fd
    }
}

impl Ssl for TlsConnection {
    fn selected_alpn_proto(&self) -> Option<ALPN> {
        self.alpn.clone()
    }
}

impl GetTimingDigest for TlsConnection {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        Vec::new()
    }
}

impl GetProxyDigest for TlsConnection {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        None
    }
}

impl GetSocketDigest for TlsConnection {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        Some(self.digest.clone())
    }
}

impl Peek for TlsConnection {}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::ServerName;
    use tokio::io::AsyncReadExt;

    /// A server-side `TlsConnection` and a client stream, over real loopback TCP.
    async fn pair() -> (
        TlsConnection,
        tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    ) {
        let generated = acme::LocalCa::generate().unwrap();
        let key = generated.ca.issue("edge.test").unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(crate::tls::ConnectionCert(key)));
        let mut roots = rustls::RootCertStore::empty();
        roots.add(generated.ca.root_der().clone()).unwrap();
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connect = async {
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            tokio_rustls::TlsConnector::from(Arc::new(client))
                .connect(ServerName::try_from("edge.test").unwrap(), tcp)
                .await
                .unwrap()
        };
        let accept = async {
            let (tcp, _) = listener.accept().await.unwrap();
            let fd = std::os::fd::AsRawFd::as_raw_fd(&tcp);
            let tls = tokio_rustls::TlsAcceptor::from(Arc::new(server))
                .accept(L4Stream::from(tcp))
                .await
                .unwrap();
            TlsConnection::new(tls, fd, Duration::from_secs(5), CancellationToken::new())
        };
        let (server, client) = tokio::join!(accept, connect);
        (server, client)
    }

    async fn read_within(
        client: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
        limit: Duration,
    ) -> Vec<u8> {
        let mut buf = vec![0; 8192];
        match tokio::time::timeout(limit, client.read(&mut buf)).await {
            Ok(Ok(n)) => buf[..n].to_vec(),
            Ok(Err(e)) => panic!("read failed: {e}"),
            Err(_) => Vec::new(),
        }
    }

    #[tokio::test]
    async fn small_writes_wait_for_the_flush_and_large_ones_go_through() {
        let (mut server, mut client) = pair().await;
        server.write_all(b"header;").await.unwrap();
        server.write_all(b"body").await.unwrap();
        assert!(
            read_within(&mut client, Duration::from_millis(100))
                .await
                .is_empty(),
            "nothing leaves before the flush"
        );
        server.flush().await.unwrap();
        let mut got = Vec::new();
        while got.len() < 11 {
            got.extend(read_within(&mut client, Duration::from_secs(5)).await);
        }
        assert_eq!(got, b"header;body", "both writes arrive at the flush");

        // A body Pingora will flush only at its end still streams.
        server.write_all(&[b'x'; WRITE_THROUGH]).await.unwrap();
        server.write_all(b"y").await.unwrap();
        let early = read_within(&mut client, Duration::from_secs(5)).await;
        assert!(
            !early.is_empty(),
            "data past the threshold is sent unflushed"
        );
    }
}
