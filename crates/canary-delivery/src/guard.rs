//! Where notices may go: the SSRF guard.
//!
//! Anyone who can add a rule chooses where its notices are sent, so a rule could make Canary
//! reach an address behind it (a database, a cloud metadata service, an admin page) and, with
//! a test notice, report what answered. Notices therefore go to public addresses only, unless
//! the process that delivers them allows private ones: a setting of the server or of the
//! command (`allow_private`), never a field of the rule or of a request.
//!
//! The guard checks the address that is connected to, not the text of the URL: a host name
//! is resolved once, every address it resolves to is checked (one private address refuses
//! the name), and the connection goes to those checked addresses — no second lookup between
//! the check and the connection for a name to change its answer in. A literal address in the
//! URL is checked as written, in every form (`[::ffff:127.0.0.1]` is 127.0.0.1). The HTTP
//! client follows no redirect and uses no proxy, so nothing else chooses where it connects.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Why an address is not public, if it is not.
#[must_use]
pub fn private_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => private_v6(v6),
    }
}

fn private_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (127, ..) => "a loopback address",
        (0, ..) => "an address of this host (0.0.0.0/8)",
        (10, ..) | (192, 168, _) | (172, 16..=31, _) => "a private address",
        (169, 254, _) => "a link-local address (where cloud metadata services answer)",
        (100, 64..=127, _) => "a carrier-grade NAT address (100.64.0.0/10)",
        (192, 0, 0) => "an IETF protocol address (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address (198.18.0.0/15)",
        (224..=239, ..) => "a multicast address",
        (240..=255, ..) => "a reserved or broadcast address",
        _ => return None,
    })
}

fn private_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    if ip.is_unspecified() {
        return Some("the unspecified address");
    }
    let s = ip.segments();
    // IPv4 inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::/96):
    // judged as the IPv4 address they reach.
    let embedded = Ipv4Addr::new(
        (s[6] >> 8) as u8,
        (s[6] & 0xff) as u8,
        (s[7] >> 8) as u8,
        (s[7] & 0xff) as u8,
    );
    if s[..6] == [0, 0, 0, 0, 0, 0xffff] || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return private_v4(embedded);
    }
    if s[..6] == [0; 6] {
        return Some("an IPv4-compatible address (deprecated)");
    }
    Some(match s[0] {
        x if x & 0xfe00 == 0xfc00 => "a unique-local address (fc00::/7)",
        x if x & 0xffc0 == 0xfe80 => "a link-local address",
        x if x & 0xffc0 == 0xfec0 => "a site-local address",
        x if x & 0xff00 == 0xff00 => "a multicast address",
        0x2001 if s[1] == 0x0db8 => "a documentation address",
        // Teredo and 6to4 tunnel to an IPv4 address they embed: not followed, refused.
        0x2001 if s[1] == 0 => "a Teredo tunnel address",
        0x2002 => "a 6to4 tunnel address",
        _ => return None,
    })
}

/// The refusal of one address: `HOST: resolves to ADDR, KIND`.
fn refusal(host: &str, ip: IpAddr, kind: &str) -> String {
    let is_literal = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok();
    let what = if is_literal {
        format!("{host}: {kind}")
    } else {
        format!("{host}: resolves to {ip}, {kind}")
    };
    format!(
        "{what}; notices go to public addresses only (the operator allows private ones with allow_private in the server's or the command's settings)"
    )
}

/// Check a URL without resolving it: its scheme, and its host if it is an address.
///
/// # Errors
/// Why it is refused.
pub fn check_url(url: &str, allow_private: bool) -> Result<(), String> {
    let u = url::Url::parse(url).map_err(|e| format!("{url}: not a URL ({e})"))?;
    if !matches!(u.scheme(), "http" | "https" | "smtp") {
        return Err(format!("{url}: only http and https webhooks"));
    }
    let ip = match u.host() {
        None => return Err(format!("{url}: no host")),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        // An SMTP relay's HOST:PORT may be an address the URL parser kept as a name.
        Some(url::Host::Domain(d)) => match d.trim_start_matches('[').trim_end_matches(']').parse()
        {
            Ok(ip) => ip,
            Err(_) => return Ok(()),
        },
    };
    match private_kind(ip) {
        Some(kind) if !allow_private => Err(refusal(u.host_str().unwrap_or(""), ip, kind)),
        _ => Ok(()),
    }
}

/// Check the addresses a name resolved to: all of them, or the first private one's refusal.
///
/// # Errors
/// A private address among them (unless allowed), or none at all.
pub fn check_resolved(
    host: &str,
    addrs: Vec<SocketAddr>,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, String> {
    if addrs.is_empty() {
        return Err(format!("{host}: resolves to no address"));
    }
    if !allow_private
        && let Some((ip, kind)) = addrs
            .iter()
            .find_map(|a| private_kind(a.ip()).map(|k| (a.ip(), k)))
    {
        return Err(refusal(host, ip, kind));
    }
    Ok(addrs)
}

/// Resolve `host:port` and check every address; the addresses to connect to.
///
/// # Errors
/// The name does not resolve, or resolves to a private address (unless allowed).
pub async fn resolve(
    host: &str,
    port: u16,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| format!("{host}: does not resolve ({e})"))?
            .collect(),
    };
    check_resolved(host, addrs, allow_private)
}

/// At a rule's creation: the URL checked, and its host resolved and checked when it
/// resolves (one that does not resolve now is checked again at every delivery).
///
/// # Errors
/// Why the destination is refused.
pub fn check_destination(url: &str, allow_private: bool) -> Result<(), String> {
    check_url(url, allow_private)?;
    if allow_private {
        return Ok(());
    }
    let u = url::Url::parse(url).map_err(|e| e.to_string())?;
    let Some(url::Host::Domain(host)) = u.host() else {
        return Ok(());
    };
    let port = u.port_or_known_default().unwrap_or(0);
    let resolved = std::net::ToSocketAddrs::to_socket_addrs(&(host, port));
    match resolved {
        Ok(addrs) => check_resolved(host, addrs.collect(), false).map(|_| ()),
        Err(_) => Ok(()),
    }
}

/// reqwest's resolver for deliveries: every address checked, and only checked ones used.
#[derive(Debug, Clone, Copy)]
struct Guarded {
    allow_private: bool,
}

impl reqwest::dns::Resolve for Guarded {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = resolve(&host, 0, allow).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The client notices are sent with.
pub type HttpClient = reqwest::Client;

/// The HTTP client notices are sent with: names resolved through the guard, no redirect
/// followed, no proxy.
///
/// # Errors
/// The client cannot be built (no TLS roots).
pub fn http_client(allow_private: bool) -> Result<HttpClient, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(Guarded { allow_private }))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_private_form_of_an_address_is_refused() {
        for a in [
            "127.0.0.1",
            "127.8.9.10",
            "0.1.2.3",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.100.100.200",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:7f00:1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "fe80::1",
            "fd00::1",
            "fd00:ec2::254",
            "fc00::1",
            "ff02::1",
            "2001:db8::1",
            "2002:7f00:1::",
            "2001:0:4136:e378::1",
        ] {
            assert!(private_kind(ip(a)).is_some(), "{a} passed");
        }
        for a in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "::ffff:8.8.8.8",
            "2606:4700:4700::1111",
            "64:ff9b::808:808",
        ] {
            assert_eq!(private_kind(ip(a)), None, "{a} refused");
        }
    }

    #[test]
    fn urls_are_checked_in_every_form_the_parser_accepts() {
        for u in [
            "http://127.0.0.1:9/x",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://[::ffff:127.0.0.1]:9/",
            "http://[::ffff:7f00:1]:9/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://100.64.0.1/",
            "http://0.1.2.3/",
            "http://[::ffff:169.254.169.254]/latest/meta-data",
            "smtp://127.0.0.1:25",
            "smtp://[::1]:25",
        ] {
            let e = check_url(u, false).unwrap_err();
            assert!(e.contains("public addresses only"), "{u}: {e}");
            assert!(check_url(u, true).is_ok(), "{u} allowed");
        }
        assert!(check_url("https://hooks.example.com/x", false).is_ok());
        assert!(check_url("ftp://example.com/x", true).is_err());
        assert!(check_url("not a url", true).is_err());
    }

    #[tokio::test]
    async fn names_are_judged_by_every_address_they_resolve_to() {
        // `localhost` resolves through the system's resolver (the hosts file) to loopback.
        let e = resolve("localhost", 80, false).await.unwrap_err();
        assert!(e.contains("localhost: resolves to"), "{e}");
        assert!(e.contains("loopback"), "{e}");
        assert!(resolve("localhost", 80, true).await.is_ok());
        let e = check_destination("http://localhost:9/x", false).unwrap_err();
        assert!(e.contains("resolves to"), "{e}");
        // One private address among public ones refuses the name.
        let mixed = vec![
            SocketAddr::new(ip("8.8.8.8"), 80),
            SocketAddr::new(ip("10.0.0.1"), 80),
        ];
        assert!(check_resolved("rebind.example", mixed, false).is_err());
        assert!(check_resolved("nothing.example", vec![], true).is_err());
    }
}
