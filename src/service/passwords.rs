//! Password hashing with argon2id, off the async runtime (it is slow on purpose), and
//! bounded: each hash takes about 19 MiB for its duration, so at most `concurrency` run at
//! once, on that many threads of their own, a few more wait in a short queue, and the rest
//! are told to come back (503 with `Retry-After`) instead of taking the server's memory.
//! The hashing threads run at a lower CPU priority, so a login flood slows logins, not the
//! token endpoint.

use super::{InternalError, ServiceError, ServiceResult};
use crate::domain::secret::SecretText;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// The nice value of the hashing threads (Linux): the scheduler gives them about a tenth
/// of a core that the async workers also want.
const HASHING_NICENESS: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// How long a queued check waits for a slot before it is told to come back.
const QUEUE_WAIT: Duration = Duration::from_secs(5);
/// What a refused check is told: come back in this many seconds.
const BUSY_RETRY_AFTER: u64 = 1;

/// The default number of hashes at once: one per core.
pub fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The bounded argon2 runner of one service.
pub struct Passwords {
    slots: Arc<Semaphore>,
    /// Work for the hashing threads; they end when it is dropped.
    jobs: Mutex<mpsc::Sender<Job>>,
    /// Checks waiting for a slot now.
    waiting: AtomicUsize,
    queue: usize,
}

/// Counts a waiting check for as long as it waits.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn busy() -> ServiceError {
    ServiceError::Busy {
        retry_after: BUSY_RETRY_AFTER,
    }
}

impl Passwords {
    /// At most `concurrency` hashes at once (at least one), and at most `queue` more waiting.
    pub fn new(concurrency: usize, queue: usize) -> Passwords {
        let concurrency = concurrency.max(1);
        let (jobs, inbox) = mpsc::channel::<Job>();
        let inbox = Arc::new(Mutex::new(inbox));
        for i in 0..concurrency {
            let inbox = inbox.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("consola-argon2-{i}"))
                .spawn(move || hashing_thread(&inbox));
            if let Err(err) = spawned {
                tracing::error!(error = %err, "could not start a password hashing thread");
            }
        }
        Passwords {
            slots: Arc::new(Semaphore::new(concurrency)),
            jobs: Mutex::new(jobs),
            waiting: AtomicUsize::new(0),
            queue,
        }
    }

    /// A slot to hash in, or `Busy` when the slots and the queue are full.
    async fn slot(&self) -> ServiceResult<OwnedSemaphorePermit> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(busy());
        }
        let _waiting = Waiting(&self.waiting);
        match tokio::time::timeout(QUEUE_WAIT, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => Err(busy()),
        }
    }

    /// Runs `work` on a hashing thread while holding a slot. The slot goes with the work,
    /// so a caller that gives up does not free it before the memory is given back.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> ServiceResult<T> + Send + 'static,
    ) -> ServiceResult<T> {
        let permit = self.slot().await?;
        let (answer, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let result = work();
            // The hash's memory is free once `work` returns: the slot is too.
            drop(permit);
            let _ = answer.send(result);
        });
        self.jobs
            .lock()
            .send(job)
            .map_err(|_| ServiceError::Internal("password hashing threads stopped".into()))?;
        result
            .await
            .map_err(|_| ServiceError::Internal("a password check was lost".into()))?
    }

    pub async fn hash(&self, password: SecretText) -> ServiceResult<String> {
        self.run(move || {
            let salt = SaltString::encode_b64(&crate::domain::secret::random_bytes::<16>())
                .map_err(|e| {
                    InternalError::caused("no se pudo hacer la sal de una contraseña", e)
                })?;
            Argon2::default()
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| InternalError::caused("no se pudo derivar una contraseña", e).into())
        })
        .await
    }

    /// True when `password` matches `stored`; with `None`, checks against a dummy hash and
    /// returns false, taking the same time.
    pub async fn verify(
        &self,
        password: SecretText,
        stored: Option<String>,
    ) -> ServiceResult<bool> {
        self.run(move || {
            let (hash, real) = match &stored {
                Some(h) => (h.as_str(), true),
                None => (dummy_hash(), false),
            };
            let parsed = PasswordHash::new(hash)
                .map_err(|e| InternalError::caused("hash de contraseña ilegible", e))?;
            let ok = Argon2::default()
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok();
            Ok(ok && real)
        })
        .await
    }
}

/// One hashing thread: lowers its own priority, then runs jobs until the service goes.
fn hashing_thread(inbox: &Mutex<mpsc::Receiver<Job>>) {
    lower_priority();
    loop {
        let job = inbox.lock().recv();
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // On Linux the nice value is per thread: this one only.
    // SAFETY: gettid and setpriority take plain integers and touch no memory of ours.
    let done = unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, HASHING_NICENESS)
    };
    if done != 0 {
        tracing::debug!("password hashing threads keep the normal priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// A hash of nothing in particular: checking against it when the username does not exist
/// makes a wrong username cost the same time as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::encode_b64(&[7u8; 16]).expect("16 bytes encode as a salt");
        Argon2::default()
            .hash_password(b"consola dummy password", &salt)
            .map(|h| h.to_string())
            .expect("argon2 hashes with default parameters")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> SecretText {
        SecretText::new(text.to_string())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn beyond_the_slots_and_the_queue_checks_are_refused_at_once() {
        let passwords = Arc::new(Passwords::new(1, 1));
        let stored = passwords.hash(secret("contraseña segura")).await.unwrap();
        // Hold the only slot.
        let held = passwords.slots.clone().try_acquire_owned().unwrap();
        let queued = tokio::spawn({
            let (p, s) = (passwords.clone(), stored.clone());
            async move { p.verify(secret("contraseña segura"), Some(s)).await }
        });
        // Wait (bounded) until the first one is queued.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while passwords.waiting.load(Ordering::SeqCst) == 0 {
            assert!(std::time::Instant::now() < deadline, "never queued");
            tokio::task::yield_now().await;
        }
        let refused = passwords.verify(secret("x"), Some(stored.clone())).await;
        assert!(
            matches!(refused, Err(ServiceError::Busy { retry_after: 1 })),
            "{refused:?}"
        );
        drop(held);
        assert!(queued.await.unwrap().unwrap(), "the queued one runs");
        assert_eq!(passwords.waiting.load(Ordering::SeqCst), 0);
        assert!(
            !passwords
                .verify(secret("otra"), Some(stored))
                .await
                .unwrap()
        );
        assert!(!passwords.verify(secret("x"), None).await.unwrap());
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_runs_at_a_lower_priority_on_its_own_threads() {
        let passwords = Passwords::new(2, 0);
        let (name, nice) = passwords
            .run(|| {
                // SAFETY: plain integer calls.
                let nice =
                    unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
                let name = std::thread::current().name().map(String::from);
                Ok((name, nice))
            })
            .await
            .unwrap();
        assert!(name.unwrap_or_default().starts_with("consola-argon2-"));
        assert_eq!(nice, HASHING_NICENESS);
    }

    #[test]
    fn one_slot_per_core_by_default() {
        assert!(default_concurrency() >= 1);
        assert_eq!(Passwords::new(0, 0).slots.available_permits(), 1);
    }
}
