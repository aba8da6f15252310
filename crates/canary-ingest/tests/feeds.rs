//! Feed polling against a loopback HTTP server serving feed files written for these tests
//! (`tests/data/feeds`): RSS 2.0, Atom and JSON Feed, 304 Not Modified on matching
//! validators, redirects, broken XML, an HTML page, a wrong content type, a body over the cap,
//! a slow server, a refused connection.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use canary_ingest::news::{FeedClient, Fetched};
use canary_ingest::source::SourceErrorKind;
use canary_model::Timestamp;

/// What the server answers for a request whose path starts with `path`.
#[derive(Clone)]
struct Route {
    path: &'static str,
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    delay: Duration,
    /// Answer 304 when the request carries `If-None-Match: <this>`.
    etag: Option<&'static str>,
}

fn file(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/feeds")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn ok(path: &'static str, content_type: &str, body: Vec<u8>) -> Route {
    Route {
        path,
        status: 200,
        headers: vec![("Content-Type", content_type.to_string())],
        body,
        delay: Duration::ZERO,
        etag: None,
    }
}

fn serve(routes: Vec<Route>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let routes = routes.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !String::from_utf8_lossy(&buf).contains("\r\n\r\n") {
                    let n = s.read(&mut chunk).unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let req = String::from_utf8_lossy(&buf).to_string();
                let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                let Some(r) = routes.iter().find(|r| path.starts_with(r.path)).cloned() else {
                    let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
                    return;
                };
                std::thread::sleep(r.delay);
                let conditional = r.etag.is_some_and(|e| {
                    req.lines().any(|l| {
                        let l = l.to_ascii_lowercase();
                        l.starts_with("if-none-match:") && l.contains(&e.to_ascii_lowercase())
                    })
                });
                let (status, body) = if conditional {
                    (304, Vec::new())
                } else {
                    (r.status, r.body.clone())
                };
                let mut head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (k, v) in &r.headers {
                    let _ = write!(head, "{k}: {v}\r\n");
                }
                if let Some(e) = r.etag {
                    let _ = write!(head, "ETag: {e}\r\n");
                }
                head.push_str("\r\n");
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(&body);
            });
        }
    });
    format!("http://{addr}")
}

fn now() -> Timestamp {
    Timestamp::parse("2026-02-06T05:00:00Z").unwrap()
}

fn client() -> FeedClient {
    FeedClient::new(Duration::from_secs(5), 64 * 1024)
}

fn items(f: Fetched) -> Vec<canary_model::news::NewsItem> {
    match f {
        Fetched::Feed { items, .. } => items,
        Fetched::NotModified => panic!("not modified"),
    }
}

#[tokio::test]
async fn each_format_reads() {
    let base = serve(vec![
        ok(
            "/rss",
            "application/rss+xml; charset=utf-8",
            file("rss2.xml"),
        ),
        ok("/atom", "application/atom+xml", file("atom.xml")),
        ok("/json", "application/feed+json", file("feed.json")),
        // Many servers label feeds text/xml or text/plain: the body decides.
        ok("/plain", "text/plain", file("rss2.xml")),
    ]);
    let c = client();
    let rss = items(
        c.fetch(&format!("{base}/rss"), None, None, now())
            .await
            .unwrap(),
    );
    assert_eq!(rss.len(), 2);
    assert_eq!(
        rss[0].title,
        "Bitcoin miner MARA moves $87 million BTC to trading desks"
    );
    assert_eq!(rss[0].summary, "The largest transfers went to Two Prime.");
    assert_eq!(
        rss[0].url.as_deref(),
        Some("https://wire.example/markets/mara-moves")
    );
    assert_eq!(rss[0].outlet, "wire.example");
    assert_eq!(rss[0].id, "127.0.0.1:wire-1001");
    assert_eq!(rss[0].available_at.to_string(), "2026-02-05T11:00:00Z");
    assert_eq!(rss[0].language.as_deref(), Some("en"));

    let atom = items(
        c.fetch(&format!("{base}/atom"), None, None, now())
            .await
            .unwrap(),
    );
    assert_eq!(atom.len(), 2);
    assert_eq!(
        atom[0].title,
        "Strategy says BTC needs to fall to $8K & more"
    );
    // Published, not updated, is when it appeared.
    assert_eq!(
        atom[0].published_at.unwrap().to_string(),
        "2026-02-05T14:10:00Z"
    );
    // An entry with only `updated` and HTML content.
    assert_eq!(
        atom[1].summary,
        "Miners' revenue per petahash per day fell to a record low."
    );

    let json = items(
        c.fetch(&format!("{base}/json"), None, None, now())
            .await
            .unwrap(),
    );
    assert_eq!(json.len(), 2);
    assert_eq!(json[0].outlet, "json.example");
    // Dated in the future: available when first seen, not before.
    assert_eq!(json[1].available_at, now());

    assert_eq!(
        items(
            c.fetch(&format!("{base}/plain"), None, None, now())
                .await
                .unwrap()
        )
        .len(),
        2
    );
}

#[tokio::test]
async fn validators_give_not_modified() {
    let mut r = ok("/rss", "application/rss+xml", file("rss2.xml"));
    r.etag = Some("\"v7\"");
    let base = serve(vec![r]);
    let c = client();
    let url = format!("{base}/rss");
    let Fetched::Feed { etag, .. } = c.fetch(&url, None, None, now()).await.unwrap() else {
        panic!("a feed")
    };
    assert_eq!(etag.as_deref(), Some("\"v7\""));
    assert_eq!(
        c.fetch(&url, etag.as_deref(), None, now()).await.unwrap(),
        Fetched::NotModified
    );
    // Other validators: the feed again.
    assert!(matches!(
        c.fetch(&url, Some("\"v6\""), None, now()).await.unwrap(),
        Fetched::Feed { .. }
    ));
}

#[tokio::test]
async fn redirects_are_followed_and_loops_refused() {
    let moved = |from: &'static str, to: &str| Route {
        path: from,
        status: 301,
        headers: vec![("Location", to.to_string())],
        body: Vec::new(),
        delay: Duration::ZERO,
        etag: None,
    };
    let base = serve(vec![
        moved("/old", "/new"),
        ok("/new", "application/rss+xml", file("rss2.xml")),
        moved("/loop", "/loop"),
    ]);
    let c = client();
    let Fetched::Feed {
        items, final_url, ..
    } = c
        .fetch(&format!("{base}/old"), None, None, now())
        .await
        .unwrap()
    else {
        panic!("a feed")
    };
    assert_eq!(items.len(), 2);
    assert!(final_url.ends_with("/new"), "{final_url}");
    let e = c
        .fetch(&format!("{base}/loop"), None, None, now())
        .await
        .unwrap_err();
    assert!(matches!(e.kind, SourceErrorKind::Connect(_)), "{e}");
    assert!(e.to_string().contains("/loop"), "{e}");
}

#[tokio::test]
async fn answers_that_are_not_feeds_are_named() {
    let base = serve(vec![
        ok("/broken", "application/xml", file("broken.xml")),
        ok("/page", "text/html; charset=utf-8", file("page.html")),
        // A page served with a feed's content type.
        ok("/disguised", "application/rss+xml", file("page.html")),
        ok("/image", "image/png", vec![0x89, b'P', b'N', b'G']),
        ok(
            "/json",
            "application/json",
            br#"{"hello": "world"}"#.to_vec(),
        ),
        Route {
            path: "/missing",
            status: 404,
            headers: vec![],
            body: b"gone".to_vec(),
            delay: Duration::ZERO,
            etag: None,
        },
    ]);
    let c = client();
    for (path, want) in [
        ("/broken", "not a valid feed"),
        ("/page", "text/html"),
        ("/disguised", "HTML page"),
        ("/image", "image/png"),
        ("/json", "not a valid feed"),
        ("/missing", "HTTP 404"),
    ] {
        let e = c
            .fetch(&format!("{base}{path}"), None, None, now())
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(text.contains(want) && text.contains(path), "{path}: {text}");
    }
}

#[tokio::test]
async fn huge_bodies_slow_servers_and_refused_connections_fail_cleanly() {
    let mut huge = b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>".to_vec();
    huge.resize(200 * 1024, b' ');
    let mut slow = ok("/slow", "application/rss+xml", file("rss2.xml"));
    slow.delay = Duration::from_secs(3);
    let base = serve(vec![ok("/huge", "application/rss+xml", huge), slow]);
    let c = client();
    let e = c
        .fetch(&format!("{base}/huge"), None, None, now())
        .await
        .unwrap_err();
    assert!(
        matches!(e.kind, SourceErrorKind::TooLarge { limit: 65_536 }),
        "{e}"
    );
    let quick = FeedClient::new(Duration::from_millis(500), 64 * 1024);
    let started = std::time::Instant::now();
    let e = quick
        .fetch(&format!("{base}/slow"), None, None, now())
        .await
        .unwrap_err();
    assert!(matches!(e.kind, SourceErrorKind::Timeout(_)), "{e}");
    assert!(started.elapsed() < Duration::from_secs(2));
    // A port nothing listens on.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let e = c
        .fetch(&format!("http://127.0.0.1:{port}/rss"), None, None, now())
        .await
        .unwrap_err();
    assert!(matches!(e.kind, SourceErrorKind::Connect(_)), "{e}");
}
