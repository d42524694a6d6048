//! Zero-downtime binary upgrade: the running process hands its listening
//! sockets to its successor over a Unix socket (`SCM_RIGHTS`), then stops
//! accepting and drains. Connections queued in the kernel are never dropped,
//! because the listening sockets themselves live on in the new process.
//!
//! Sequence: start the new binary with `--upgrade`; it waits on
//! `edge.upgrade_socket`. Send the old process `SIGQUIT`; it connects, sends
//! its listeners, and drains. The new process adopts them and serves.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};

/// Most sockets handed over at once (https, http, admin, app).
const MAX_FDS: usize = 8;

/// Sends `(name, fd)` pairs to the process waiting on `path`.
pub fn send(path: &Path, listeners: &[(&str, RawFd)]) -> anyhow::Result<()> {
    let stream =
        UnixStream::connect(path).with_context(|| format!("upgrade socket {}", path.display()))?;
    let names: Vec<&str> = listeners.iter().map(|(name, _)| *name).collect();
    let payload = names.join("\n");
    let fds: Vec<RawFd> = listeners.iter().map(|(_, fd)| *fd).collect();
    let control = [ControlMessage::ScmRights(&fds)];
    sendmsg::<()>(
        stream.as_raw_fd(),
        &[IoSlice::new(payload.as_bytes())],
        &control,
        MsgFlags::empty(),
        None,
    )
    .context("passing listening sockets failed")?;
    Ok(())
}

/// Waits on `path` for a predecessor's sockets; returns them by name.
pub fn receive(
    path: &Path,
    timeout: Duration,
) -> anyhow::Result<Vec<(String, std::net::TcpListener)>> {
    let socket_error = || format!("upgrade socket {}", path.display());
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path).with_context(socket_error)?;
    listener.set_nonblocking(true).with_context(socket_error)?;
    let deadline = std::time::Instant::now() + timeout;
    let stream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                if std::time::Instant::now() >= deadline {
                    let _ = std::fs::remove_file(path);
                    bail!(
                        "no running process handed over its sockets within {} s (send it SIGQUIT)",
                        timeout.as_secs()
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(err) => return Err(err).with_context(socket_error),
        }
    };
    let _ = std::fs::remove_file(path);
    stream.set_nonblocking(false).with_context(socket_error)?;
    let mut payload = [0_u8; 1024];
    let mut cmsg = nix::cmsg_space!([RawFd; MAX_FDS]);
    let mut iov = [IoSliceMut::new(&mut payload)];
    let message = recvmsg::<()>(
        stream.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::empty(),
    )
    .context("receiving listening sockets failed")?;
    let mut fds = Vec::new();
    for control in message
        .cmsgs()
        .context("receiving listening sockets failed")?
    {
        if let ControlMessageOwned::ScmRights(received) = control {
            fds.extend(received);
        }
    }
    let length = message.bytes;
    let names = String::from_utf8_lossy(&payload[..length]).into_owned();
    let names: Vec<String> = names
        .split('\n')
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    if names.len() != fds.len() {
        bail!(
            "receiving listening sockets failed: {} names for {} sockets",
            names.len(),
            fds.len()
        );
    }
    Ok(names
        .into_iter()
        .zip(fds)
        .map(|(name, fd)| (name, adopt(fd)))
        .collect())
}

/// Takes ownership of a listening socket received over `SCM_RIGHTS`.
#[allow(unsafe_code)]
fn adopt(fd: RawFd) -> std::net::TcpListener {
    use std::os::fd::FromRawFd;
    // SAFETY: the kernel just installed `fd` in this process for the
    // SCM_RIGHTS message; nothing else in the process knows it, so this is
    // its single owner, and it refers to a listening TCP socket because the
    // predecessor only sends those.
    unsafe { std::net::TcpListener::from_raw_fd(fd) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_sockets_survive_a_handover() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upgrade.sock");
        let original = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = original.local_addr().unwrap();
        let receiver = {
            let path = path.clone();
            std::thread::spawn(move || receive(&path, Duration::from_secs(5)).unwrap())
        };
        while !path.exists() {
            std::thread::sleep(Duration::from_millis(5));
        }
        send(&path, &[("https", original.as_raw_fd())]).unwrap();
        let adopted = receiver.join().unwrap();
        drop(original);
        assert_eq!(adopted[0].0, "https");
        assert_eq!(adopted[0].1.local_addr().unwrap(), addr);
        // A client connecting now is accepted by the adopted socket.
        let _client = std::net::TcpStream::connect(addr).unwrap();
        assert!(adopted[0].1.accept().is_ok());
    }

    #[test]
    fn nobody_handing_over_is_a_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let err = receive(&dir.path().join("u.sock"), Duration::from_millis(100)).unwrap_err();
        assert!(err.to_string().contains("handed over"), "{err}");
    }
}
