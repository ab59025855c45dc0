//! SSH sessions against a server in this process, where its tasks can be counted: many
//! sessions come and go and leave nothing behind; an idle one is signed out; the caps hold.

mod common;
mod ssh_support;

use consola::client::Client;
use consola::domain::ssh_key::NewSshKey;
use consola::domain::*;
use consola::server::{RunningServer, ServerConfig};
use consola::ssh::{SshOptions, SshServer};
use ssh_support::{KeyFile, SshTerminal, ssh_command};
use std::io::Read;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "contraseña segura";

struct World {
    dir: tempfile::TempDir,
    server: Option<RunningServer>,
    ssh: Option<SshServer>,
    key: KeyFile,
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
        let anonymous = Client::new(&server.url()).unwrap();
        anonymous
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
        let sup =
            anonymous.with_token(anonymous.login("superadmin", PASSWORD).await.unwrap().token);
        let key = KeyFile::new(dir.path(), "sara");
        sup.add_my_ssh_key(&NewSshKey {
            name: "k".into(),
            public_key: key.public.clone(),
        })
        .await
        .unwrap();
        World {
            dir,
            server: Some(server),
            ssh: Some(ssh),
            key,
        }
    }

    fn ssh(&self) -> &SshServer {
        self.ssh.as_ref().unwrap()
    }

    fn args(&self) -> Vec<String> {
        ssh_command(
            self.ssh().addr,
            &self.key,
            &self.dir.path().join("known_hosts"),
        )
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

/// The memory test measures this process, which the other tests of this file share: it
/// runs alone (write), the others together (read).
static MEASURED: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Resident memory of this process, in bytes.
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

async fn eventually(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_sessions_come_and_go_and_leave_no_task_behind() {
    let _alone = MEASURED.write().await;
    // All from one address: the cap per address (10 by default) is raised for them.
    let world = World::start(|o| o.max_sessions_per_address = 20).await;
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
    let memory = resident();
    // Twice: the allocator keeps what the first round freed for the next one, so memory
    // is back at its baseline when the second round costs nothing more than the first.
    let mut after_round = Vec::new();
    for _ in 0..2 {
        let sessions: Vec<_> = (0..20).map(|_| world.session()).collect();
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
        let busy = resident();
        for (mut child, _) in sessions {
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
        let after = resident();
        eprintln!(
            "resident memory: {} KiB before, {} KiB with 20 sessions, {} KiB after",
            memory / 1024,
            busy / 1024,
            after / 1024
        );
        after_round.push(after);
    }
    assert!(
        after_round[1] <= after_round[0] + 2 * 1024 * 1024,
        "the second round kept memory the first gave back: {after_round:?}"
    );
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
