//! A loopback socket that records the head of the first HTTP request it
//! receives and answers 400: enough to see where a client sends its calls.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc::{Receiver, channel};

/// Returns the URL to point a client at, and the request head once it arrives.
pub fn record_one_request() -> (String, Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut buf = vec![0u8; 8192];
            let n = stream.read(&mut buf).unwrap_or(0);
            let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, rx)
}

/// Sets process environment variables for this test binary, with test credentials.
pub fn set_env(vars: &[(&str, &str)]) {
    // SAFETY: each endpoint test is its own binary with one test, and sets
    // its variables before any other thread reads the environment.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
        for (key, value) in vars {
            std::env::set_var(key, value);
        }
    }
}

/// Calls Lambda `GetFunction` for `probe` through `client` and returns the
/// head of the request it sent, checking that it reached the recording socket.
/// The answer is not a Lambda response, so the call fails; what matters is
/// where it went.
pub async fn probe_lambda(client: &aws_sdk_lambda::Client, seen: &Receiver<String>) -> String {
    let _ = client.get_function().function_name("probe").send().await;
    let head = seen
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the client called the endpoint");
    assert!(head.starts_with("GET /2015-03-31/functions/probe"), "{head}");
    head
}
