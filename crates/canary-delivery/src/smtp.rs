//! Email over SMTP with STARTTLS: the client side of RFC 5321 (EHLO, MAIL, RCPT, DATA with
//! dot-stuffing), RFC 3207 (STARTTLS, required: a server that does not offer it gets
//! nothing) and RFC 4954 (AUTH PLAIN, only inside TLS). Certificates are checked against the
//! bundled web roots, plus a CA file of the user's for a private relay.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::ServerName;

/// Where and as whom mail is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Smtp {
    /// The relay, `host:port` (587 is the submission port).
    pub server: String,
    pub from: String,
    pub to: Vec<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// A PEM file of CA certificates trusted besides the bundled roots.
    pub ca: Option<PathBuf>,
}

impl Smtp {
    /// The host part of `server`.
    #[must_use]
    pub fn host(&self) -> &str {
        self.server
            .rsplit_once(':')
            .map_or(self.server.as_str(), |(h, _)| h)
            .trim_start_matches('[')
            .trim_end_matches(']')
    }
}

/// An RFC 5322 message: headers and a plain-text UTF-8 body.
#[must_use]
pub fn message(cfg: &Smtp, subject: &str, body: &str, id: &str, date: &str) -> String {
    // Header fields are ASCII: anything else in the subject becomes '?'.
    let subject: String = subject
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_control() {
                c
            } else {
                '?'
            }
        })
        .collect();
    let mut m = format!(
        "From: {}\r\nTo: {}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}@canary>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n",
        cfg.from,
        cfg.to.join(", ")
    );
    for line in body.lines() {
        // Dot-stuffing (RFC 5321 §4.5.2): a line starting with '.' gets another.
        if line.starts_with('.') {
            m.push('.');
        }
        m.push_str(line);
        m.push_str("\r\n");
    }
    m
}

async fn reply<S: AsyncBufRead + Unpin>(
    s: &mut S,
    step: &str,
) -> Result<(u16, Vec<String>), String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        let n = s
            .read_line(&mut line)
            .await
            .map_err(|e| format!("{step}: {e}"))?;
        if n == 0 {
            return Err(format!("{step}: the server closed the connection"));
        }
        let line = line.trim_end().to_string();
        let code: u16 = line
            .get(..3)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("{step}: not an SMTP reply: {line:?}"))?;
        let last = line.as_bytes().get(3) != Some(&b'-');
        lines.push(line.get(4..).unwrap_or("").to_string());
        if last {
            return Ok((code, lines));
        }
    }
}

async fn command<S: AsyncBufRead + AsyncWrite + Unpin>(
    s: &mut S,
    line: &str,
    step: &str,
    expect: &[u16],
) -> Result<Vec<String>, String> {
    s.write_all(format!("{line}\r\n").as_bytes())
        .await
        .map_err(|e| format!("{step}: {e}"))?;
    s.flush().await.map_err(|e| format!("{step}: {e}"))?;
    let (code, lines) = reply(s, step).await?;
    if expect.contains(&code) {
        Ok(lines)
    } else {
        Err(format!("{step}: {code} {}", lines.join(" ")))
    }
}

/// Send one message to every recipient, within `timeout` overall.
/// The relay's name is resolved once and every address checked by the SSRF guard
/// (`allow_private` is the delivering process's setting); the connection goes to those.
///
/// # Errors
/// What failed, at which step, with the server's reply.
pub async fn send(
    cfg: &Smtp,
    message: &str,
    timeout: Duration,
    allow_private: bool,
) -> Result<(), String> {
    tokio::time::timeout(timeout, session(cfg, message, allow_private))
        .await
        .map_err(|_| format!("{}: no answer within {timeout:?}", cfg.server))?
        .map_err(|e| format!("{}: {e}", cfg.server))
}

async fn session(cfg: &Smtp, message: &str, allow_private: bool) -> Result<(), String> {
    let port: u16 = cfg
        .server
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .ok_or("write the relay as HOST:PORT")?;
    let addrs = super::guard::resolve(cfg.host(), port, allow_private).await?;
    let tcp = TcpStream::connect(&addrs[..])
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let mut plain = BufReader::new(tcp);
    let (code, greeting) = reply(&mut plain, "greeting").await?;
    if code != 220 {
        return Err(format!("greeting: {code} {}", greeting.join(" ")));
    }
    let ext = command(&mut plain, "EHLO canary", "EHLO", &[250]).await?;
    if !ext.iter().any(|e| e.eq_ignore_ascii_case("STARTTLS")) {
        return Err("the server does not offer STARTTLS; Canary sends mail only over TLS".into());
    }
    command(&mut plain, "STARTTLS", "STARTTLS", &[220]).await?;
    if !plain.buffer().is_empty() {
        return Err("STARTTLS: the server sent data before the handshake".into());
    }
    let name =
        ServerName::try_from(cfg.host().to_string()).map_err(|e| format!("{}: {e}", cfg.host()))?;
    let connector =
        tokio_rustls::TlsConnector::from(canary_ingest::tls::client_config(cfg.ca.as_deref())?);
    let tls = connector
        .connect(name, plain.into_inner())
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    let mut s = BufReader::new(tls);
    let ext = command(&mut s, "EHLO canary", "EHLO", &[250]).await?;
    if let (Some(user), Some(pass)) = (&cfg.username, &cfg.password) {
        if !ext
            .iter()
            .any(|e| e.to_ascii_uppercase().starts_with("AUTH"))
        {
            return Err("the server does not offer AUTH".into());
        }
        let token = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}"));
        command(&mut s, &format!("AUTH PLAIN {token}"), "AUTH", &[235]).await?;
    }
    command(
        &mut s,
        &format!("MAIL FROM:<{}>", cfg.from),
        "MAIL FROM",
        &[250],
    )
    .await?;
    for to in &cfg.to {
        command(&mut s, &format!("RCPT TO:<{to}>"), "RCPT TO", &[250, 251]).await?;
    }
    command(&mut s, "DATA", "DATA", &[354]).await?;
    s.write_all(message.as_bytes())
        .await
        .map_err(|e| format!("DATA: {e}"))?;
    command(&mut s, ".", "end of DATA", &[250]).await?;
    // The message is accepted: a failed QUIT loses nothing.
    let _ = command(&mut s, "QUIT", "QUIT", &[221]).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_dot_stuffed_with_ascii_headers() {
        let cfg = Smtp {
            server: "[::1]:587".into(),
            from: "canary@example.org".into(),
            to: vec!["a@example.org".into(), "b@example.org".into()],
            username: None,
            password: None,
            ca: None,
        };
        assert_eq!(cfg.host(), "::1");
        let m = message(
            &cfg,
            "RSI < 30 — fired",
            "one\n.two\n",
            "k1",
            "Mon, 1 Feb 2026 00:00:00 +0000",
        );
        assert!(m.contains("Subject: RSI < 30 ? fired\r\n"), "{m}");
        assert!(m.contains("To: a@example.org, b@example.org\r\n"));
        assert!(m.ends_with("\r\n\r\none\r\n..two\r\n"), "{m:?}");
    }
}
