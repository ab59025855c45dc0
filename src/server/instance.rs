//! One data directory, one server (DESIGN §4): the process that serves a data directory
//! holds an exclusive lock on `consola.lock` there and records its pid and API URL in
//! `consola.instance.json`; any other process that finds the lock held attaches to that URL
//! instead of starting a second server over the same database.
//!
//! The lock is the operating system's (`flock` on Unix): it is released when the holder
//! closes the file, exits or crashes, so a stale lock never blocks the next start. The
//! record is only trusted while its lock is held.
//!
//! Taking over when the holder quits: an attached process calls `start_or_attach` (or
//! `Claim::try_take` and then `super::start`) again from time to time; it wins as soon as the
//! holder is gone, and the server it starts records its own URL for the others. `holder`
//! tells, without taking anything for long, who serves the directory now.

use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const LOCK_FILE: &str = "consola.lock";
const RECORD_FILE: &str = "consola.instance.json";

/// Who serves a data directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    /// The API's base URL, e.g. `http://127.0.0.1:8787`.
    pub url: String,
}

impl Holder {
    /// The address it listens on, from its URL (`http://127.0.0.1:8787` → `127.0.0.1:8787`).
    pub fn address(&self) -> Option<std::net::SocketAddr> {
        let rest = self.url.split_once("://")?.1;
        rest.split('/').next()?.parse().ok()
    }
}

/// A data directory that another process serves, and who, when it has said so yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", held_message(.dir, .holder.as_ref()))]
pub struct Held {
    pub dir: PathBuf,
    /// `None` while the holder starts and has not recorded its URL.
    pub holder: Option<Holder>,
}

fn held_message(dir: &Path, holder: Option<&Holder>) -> String {
    match holder {
        Some(h) => format!(
            "el directorio de datos {} está en uso: lo sirve el proceso {} en {}",
            dir.display(),
            h.pid,
            h.url
        ),
        None => format!(
            "el directorio de datos {} está en uso por otro proceso que aún arranca",
            dir.display()
        ),
    }
}

/// Why a claim could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error(transparent)]
    Held(#[from] Held),
    #[error("no se pudo usar {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The exclusive right to serve a data directory, held until dropped.
#[derive(Debug)]
pub struct Claim {
    dir: PathBuf,
    lock: File,
}

impl Claim {
    /// Takes the data directory's lock, or says who holds it. Never waits.
    pub fn try_take(dir: &Path) -> Result<Claim, ClaimError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| ClaimError::Io {
            path: path.clone(),
            source,
        };
        let lock = crate::private_file::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(Held {
                    dir: dir.to_path_buf(),
                    holder: read_record(dir),
                }
                .into());
            }
            Err(fs::TryLockError::Error(err)) => return Err(io(err)),
        }
        // Whatever record is there was left by a holder that is gone.
        let _ = fs::remove_file(dir.join(RECORD_FILE));
        Ok(Claim {
            dir: dir.to_path_buf(),
            lock,
        })
    }

    /// Takes the lock like `try_take`, but while its holder has recorded no URL (a server
    /// still starting, or a `holder` check that lets go at once) asks again for up to a
    /// second before saying it is held.
    pub async fn take(dir: &Path) -> Result<Claim, ClaimError> {
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            match Claim::try_take(dir) {
                Err(ClaimError::Held(Held { holder: None, .. })) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                other => return other,
            }
        }
    }

    /// Records this process and the URL it serves, for the processes that attach. Written
    /// to a temporary file and renamed, so a reader never sees half a record.
    pub fn publish(&self, url: &str) -> std::io::Result<()> {
        let record = Holder {
            pid: std::process::id(),
            url: url.to_string(),
        };
        let text = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
        let temporary = self.dir.join(format!("{RECORD_FILE}.{}", record.pid));
        use crate::private_file::{Durability, replace};
        replace(
            &self.dir.join(RECORD_FILE),
            &temporary,
            &text,
            Durability::Unsynced,
        )
    }

    /// Takes the record back while keeping the lock: a server that stops accepting says so
    /// first, so newcomers wait for the lock instead of attaching to a closing server.
    pub fn withdraw(&self) {
        let _ = fs::remove_file(self.dir.join(RECORD_FILE));
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        // The record goes first, while the lock still keeps a new holder from writing its own.
        let _ = fs::remove_file(self.dir.join(RECORD_FILE));
        let _ = self.lock.unlock();
    }
}

/// The record of the current holder, if one has been written and reads back whole.
fn read_record(dir: &Path) -> Option<Holder> {
    let bytes = fs::read(dir.join(RECORD_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Who serves the data directory right now: `None` when nobody holds its lock (a new
/// process may take it). Blocking: for tools and tests, not for an async worker. Waits up to `patience` for a holder that is still starting to
/// record its URL; a holder that never does is reported without one.
pub fn holder(dir: &Path, patience: Duration) -> Result<Option<Holder>, ClaimError> {
    if !dir.join(LOCK_FILE).exists() {
        return Ok(None);
    }
    let deadline = Instant::now() + patience;
    loop {
        match Claim::try_take(dir) {
            // Free: let it go again at once; the caller decides whether to take it.
            Ok(claim) => {
                drop(claim);
                return Ok(None);
            }
            Err(ClaimError::Held(Held {
                holder: Some(holder),
                ..
            })) => return Ok(Some(holder)),
            Err(ClaimError::Held(held)) => {
                if Instant::now() >= deadline {
                    return Err(held.into());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(other) => return Err(other),
        }
    }
}

/// A server over a data directory: the one this process started, or the one it attached to.
pub enum Served {
    Started(super::RunningServer),
    Attached(Holder),
}

impl Served {
    pub fn url(&self) -> String {
        match self {
            Served::Started(server) => server.url(),
            Served::Attached(holder) => holder.url.clone(),
        }
    }

    /// Stops the server if this process started it; an attached one keeps running.
    pub async fn shutdown(self) {
        if let Served::Started(server) = self {
            server.shutdown().await;
        }
    }
}

/// How long to wait for a holder that is starting to record its URL.
pub const ATTACH_PATIENCE: Duration = Duration::from_secs(15);

/// Starts a server over the configured data directory, or attaches to the one that already
/// serves it. Two processes that race here end with one server: the loser attaches.
pub async fn start_or_attach(config: super::ServerConfig) -> anyhow::Result<Served> {
    let deadline = Instant::now() + ATTACH_PATIENCE;
    loop {
        let error = match super::start(config.clone()).await {
            Ok(server) => return Ok(Served::Started(server)),
            Err(error) => error,
        };
        match error.downcast_ref::<ClaimError>() {
            Some(ClaimError::Held(Held {
                holder: Some(holder),
                ..
            })) => return Ok(Served::Attached(holder.clone())),
            // Held by a process still starting (or one that is just checking): ask again.
            Some(ClaimError::Held(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            _ => return Err(error),
        }
    }
}

/// How often an attached console checks whether the server it uses has gone.
pub const TAKE_OVER_EVERY: Duration = Duration::from_millis(500);

/// An attached process's turn to serve (DESIGN §4): waits until the holder lets the data
/// directory go, then starts a server on `config`. Give it the address the holder served,
/// so the clients already talking to it keep their URL; sessions live in the database, so
/// they keep working too. Returns `None` when `stop` resolves first (the console quits).
pub async fn take_over(
    config: super::ServerConfig,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) -> Option<super::RunningServer> {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return None,
            () = tokio::time::sleep(every) => {}
        }
        // Quick while held: the claim is asked for before anything is opened.
        match super::start(config.clone()).await {
            Ok(server) => {
                tracing::info!(url = %server.url(), "took over serving the data directory");
                return Some(server);
            }
            Err(error)
                if error
                    .downcast_ref::<ClaimError>()
                    .is_some_and(|e| matches!(e, ClaimError::Held(_))) => {}
            // The address still taken a moment after the holder left, say: try again.
            Err(error) => tracing::warn!(%error, "could not take over yet"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_is_refused_with_the_holder_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = Claim::try_take(dir.path()).unwrap();
        match Claim::try_take(dir.path()) {
            Err(ClaimError::Held(held)) => assert_eq!(held.holder, None),
            other => panic!("expected held, got {other:?}"),
        }
        first.publish("http://127.0.0.1:9").unwrap();
        let err = Claim::try_take(dir.path()).unwrap_err().to_string();
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        assert!(err.contains("http://127.0.0.1:9"), "{err}");
        assert_eq!(
            holder(dir.path(), Duration::ZERO).unwrap(),
            Some(Holder {
                pid: std::process::id(),
                url: "http://127.0.0.1:9".into()
            })
        );
        // Withdrawn (a server stopping): still held, but no URL to attach to.
        first.withdraw();
        match Claim::try_take(dir.path()) {
            Err(ClaimError::Held(held)) => assert_eq!(held.holder, None),
            other => panic!("expected held, got {other:?}"),
        }
        drop(first);
        assert_eq!(holder(dir.path(), Duration::ZERO).unwrap(), None);
        let again = Claim::try_take(dir.path()).unwrap();
        assert_eq!(again.dir(), dir.path());
    }

    #[test]
    fn a_holder_s_address_comes_from_its_url() {
        let holder = |url: &str| Holder {
            pid: 1,
            url: url.into(),
        };
        assert_eq!(
            holder("http://127.0.0.1:8787").address(),
            Some("127.0.0.1:8787".parse().unwrap())
        );
        assert_eq!(
            holder("https://[::1]:9/").address(),
            Some("[::1]:9".parse().unwrap())
        );
        assert_eq!(holder("no es una URL").address(), None);
    }

    /// Attached to a holder, `take_over` starts serving once the holder lets go, and not
    /// before; `stop` ends the wait.
    #[tokio::test]
    async fn take_over_serves_once_the_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = Claim::try_take(dir.path()).unwrap();
        first.publish("http://127.0.0.1:9").unwrap();
        let config = super::super::ServerConfig::new(
            dir.path().to_path_buf(),
            "127.0.0.1:0".parse().unwrap(),
        );
        // Held the whole time: stopped, it never served.
        let stopped = take_over(
            config.clone(),
            Duration::from_millis(10),
            tokio::time::sleep(Duration::from_millis(100)),
        )
        .await;
        assert!(stopped.is_none());
        let waiting = tokio::spawn(take_over(
            config,
            Duration::from_millis(10),
            std::future::pending(),
        ));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "served while the holder was there");
        drop(first);
        let server = tokio::time::timeout(Duration::from_secs(30), waiting)
            .await
            .expect("took over in time")
            .unwrap()
            .expect("a server");
        let holder = holder(dir.path(), Duration::from_secs(5)).unwrap().unwrap();
        assert_eq!(holder.url, server.url());
        server.shutdown().await;
    }

    #[test]
    fn a_record_left_by_a_gone_holder_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(RECORD_FILE),
            br#"{"pid":1,"url":"http://127.0.0.1:1"}"#,
        )
        .unwrap();
        fs::write(dir.path().join(LOCK_FILE), b"").unwrap();
        assert_eq!(holder(dir.path(), Duration::ZERO).unwrap(), None);
        let claim = Claim::try_take(dir.path()).unwrap();
        assert!(!dir.path().join(RECORD_FILE).exists());
        drop(claim);
    }
}
