//! HTTPS with a certificate from files: Apple clients send passwords only over TLS.

use crate::common::*;
use std::sync::Arc;
use tandem::config::Settings;
use tandem::dav::auth::Credentials;
use tandem::dav::{self, DavState};
use tandem::store::Store;
use tandem::store::Writer;
use tandem::store::system_clock;

#[tokio::test]
async fn the_server_speaks_https_with_a_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, generated.cert.pem()).unwrap();
    std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
    let acceptor = dav::tls_acceptor(&cert, &key).unwrap();

    let store = Arc::new(Store::open_or_create(&dir.path().join("data")).unwrap());
    let writer = Writer::spawn(
        store.clone(),
        Settings::default().policies(),
        system_clock(),
    )
    .unwrap();
    let state = Arc::new(DavState::new(
        store,
        writer,
        Credentials {
            user: USER.into(),
            password: PASSWORD.into(),
        },
    ));
    dav::ensure_default_collections(&state).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(tokio::sync::Notify::new());
    let stopped = stop.clone();
    tokio::spawn(async move {
        dav::serve_with(listener, state, Some(acceptor), async move {
            stopped.notified().await
        })
        .await
    });

    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(generated.cert.pem().as_bytes()).unwrap(),
        )
        .resolve("localhost", ([127, 0, 0, 1], port).into())
        .build()
        .unwrap();
    let r = client
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            format!("https://localhost:{port}/dav/principal/"),
        )
        .basic_auth(USER, Some(PASSWORD))
        .header("Depth", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::MULTI_STATUS);
    // Plain HTTP to the TLS port gets nowhere.
    assert!(
        reqwest::get(format!("http://127.0.0.1:{port}/dav/"))
            .await
            .is_err()
    );
    stop.notify_one();

    let bad = dav::tls_acceptor(&key, &cert);
    assert!(
        bad.is_err(),
        "a key given as certificate is refused with a message"
    );
}
