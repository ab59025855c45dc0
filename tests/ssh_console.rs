//! The console over SSH, end to end: `consola serve --ssh-listen 127.0.0.1:0` as a process
//! and the real OpenSSH client in a pseudo-terminal, with keys made at test time.

mod binary;
mod common;
mod ssh_support;

use base64::Engine;
use binary::consola;
use consola::client::Client;
use consola::domain::ssh_key::NewSshKey;
use consola::domain::*;
use ssh_support::{KeyFile, SshTerminal, ssh_command, ssh_run};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "contraseña segura";

/// `consola serve` with the SSH front end, over a data directory of the test's.
struct Served {
    child: Child,
    url: String,
    ssh: SocketAddr,
    fingerprint: String,
}

impl Served {
    fn start(data: &Path, extra: &[&str]) -> Served {
        let mut command = consola();
        command
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--ssh-listen",
                "127.0.0.1:0",
            ])
            .arg("--data-dir")
            .arg(data)
            .args(extra)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(url) = common::database::url_for(data) {
            command.args(["--database", &url]);
            command.env(
                "CONSOLA_SYSTEM_SECRET",
                common::database::TEST_SYSTEM_SECRET,
            );
        }
        let mut child = command.spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut url, mut ssh) = (None, None);
        let deadline = Instant::now() + Duration::from_secs(60);
        while (url.is_none() || ssh.is_none()) && Instant::now() < deadline {
            let Some(Ok(line)) = lines.next() else { break };
            if let Some(rest) = line.strip_prefix("consola escuchando en ") {
                url = Some(rest.to_string());
            }
            if let Some(rest) = line.strip_prefix("consola por SSH en ") {
                let addr = rest.split_whitespace().next().unwrap().parse().unwrap();
                let fingerprint = rest.rsplit(' ').next().unwrap().to_string();
                ssh = Some((addr, fingerprint));
            }
        }
        std::thread::spawn(move || for _ in lines {});
        let (Some(url), Some((ssh, fingerprint))) = (url, ssh) else {
            let _ = child.kill();
            panic!("serve did not print its addresses");
        };
        Served {
            child,
            url,
            ssh,
            fingerprint,
        }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server with its account set up, and an admin whose key is registered.
struct World {
    dir: tempfile::TempDir,
    served: Served,
    sup: Client,
    key: KeyFile,
}

impl World {
    async fn start(extra: &[&str]) -> World {
        let dir = tempfile::tempdir().unwrap();
        let served = Served::start(&dir.path().join("data"), extra);
        let anonymous = Client::new(&served.url).unwrap();
        anonymous
            .setup(
                &SetupRequest {
                    account_name: "FRACTTAL - Activación".into(),
                    username: "superadmin".into(),
                    display_name: "Sara Súper".into(),
                    password: PASSWORD.into(),
                },
                None,
            )
            .await
            .unwrap();
        let login = anonymous.login("superadmin", PASSWORD).await.unwrap();
        let sup = anonymous.with_token(login.token);
        let key = KeyFile::new(dir.path(), "sara");
        sup.add_my_ssh_key(&NewSshKey {
            name: "Portátil".into(),
            public_key: key.public.clone(),
        })
        .await
        .unwrap();
        World {
            dir,
            served,
            sup,
            key,
        }
    }

    fn known_hosts(&self) -> PathBuf {
        self.dir.path().join("known_hosts")
    }

    fn args(&self, key: &KeyFile) -> Vec<String> {
        ssh_command(self.served.ssh, key, &self.known_hosts())
    }

    fn console(&self, key: &KeyFile) -> SshTerminal {
        SshTerminal::open(&self.args(key), 120, 40)
    }
}

async fn group(client: &Client, name: &str) -> PermissionGroup {
    client
        .create_permission_group(&NewPermissionGroup {
            name: name.into(),
            description: String::new(),
            read_only: false,
            permissions: vec![ModulePermission {
                module: "assets".into(),
                actions: vec![Action::View],
            }],
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registered_key_walks_the_seed_flow_and_the_clave_reaches_the_client() {
    let world = World::start(&[]).await;
    group(&world.sup, "Integraciones").await;
    let mut ssh = world.console(&world.key);
    // Signed in by the key: no Iniciar sesión.
    ssh.wait_for("Sara Súper ▾");
    ssh.wait_for("Dashboard");
    // The status bar names the server's own URL, not its internal front door.
    ssh.wait_for(&format!("API {}", world.served.url));

    // Configuración → Conexiones API → Consumidores OAuth.
    ssh.send("m");
    ssh.wait_for("Cerrar sesión");
    ssh.send("\r");
    ssh.wait_for("Portal de Invitados");
    for _ in 0..9 {
        ssh.send("j");
    }
    ssh.send("\r");
    ssh.wait_for("CONEXIÓN API");
    ssh.send("\x1b[C");
    ssh.wait_for("Consumidores OAuth (");
    ssh.send("+");
    ssh.wait_for("Nuevo(a) Cliente OAuth");
    ssh.send("\t");
    ssh.type_text("ERP por SSH");
    ssh.send("\x13"); // Ctrl+S: Guardar
    ssh.wait_for("no se volverá a mostrar");
    let page = world
        .sup
        .consumers(&ConsumerQuery::default())
        .await
        .unwrap();
    let consumer = page
        .items
        .iter()
        .find(|c| c.name == "ERP por SSH")
        .expect("created over SSH");
    let from = ssh.written();
    ssh.send("c");
    ssh.wait_for("Copiado");
    let encoded = base64::engine::general_purpose::STANDARD.encode(&consumer.client_id);
    let osc = format!("\x1b]52;c;{encoded}\x1b\\");
    ssh.wait_written(from, osc.as_bytes());

    // The audit log has the login with the key's fingerprint.
    let log = world
        .sup
        .audit(&AuditQuery {
            action: Some(AuditAction::Login),
            ..Default::default()
        })
        .await
        .unwrap();
    let login = log
        .items
        .iter()
        .find(|e| e.description.contains("SSH"))
        .expect("SSH login audited");
    assert!(
        login.description.contains(&world.key.fingerprint),
        "{login:?}"
    );
    assert_eq!(login.actor.name, "superadmin");
    // The SSH client's address, not the front door's loopback one.
    assert_eq!(login.ip, ssh_support::CLIENT_ADDRESS);

    ssh.send("\x1b");
    ssh.wait_gone("no se volverá a mostrar");
    ssh.send("q");
    let status = ssh.wait_exit(Duration::from_secs(30)).expect("ssh exits");
    assert!(status.success(), "{status:?}");
    world.served.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resize_lays_the_screen_out_again() {
    let world = World::start(&[]).await;
    let mut ssh = world.console(&world.key);
    ssh.wait_for("Sara Súper ▾");
    let wide = ssh.text();
    let wide_line = wide.lines().next().unwrap().trim_end().len();
    ssh.resize(80, 24);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = ssh.text();
        let first = text.lines().next().unwrap_or("").trim_end();
        // The header's right end (the user menu) moved to column 80.
        if first.ends_with("(m)") && first.chars().count() <= 80 && first.len() < wide_line {
            break;
        }
        assert!(Instant::now() < deadline, "not re-laid:\n{text}");
        std::thread::sleep(Duration::from_millis(30));
    }
    ssh.kill();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_clients_locale_and_no_color_choose_the_look() {
    let world = World::start(&[]).await;
    let mut args = world.args(&world.key);
    // Sent as the client's own variables (OpenSSH's SetEnv), before the host.
    let host = args.pop().unwrap();
    args.extend(["-o".into(), "SetEnv=LANG=C NO_COLOR=1".into(), host]);
    let mut ssh = SshTerminal::open(&args, 120, 40);
    // ASCII borders and no accents under a C locale; no colour at all with NO_COLOR.
    let text = ssh.wait_for("Sara Super");
    assert!(!text.contains('┌') && !text.contains('ú'), "{text}");
    let bytes = String::from_utf8_lossy(&ssh.bytes()).into_owned();
    let coloured = (30..38)
        .chain(90..98)
        .map(|code| format!("\x1b[{code}m"))
        .chain(["\x1b[38;5;".to_string(), "\x1b[48;5;".to_string()])
        .find(|sgr| bytes.contains(sgr.as_str()));
    assert_eq!(coloured, None, "{bytes:?}");
    ssh.kill();
    // Without them, the same console is in Unicode.
    let mut ssh = world.console(&world.key);
    let text = ssh.wait_for("Sara Súper ▾");
    assert!(text.contains('┌'), "{text}");
    ssh.kill();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_key_gets_iniciar_sesion_and_a_password_works() {
    let world = World::start(&[]).await;
    let stranger = KeyFile::new(world.dir.path(), "stranger");
    let mut ssh = world.console(&stranger);
    ssh.wait_for("Iniciar sesión");
    ssh.type_text("superadmin");
    ssh.send("\t");
    ssh.type_text(PASSWORD);
    ssh.send("\r");
    ssh.wait_for("Sara Súper ▾");
    ssh.kill();

    // A command without a registered key gets no command line.
    let (out, err, status) = ssh_run(&world.args(&stranger), &["consumers", "list"]);
    assert_eq!(status, 1, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("clave registrada"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_require_key_an_unknown_key_is_refused() {
    let world = World::start(&["--ssh-require-key"]).await;
    let stranger = KeyFile::new(world.dir.path(), "stranger");
    let (_, err, status) = ssh_run(&world.args(&stranger), &["consumers", "list"]);
    assert_eq!(status, 255, "{err}");
    assert!(err.contains("Permission denied"), "{err}");
    let mut ssh = world.console(&stranger);
    let status = ssh.wait_exit(Duration::from_secs(30)).expect("refused");
    assert!(!status.success());
    assert!(!ssh.text().contains("Iniciar sesión"));
    // The registered key still gets in.
    let mut ssh = world.console(&world.key);
    ssh.wait_for("Sara Súper ▾");
    ssh.kill();
}

#[tokio::test(flavor = "multi_thread")]
async fn disabling_the_user_or_removing_the_key_ends_the_session_within_a_second() {
    let world = World::start(&[]).await;
    let admin_key = KeyFile::new(world.dir.path(), "ana");
    world
        .sup
        .create_user(&NewUser {
            username: "ana".into(),
            display_name: "Ana Admin".into(),
            password: PASSWORD.into(),
            role: Role::Admin,
        })
        .await
        .unwrap();
    let anonymous = Client::new(&world.served.url).unwrap();
    let ana = anonymous.with_token(anonymous.login("ana", PASSWORD).await.unwrap().token);
    let added = ana
        .add_my_ssh_key(&NewSshKey {
            name: "k".into(),
            public_key: admin_key.public.clone(),
        })
        .await
        .unwrap();
    let ana_id = ana.me().await.unwrap().id;

    let mut ssh = world.console(&admin_key);
    ssh.wait_for("Ana Admin ▾");
    // And a session without a key where Ana signed in with her password.
    let stranger = KeyFile::new(world.dir.path(), "stranger");
    let mut by_password = world.console(&stranger);
    by_password.wait_for("Iniciar sesión");
    by_password.type_text("ana");
    by_password.send("\t");
    by_password.type_text(PASSWORD);
    by_password.send("\r");
    by_password.wait_for("Ana Admin ▾");
    world
        .sup
        .update_user(
            ana_id,
            &UserPatch {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let disabled = Instant::now();
    let status = ssh.wait_exit(Duration::from_secs(1));
    assert!(
        status.is_some(),
        "still connected {:?} after the user was disabled",
        disabled.elapsed()
    );
    let left = Duration::from_secs(1).saturating_sub(disabled.elapsed());
    assert!(
        by_password.wait_exit(left).is_some(),
        "the password session still runs {:?} after",
        disabled.elapsed()
    );
    // The person is told why, on a screen left as it was.
    ssh.wait_written(0, "desactivado".as_bytes());
    ssh.wait_written(0, b"\x1b[?1049l");

    // Enabled again, and the key removed: the same.
    world
        .sup
        .update_user(
            ana_id,
            &UserPatch {
                disabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut ssh = world.console(&admin_key);
    ssh.wait_for("Ana Admin ▾");
    world
        .sup
        .delete_user_ssh_key(ana_id, added.id)
        .await
        .unwrap();
    let status = ssh.wait_exit(Duration::from_secs(1));
    assert!(
        status.is_some(),
        "still connected after the key was removed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_without_a_pty_runs_as_the_keys_user() {
    let world = World::start(&[]).await;
    let g = group(&world.sup, "Integraciones").await;
    world
        .sup
        .create_consumer(&common::new_consumer("Portal", g.id))
        .await
        .unwrap();
    let (out, err, status) = ssh_run(
        &world.args(&world.key),
        &["consumers", "list", "-o", "json"],
    );
    assert_eq!(status, 0, "{err}");
    let listed: Vec<Consumer> = serde_json::from_str(&out).expect(&out);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "Portal");

    // A failing command says why on stderr, with its status.
    let (_, err, status) = ssh_run(&world.args(&world.key), &["consumers", "get", "nadie"]);
    assert_eq!(status, 1, "{err}");
    assert!(err.starts_with("consola: "), "{err}");
    // A usage error is 2, and what acts on the server is refused.
    let (_, err, status) = ssh_run(&world.args(&world.key), &["consumers", "bailar"]);
    assert_eq!(status, 2, "{err}");
    let (_, err, status) = ssh_run(&world.args(&world.key), &["serve"]);
    assert_eq!(status, 2, "{err}");
    assert!(err.contains("servidor mismo"), "{err}");
    // The keys noun, as the key's user; a file of the server is not read for anyone.
    let (out, err, status) = ssh_run(&world.args(&world.key), &["ssh-keys", "list", "-o", "json"]);
    assert_eq!(status, 0, "{err}");
    assert!(out.contains(&world.key.fingerprint), "{out}");
    let (_, err, status) = ssh_run(
        &world.args(&world.key),
        &[
            "ssh-keys",
            "create",
            "--name",
            "x",
            "--public-key-file",
            "/etc/passwd",
        ],
    );
    assert_eq!(status, 2, "{err}");
    assert!(err.contains("--public-key"), "{err}");
    // The words are never given to a shell.
    let (_, err, status) = ssh_run(&world.args(&world.key), &["consumers list; touch /tmp/x"]);
    assert_ne!(status, 0, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_host_key_persists_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = Served::start(&data, &[]);
    let fingerprint = first.fingerprint.clone();
    assert!(fingerprint.starts_with("SHA256:"), "{fingerprint}");
    first.stop();
    let again = Served::start(&data, &[]);
    assert_eq!(again.fingerprint, fingerprint);
    // On PostgreSQL the key lives in the database (sealed), not in a file.
    if common::database::postgres().is_some() {
        assert!(!data.join(consola::ssh::host_key::FILE_NAME).exists());
        return;
    }
    // And it is the key the server shows: ssh-keygen reads the file and agrees.
    let output = std::process::Command::new("ssh-keygen")
        .arg("-lf")
        .arg(data.join(consola::ssh::host_key::FILE_NAME))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(&fingerprint),
        "{output:?}"
    );
}
