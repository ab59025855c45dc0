//! A TCP hop between a server and PostgreSQL that a test can cut, to play a database that
//! goes away and comes back while the PostgreSQL server itself keeps serving other tests,
//! or silence, to play a connection that dies without a word.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::{TcpListener, TcpStream};

/// A TCP hop between the server and PostgreSQL that the test can cut: while down it ends
/// every connection through it and refuses new ones at once, as a database that has gone
/// away does. Silenced, it keeps its connections open and carries nothing more on them.
pub struct Hop {
    pub addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    links: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    /// Links made before the latest `silence` carry nothing.
    silenced: tokio::sync::watch::Sender<u64>,
}

impl Hop {
    pub async fn to(target: String) -> Hop {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hop = Hop {
            addr: listener.local_addr().unwrap(),
            up: Arc::new(AtomicBool::new(true)),
            links: Arc::default(),
            silenced: tokio::sync::watch::Sender::new(0),
        };
        let (up, links) = (hop.up.clone(), hop.links.clone());
        let silenced = hop.silenced.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is reset
                }
                let target = target.clone();
                let mut silenced = silenced.subscribe();
                let made = *silenced.borrow_and_update();
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let silent = tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => false,
                            seen = silenced.wait_for(|latest| *latest > made) => seen.is_ok(),
                        };
                        if silent {
                            // Both ends stay open (their kernels still take what is sent),
                            // and nothing crosses: a silent partition.
                            std::future::pending::<()>().await;
                        }
                    }
                });
                links.lock().unwrap().push(link);
            }
        });
        hop
    }

    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    /// Every connection through the hop goes silent, open but carrying nothing either way,
    /// as when a partition or a NAT that forgot the flow drops its packets; connections
    /// made afterwards pass.
    pub fn silence(&self) {
        self.silenced.send_modify(|latest| *latest += 1);
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// The URL of `database` with this hop in the way.
    pub async fn before(database: &str) -> (Hop, String) {
        let direct = url::Url::parse(database).expect("database URL");
        let target = format!(
            "{}:{}",
            direct.host_str().expect("host"),
            direct.port().unwrap_or(5432)
        );
        let hop = Hop::to(target).await;
        let mut through = direct.clone();
        through.set_port(Some(hop.addr.port())).expect("port");
        through.set_host(Some("127.0.0.1")).expect("host");
        (hop, through.to_string())
    }
}
