//! Slow and idle clients cannot hold the server: connection caps (global and per address),
//! the head, body and idle timeouts, and the open-files limit raised at start.

mod binary;

use binary::{consola, served_url};
use consola::server::listener::ConnectionLimits;
use consola::server::{RunningServer, ServerConfig};
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A connection from `source` (any loopback address) to `server`.
async fn connect_from(source: &str, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{source}:0").parse().expect("source address"))?;
    socket.connect(server).await
}

/// A GET of `/healthz` on a fresh connection from 127.0.0.1; its status line, or why not.
async fn healthz(server: SocketAddr) -> Result<String, String> {
    let mut stream = connect_from("127.0.0.1", server)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&answer);
    Ok(text.lines().next().unwrap_or("").to_string())
}

/// Reads until the server closes the connection (or resets it); what it sent, or `None` when
/// it is still open at the deadline.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Vec<u8>> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(seen),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

async fn start_with(limits: ConnectionLimits) -> (tempfile::TempDir, RunningServer) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = ServerConfig::new(dir.path().join("data"), "127.0.0.1:0".parse().unwrap());
    config.limits = limits;
    let server = consola::server::start(config).await.expect("server starts");
    (dir, server)
}

/// The brief's attack on the real binary, started with the usual soft limit of 1,024 open
/// files: 1,100 idle connections from 127.0.0.2 do not keep 127.0.0.1 out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eleven_hundred_idle_connections_from_one_address_leave_healthz_answering() {
    // This test process holds the 1,100 client sockets itself.
    rlimit::increase_nofile_limit(4096).expect("raise this test's open-files limit");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = consola();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let hard = rlimit::getrlimit(rlimit::Resource::NOFILE)
        .expect("limits")
        .1;
    // SAFETY: between fork and exec the child only makes the setrlimit system call, which is
    // async-signal-safe, and allocates nothing.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(move || rlimit::setrlimit(rlimit::Resource::NOFILE, 1024.min(hard), hard));
    }
    let mut child = command.spawn().expect("serve starts");
    let url = served_url(&mut child);
    let server: SocketAddr = url
        .trim_start_matches("http://")
        .parse()
        .expect("served address");

    let mut idle = Vec::new();
    for _ in 0..1100 {
        match connect_from("127.0.0.2", server).await {
            Ok(stream) => idle.push(stream),
            // Refused or reset: the server is shedding them, which is the point.
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset
                ) => {}
            Err(err) => panic!("this test could not open its connections: {err}"),
        }
    }
    // More than the 1,024 files the server was started with: the attack is real.
    assert!(idle.len() > 1024, "only {} connections opened", idle.len());
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(1), healthz(server)).await;
    let elapsed = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    match answer {
        Ok(Ok(status)) => assert!(
            status.starts_with("HTTP/1.1 200"),
            "healthz answered {status:?}"
        ),
        Ok(Err(err)) => panic!("healthz failed with 1,100 idle connections open: {err}"),
        Err(_) => panic!("healthz took over 1 s with 1,100 idle connections open"),
    }
    eprintln!(
        "healthz answered in {elapsed:?} beside {} idle connections",
        idle.len()
    );
}

#[tokio::test]
async fn one_address_gets_at_most_its_share_of_connections() {
    let (_dir, server) = start_with(ConnectionLimits {
        max_per_address: 8,
        // Long enough that only the caps close connections here.
        header_read_timeout: Duration::from_secs(60),
        keep_alive_idle: Duration::from_secs(60),
        ..ConnectionLimits::default()
    })
    .await;
    let mut streams = Vec::new();
    for _ in 0..20 {
        streams.push(
            connect_from("127.0.0.2", server.addr)
                .await
                .expect("connect"),
        );
    }
    let mut refused = 0;
    for stream in &mut streams {
        if let Some(seen) = closed_within(stream, Duration::from_millis(300)).await {
            let text = String::from_utf8_lossy(&seen);
            assert!(
                text.is_empty() || text.starts_with("HTTP/1.1 503"),
                "{text}"
            );
            refused += 1;
        }
    }
    assert_eq!(refused, 12, "8 of 20 kept, the others closed");
    let status = healthz(server.addr)
        .await
        .expect("another address is served");
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    // Closing some gives the address its slots back.
    streams.clear();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut stream = connect_from("127.0.0.2", server.addr)
            .await
            .expect("connect");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("write");
        let seen = closed_within(&mut stream, Duration::from_secs(2))
            .await
            .unwrap_or_default();
        if String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the address never got a slot back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.shutdown().await;
}

#[tokio::test]
async fn the_global_cap_holds_for_every_address_together() {
    let (_dir, server) = start_with(ConnectionLimits {
        max_connections: 6,
        // Long enough that only the caps close connections here.
        header_read_timeout: Duration::from_secs(60),
        keep_alive_idle: Duration::from_secs(60),
        ..ConnectionLimits::default()
    })
    .await;
    let mut streams = Vec::new();
    for source in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        for _ in 0..4 {
            streams.push(connect_from(source, server.addr).await.expect("connect"));
        }
    }
    let mut refused = 0;
    for stream in &mut streams {
        if closed_within(stream, Duration::from_millis(300))
            .await
            .is_some()
        {
            refused += 1;
        }
    }
    assert_eq!(refused, 6, "6 of 12 kept");
    server.shutdown().await;
}

#[tokio::test]
async fn a_half_sent_request_head_is_closed_at_the_header_timeout() {
    let (_dir, server) = start_with(ConnectionLimits {
        header_read_timeout: Duration::from_millis(400),
        keep_alive_idle: Duration::from_secs(60),
        ..ConnectionLimits::default()
    })
    .await;
    let mut stream = connect_from("127.0.0.1", server.addr)
        .await
        .expect("connect");
    let started = Instant::now();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    // Keep trickling header bytes, as a slow-loris client does, so that only the head
    // timeout (not the idle one) can end it.
    let mut closed = None;
    for i in 0..40 {
        let line = format!("X-Slow-{i}: a\r\n");
        if stream.write_all(line.as_bytes()).await.is_err() {
            closed = Some(Vec::new());
            break;
        }
        if let Some(seen) = closed_within(&mut stream, Duration::from_millis(100)).await {
            closed = Some(seen);
            break;
        }
    }
    let elapsed = started.elapsed();
    assert!(closed.is_some(), "still open after {elapsed:?}");
    assert!(
        elapsed >= Duration::from_millis(350),
        "closed too early: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(3), "closed late: {elapsed:?}");
    server.shutdown().await;
}

/// Half a head in one write, then silence: the keep-alive idle limit, shorter than the head
/// timeout as by default, fires first and asks for a graceful close, which waits for the
/// request under way. The head's deadline must still end the connection.
#[tokio::test]
async fn half_a_head_then_silence_is_closed_at_the_header_timeout_after_the_idle_limit() {
    let (_dir, server) = start_with(ConnectionLimits {
        header_read_timeout: Duration::from_millis(800),
        keep_alive_idle: Duration::from_millis(200),
        ..ConnectionLimits::default()
    })
    .await;
    let mut stream = connect_from("127.0.0.1", server.addr)
        .await
        .expect("connect");
    let started = Instant::now();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("write");
    let closed = closed_within(&mut stream, Duration::from_secs(10)).await;
    let elapsed = started.elapsed();
    assert!(closed.is_some(), "still open after {elapsed:?}");
    assert!(
        elapsed >= Duration::from_millis(700),
        "closed before the head's deadline: {elapsed:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_gets_408() {
    let (_dir, server) = start_with(ConnectionLimits {
        body_timeout: Duration::from_millis(400),
        ..ConnectionLimits::default()
    })
    .await;
    let mut stream = connect_from("127.0.0.1", server.addr)
        .await
        .expect("connect");
    stream
        .write_all(
            b"POST /oauth/token HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n\
              grant_type",
        )
        .await
        .expect("write");
    let seen = closed_within(&mut stream, Duration::from_secs(3))
        .await
        .expect("the server answers and closes");
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    assert!(text.contains("urn:consola:request_timeout"), "{text}");
    server.shutdown().await;
}

/// A total deadline, not one per chunk: a body dripped a byte at a time, each well within
/// any per-chunk timeout, still ends at the body timeout.
#[tokio::test]
async fn a_body_dripped_byte_by_byte_still_ends_at_the_body_timeout() {
    let (_dir, server) = start_with(ConnectionLimits {
        body_timeout: Duration::from_millis(500),
        ..ConnectionLimits::default()
    })
    .await;
    let mut stream = connect_from("127.0.0.1", server.addr)
        .await
        .expect("connect");
    stream
        .write_all(
            b"POST /oauth/token HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n",
        )
        .await
        .expect("write");
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    let drip = tokio::spawn(async move {
        for _ in 0..100 {
            if writer.write_all(b"a").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut seen = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(3), reader.read_to_end(&mut seen)).await;
    let elapsed = started.elapsed();
    drip.abort();
    assert!(read.is_ok(), "still reading the body after {elapsed:?}");
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let (_dir, server) = start_with(ConnectionLimits {
        keep_alive_idle: Duration::from_millis(300),
        ..ConnectionLimits::default()
    })
    .await;
    let mut stream = connect_from("127.0.0.1", server.addr)
        .await
        .expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 1024];
    let n = stream.read(&mut buf).await.expect("response");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let started = Instant::now();
    let rest = closed_within(&mut stream, Duration::from_secs(3)).await;
    let elapsed = started.elapsed();
    assert!(rest.is_some(), "the idle connection stayed open");
    assert!(
        elapsed >= Duration::from_millis(250),
        "closed too early: {elapsed:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_lets_the_request_in_flight_finish() {
    let (_dir, server) = start_with(ConnectionLimits::default()).await;
    let mut stream = connect_from("127.0.0.1", server.addr)
        .await
        .expect("connect");
    // `100 Continue` comes once the handler reads the body: the request is in flight.
    stream
        .write_all(
            b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 22\r\n\r\n",
        )
        .await
        .expect("write");
    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("100 Continue in time")
        .expect("read");
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    let stopping = tokio::spawn(server.shutdown());
    stream
        .write_all(b"grant_type=password&x")
        .await
        .expect("write");
    stream.write_all(b"y").await.expect("write");
    let seen = closed_within(&mut stream, Duration::from_secs(5))
        .await
        .expect("answered and closed");
    // Its answer (no client credentials) arrives whole before the connection closes.
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 401"), "{text}");
    assert!(text.contains("invalid_client"), "{text}");
    tokio::time::timeout(Duration::from_secs(5), stopping)
        .await
        .expect("shutdown completes")
        .expect("shutdown task");
}
