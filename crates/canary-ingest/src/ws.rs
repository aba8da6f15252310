//! WebSocket connections of the exchange streams: TCP, TLS for `wss` (our rustls
//! configuration), then the WebSocket handshake, each step within a timeout and named in its
//! error.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;

/// A plain or TLS connection.
#[derive(Debug)]
pub enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Open a WebSocket to `url` (`ws://` or `wss://`).
///
/// # Errors
/// What failed (connection, TLS, handshake, timeout), naming the URL.
pub async fn connect(
    url: &str,
    timeout: Duration,
    ca: Option<&std::path::Path>,
) -> Result<WebSocketStream<Io>, String> {
    let u = url::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
    let host = u.host_str().unwrap_or("").to_string();
    let port = u.port_or_known_default().unwrap_or(443);
    let tcp = tokio::time::timeout(timeout, TcpStream::connect((host.as_str(), port)))
        .await
        .map_err(|_| format!("{url}: no connection within {timeout:?}"))?
        .map_err(|e| format!("{url}: cannot connect: {e}"))?;
    let io = match u.scheme() {
        "wss" => {
            let config = crate::tls::client_config(ca)?;
            let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.clone())
                .map_err(|e| format!("{url}: {host}: {e}"))?;
            let tls = tokio::time::timeout(
                timeout,
                tokio_rustls::TlsConnector::from(config).connect(name, tcp),
            )
            .await
            .map_err(|_| format!("{url}: no TLS handshake within {timeout:?}"))?
            .map_err(|e| format!("{url}: TLS: {e}"))?;
            Io::Tls(Box::new(tls))
        }
        "ws" => Io::Plain(tcp),
        other => return Err(format!("{url}: {other} is not ws or wss")),
    };
    let (ws, _) = tokio::time::timeout(timeout, tokio_tungstenite::client_async(url, io))
        .await
        .map_err(|_| format!("{url}: no WebSocket handshake within {timeout:?}"))?
        .map_err(|e| format!("{url}: WebSocket handshake: {e}"))?;
    Ok(ws)
}
