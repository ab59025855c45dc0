//! SSH sessions against a server in this process, where its tasks and its heap can be
//! counted: many sessions come and go and leave nothing behind; a key removed, here or on
//! another replica, or a user disabled or removed here, ends its session; an idle one is signed out; the caps hold.

mod common;
mod ssh_support;

use consola::client::Client;
use consola::domain::ssh_key::NewSshKey;
use consola::domain::*;
use consola::server::{RunningServer, ServerConfig};
use consola::ssh::{SshOptions, SshServer, Startups};
use ssh_support::{KeyFile, SshTerminal, ssh_command};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Read;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const PASSWORD: &str = "contraseña segura";

struct World {
    dir: tempfile::TempDir,
    server: Option<RunningServer>,
    ssh: Option<SshServer>,
    key: KeyFile,
    /// The registered key's id, and the Súper Administrador who holds it.
    key_id: uuid::Uuid,
    sup: Client,
}

impl World {
    async fn start(options: impl FnOnce(&mut SshOptions)) -> World {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let mut config = ServerConfig::new(data.clone(), "127.0.0.1:0".parse().unwrap());
        config.database_url = common::database::url_for(&data);
        config.system_secret = common::database::system_secret_for(config.database_url.as_deref());
        config.front_door = true;
        let server = consola::server::start(config).await.unwrap();
        let mut ssh_options = SshOptions::new("127.0.0.1:0".parse().unwrap());
        options(&mut ssh_options);
        let front = server.front_door().expect("front door");
        let ssh = SshServer::start(ssh_options, &data, server.service.clone(), front)
            .await
            .unwrap();
        Client::new(&server.url())
            .unwrap()
            .setup(
                &SetupRequest {
                    account_name: "Cuenta".into(),
                    username: "superadmin".into(),
                    display_name: "Sara Súper".into(),
                    password: PASSWORD.into(),
                },
                None,
            )
            .await
            .unwrap();
        let sup = signed_in(&server.url(), "superadmin").await;
        let key = KeyFile::new(dir.path(), "sara");
        let key_id = sup
            .add_my_ssh_key(&NewSshKey {
                name: "k".into(),
                public_key: key.public.clone(),
            })
            .await
            .unwrap()
            .id;
        World {
            dir,
            server: Some(server),
            ssh: Some(ssh),
            key,
            key_id,
            sup,
        }
    }

    fn ssh(&self) -> &SshServer {
        self.ssh.as_ref().unwrap()
    }

    fn args(&self) -> Vec<String> {
        self.args_for(&self.key)
    }

    fn args_for(&self, key: &KeyFile) -> Vec<String> {
        ssh_command(self.ssh().addr, key, &self.dir.path().join("known_hosts"))
    }

    /// An administrator with a key of their own: their id and the key.
    async fn admin_with_key(&self, username: &str) -> (uuid::Uuid, KeyFile) {
        let user = self
            .sup
            .create_user(&NewUser {
                username: username.into(),
                display_name: username.into(),
                password: PASSWORD.into(),
                role: Role::Admin,
            })
            .await
            .unwrap();
        let key = KeyFile::new(self.dir.path(), username);
        signed_in(&self.server.as_ref().unwrap().url(), username)
            .await
            .add_my_ssh_key(&NewSshKey {
                name: "k".into(),
                public_key: key.public.clone(),
            })
            .await
            .unwrap();
        (user.id, key)
    }

    /// A console signed in with `key` as `who` ends within 5 s of `end`, and says why.
    async fn session_ends_when(&self, key: &KeyFile, who: &str, end: impl Future<Output = ()>) {
        let mut ssh = SshTerminal::open(&self.args_for(key), 100, 30);
        ssh.wait_for(&format!("{who} ▾"));
        end.await;
        let status = ssh.wait_exit(Duration::from_secs(5));
        assert!(status.is_some(), "the session outlived its access");
        ssh.wait_written(0, "clave SSH".as_bytes());
    }

    /// Another replica over the same database, signed in as the Súper Administrador.
    async fn other_replica(&self) -> (RunningServer, Client) {
        let data = self.dir.path().join("data");
        let database = common::database::url_for(&data)
            .unwrap_or_else(|| format!("sqlite:{}", data.join("consola.db").display()));
        let other = common::start_replica(self.dir.path().join("other"), &database, None).await;
        let sup = signed_in(&other.url(), "superadmin").await;
        (other, sup)
    }

    /// An `ssh -tt` whose screen bytes are collected; it stays until killed.
    fn session(&self) -> (Child, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
        let mut child = std::process::Command::new("ssh")
            .arg("-tt")
            .args(self.args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        (child, seen)
    }

    async fn stop(mut self) {
        if let Some(ssh) = self.ssh.take() {
            ssh.shutdown().await;
        }
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

/// `username` signed in through the API at `url`.
async fn signed_in(url: &str, username: &str) -> Client {
    let anonymous = Client::new(url).unwrap();
    anonymous.with_token(anonymous.login(username, PASSWORD).await.unwrap().token)
}

/// The memory test measures this process, which the other tests of this file share: it
/// runs alone (write), the others together (read).
static MEASURED: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// The heap this process holds, counted at every allocation. Unlike its resident memory,
/// which the allocator keeps or gives back as it likes, this goes back down exactly when
/// what a session allocated is freed.
#[global_allocator]
static HEAP: Counted = Counted;

struct Counted;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes to the system allocator unchanged; only the count is added.
unsafe impl GlobalAlloc for Counted {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        let block = unsafe { System.alloc(layout) };
        if !block.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        let block = unsafe { System.alloc_zeroed(layout) };
        if !block.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(block, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc`, passed on.
        let moved = unsafe { System.realloc(block, layout, new_size) };
        if !moved.is_null() {
            LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        moved
    }
}

fn heap() -> usize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

async fn eventually(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_sessions_come_and_go_and_leave_no_task_or_memory_behind() {
    let _alone = MEASURED.write().await;
    // All from one address and at once: the caps per address (10 sessions, 10 connections
    // signing in) and the early drop of connections signing in are raised for them.
    let world = World::start(|o| {
        o.max_sessions_per_address = 20;
        o.startups = Startups {
            soft: 40,
            rate: 30,
            hard: 40,
        };
        o.startups_per_address = o.startups;
    })
    .await;
    // One session first, so that what is made once (pools, caches) is made.
    let (mut first, seen) = world.session();
    eventually("the first console", Duration::from_secs(60), || {
        String::from_utf8_lossy(&seen.lock().unwrap()).contains("Dashboard")
    })
    .await;
    first.kill().unwrap();
    first.wait().unwrap();
    eventually("the first session ends", Duration::from_secs(30), || {
        world.ssh().connections() == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let tasks = alive_tasks();
    let before = heap();
    // The first round grows, once, what stays for the next (a map's capacity, a pool's
    // connections): what the heap settles at after it is the mark the next rounds must
    // come back to. A session that leaves even a few KiB behind fails the third.
    let mut mark = None;
    for round in 1..=3 {
        let mut sessions: Vec<_> = (0..20).map(|_| world.session()).collect();
        eventually(
            "20 consoles on their Dashboard",
            Duration::from_secs(120),
            || {
                sessions.iter().all(|(_, seen)| {
                    String::from_utf8_lossy(&seen.lock().unwrap()).contains("Dashboard")
                })
            },
        )
        .await;
        assert_eq!(world.ssh().connections(), 20);
        assert!(alive_tasks() > tasks, "sessions run tasks");
        let busy = heap();
        for (child, _) in sessions.iter_mut() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        eventually("every connection ends", Duration::from_secs(30), || {
            world.ssh().connections() == 0
        })
        .await;
        eventually(
            "the task count returns to its baseline",
            Duration::from_secs(30),
            || alive_tasks() <= tasks,
        )
        .await;
        // What this test kept of the screens goes too, once each reader has seen its end.
        eventually("the readers end", Duration::from_secs(30), || {
            sessions
                .iter()
                .all(|(_, seen)| std::sync::Arc::strong_count(seen) == 1)
        })
        .await;
        drop(sessions);
        // A closed connection's last buffers go a moment after its task: up to 2 s here.
        let after = match mark {
            None => {
                let mut low = heap();
                for _ in 0..40 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    low = low.min(heap());
                }
                mark = Some(low);
                low
            }
            Some(mark) => {
                let allowed = mark + 128 * 1024;
                let waited = Instant::now() + Duration::from_secs(15);
                while heap() > allowed && Instant::now() < waited {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                let after = heap();
                assert!(
                    after <= allowed,
                    "round {round} kept {} KiB more than the first gave back",
                    (after - mark) / 1024
                );
                after
            }
        };
        eprintln!(
            "heap, round {round}: {} KiB before, {} KiB with 20 sessions, {} KiB after",
            before / 1024,
            busy / 1024,
            after / 1024
        );
    }
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_removed_here_ends_its_session_at_once_not_at_the_next_check() {
    let _shared = MEASURED.read().await;
    let world = World::start(|o| o.recheck_every = Duration::from_secs(3600)).await;
    world
        .session_ends_when(&world.key, "Sara Súper", async {
            world.sup.delete_my_ssh_key(world.key_id).await.unwrap();
        })
        .await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_disabled_or_removed_here_ends_their_session_at_once() {
    let _shared = MEASURED.read().await;
    let world = World::start(|o| o.recheck_every = Duration::from_secs(3600)).await;
    let (ana, ana_key) = world.admin_with_key("ana").await;
    world
        .session_ends_when(&ana_key, "ana", async {
            let disabled = UserPatch {
                disabled: Some(true),
                ..Default::default()
            };
            world.sup.update_user(ana, &disabled).await.unwrap();
        })
        .await;
    let (bea, bea_key) = world.admin_with_key("bea").await;
    world
        .session_ends_when(&bea_key, "bea", async {
            world.sup.delete_user(bea).await.unwrap();
        })
        .await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_removed_on_another_replica_ends_its_session_at_the_next_check() {
    let _shared = MEASURED.read().await;
    let world = World::start(|_| {}).await;
    let (other, sup_there) = world.other_replica().await;
    world
        .session_ends_when(&world.key, "Sara Súper", async {
            sup_there.delete_my_ssh_key(world.key_id).await.unwrap();
        })
        .await;
    other.shutdown().await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_session_is_signed_out_and_told_so() {
    let _shared = MEASURED.read().await;
    let world = World::start(|o| o.idle_timeout = Duration::from_secs(2)).await;
    let mut ssh = SshTerminal::open(&world.args(), 100, 30);
    ssh.wait_for("Sara Súper ▾");
    let status = ssh.wait_exit(Duration::from_secs(30)).expect("signed out");
    assert!(status.success(), "{status:?}");
    ssh.wait_written(0, "inactividad".as_bytes());
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_caps_refuse_one_connection_too_many() {
    let _shared = MEASURED.read().await;
    let world = World::start(|o| o.max_sessions_per_address = 2).await;
    let (mut a, seen_a) = world.session();
    let (mut b, seen_b) = world.session();
    eventually("two consoles", Duration::from_secs(60), || {
        [&seen_a, &seen_b]
            .iter()
            .all(|seen| String::from_utf8_lossy(&seen.lock().unwrap()).contains("Dashboard"))
    })
    .await;
    let third = std::process::Command::new("ssh")
        .arg("-T")
        .arg("-n")
        .args(world.args())
        .args(["consumers", "list"])
        .output()
        .unwrap();
    assert_eq!(third.status.code(), Some(255), "{third:?}");
    a.kill().unwrap();
    a.wait().unwrap();
    eventually("a place comes back", Duration::from_secs(30), || {
        world.ssh().connections() == 1
    })
    .await;
    let fourth = std::process::Command::new("ssh")
        .arg("-T")
        .arg("-n")
        .args(world.args())
        .args(["consumers", "list", "-q"])
        .output()
        .unwrap();
    assert_eq!(fourth.status.code(), Some(0), "{fourth:?}");
    b.kill().unwrap();
    b.wait().unwrap();
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_front_door_believes_an_address_only_with_its_secret() {
    let _shared = MEASURED.read().await;
    let world = World::start(|_| {}).await;
    let server = world.server.as_ref().unwrap();
    let front = server.front_door().unwrap();
    let door = Client::new(&front.url).unwrap();
    let person: std::net::IpAddr = "198.51.100.7".parse().unwrap();
    let forger: std::net::IpAddr = "203.0.113.9".parse().unwrap();
    // With the door's secret: the person's address is the one recorded.
    let vouched = door.on_behalf_of(person, &front.secret);
    assert_eq!(
        common::status_of(vouched.login("superadmin", "mala").await),
        401
    );
    // Anyone else on the port who claims an address is just a loopback caller.
    let forged = door.on_behalf_of(
        forger,
        &consola::domain::secret::SecretText::new("adivino".into()),
    );
    assert_eq!(
        common::status_of(forged.login("superadmin", "mala").await),
        401
    );

    let sup = Client::new(&server.url()).unwrap();
    let sup = sup.with_token(sup.login("superadmin", PASSWORD).await.unwrap().token);
    let denied = sup
        .audit(&AuditQuery {
            action: Some(AuditAction::Denied),
            ..Default::default()
        })
        .await
        .unwrap();
    let addresses: Vec<&str> = denied.items.iter().map(|e| e.ip.as_str()).collect();
    assert!(addresses.contains(&"198.51.100.7"), "{addresses:?}");
    assert!(!addresses.contains(&"203.0.113.9"), "{addresses:?}");
    assert!(addresses.contains(&"127.0.0.1"), "{addresses:?}");
    world.stop().await;
}

/// Opens `count` TCP connections to `addr` from `source`, reads each one's banner and then
/// says nothing, as a flood that holds the door would.
async fn idle_after_banner(
    source: [u8; 4],
    addr: std::net::SocketAddr,
    count: usize,
) -> Vec<tokio::net::TcpStream> {
    use tokio::io::AsyncReadExt;
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind((source, 0).into()).unwrap();
        let Ok(mut stream) = socket.connect(addr).await else {
            continue;
        };
        let mut banner = [0u8; 64];
        // Refused connections are closed at once: nothing to hold.
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut banner)).await {
            Ok(Ok(n)) if n > 0 => held.push(stream),
            _ => {}
        }
    }
    held
}

/// `ssh … consumers list -q` with the registered key.
fn key_command(world: &World) -> std::process::Output {
    std::process::Command::new("ssh")
        .arg("-T")
        .arg("-n")
        .args(world.args())
        .args(["consumers", "list", "-q"])
        .output()
        .unwrap()
}

/// The attack of the issue: 110 connections from 11 addresses, each reading the banner and
/// then silent. A registered key still gets in at once, every time; how many tries it took
/// is printed (the early drop may cost one).
#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_idle_connections_does_not_keep_a_registered_key_out() {
    let _shared = MEASURED.read().await;
    let world = World::start(|o| o.login_grace = Duration::from_secs(120)).await;
    let addr = world.ssh().addr;
    let mut flood = Vec::new();
    // 127.0.0.2 is the SSH client's own (ssh_support::CLIENT_ADDRESS).
    for last in 3..=13u8 {
        flood.extend(idle_after_banner([127, 0, 0, last], addr, 10).await);
    }
    let pending = world.ssh().pending_connections();
    assert!(pending >= 11, "the flood holds connections: {pending}");
    let started = Instant::now();
    let mut tries = Vec::new();
    let mut slowest = Duration::ZERO;
    for _ in 0..10 {
        let login = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let out = key_command(&world);
            if out.status.success() {
                break;
            }
            assert!(
                login.elapsed() < Duration::from_secs(10),
                "the key did not get in within 10 s ({attempts} tries): {out:?}"
            );
        }
        slowest = slowest.max(login.elapsed());
        tries.push(attempts);
    }
    let first = tries[0];
    let retries: usize = tries.iter().map(|t| t - 1).sum();
    eprintln!(
        "flood: {} connections held ({pending} pending); 10 logins with the key took {tries:?} \
         tries ({retries} retries), the slowest {slowest:?}, all {:?}",
        flood.len(),
        started.elapsed()
    );
    assert!(first <= 2, "the first login needed {first} tries");
    // The flood is still held: it was not let go to make room.
    assert!(world.ssh().pending_connections() >= pending.min(flood.len()) - 1);
    drop(flood);
    world.stop().await;
}

/// Connections that never sign in are closed after the login grace time, whether they
/// stopped after the banner or inside the key exchange.
#[tokio::test(flavor = "multi_thread")]
async fn idle_unauthenticated_connections_are_gone_after_the_login_grace_time() {
    use tokio::io::AsyncReadExt;
    let _shared = MEASURED.read().await;
    let world = World::start(|o| o.login_grace = Duration::from_secs(1)).await;
    let mut flood = idle_after_banner([127, 0, 0, 3], world.ssh().addr, 3).await;
    assert_eq!(flood.len(), 3);
    assert_eq!(world.ssh().pending_connections(), 3);
    let started = Instant::now();
    for stream in &mut flood {
        let mut rest = [0u8; 4096];
        loop {
            match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut rest)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(_)) => {}
                Err(_) => panic!("still open {:?} after its grace time", started.elapsed()),
            }
        }
    }
    eventually("no connection pending", Duration::from_secs(5), || {
        world.ssh().pending_connections() == 0
    })
    .await;
    // A key still signs in, and stays signed in past the grace time.
    let mut ssh = SshTerminal::open(&world.args(), 100, 30);
    ssh.wait_for("Sara Súper ▾");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        ssh.wait_exit(Duration::from_millis(10)).is_none(),
        "signed in, it stays"
    );
    world.stop().await;
}
