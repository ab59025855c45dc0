//! End to end: the real binary in a pseudo-terminal, typed at like a person, with the screen
//! read through a terminal emulator. Waits are for text on the screen, with a deadline.

use base64::Engine;
use consola::client::Client;
use consola::domain::*;
use portable_pty::{CommandBuilder, MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PASSWORD: &str = "contraseña-segura-1";

struct Console {
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<vt100::Parser>>,
    bytes: Arc<Mutex<Vec<u8>>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    /// Kept open for as long as the child lives; also reads the pty's termios.
    master: Box<dyn MasterPty + Send>,
    _dir: tempfile::TempDir,
}

impl Console {
    fn start() -> Console {
        Console::start_with(&[])
    }

    fn start_with(env: &[(&str, &str)]) -> Console {
        Console::start_full(env, None)
    }

    /// With `config` as the user's configuration file (found in its default place).
    fn start_configured(config: &str) -> Console {
        Console::start_full(&[], Some(config))
    }

    fn start_full(env: &[(&str, &str)], config: Option<&str>) -> Console {
        let dir = tempfile::tempdir().expect("temp dir");
        // The user's configuration directory is the test's own: empty unless `config`.
        let config_home = dir.path().join("config");
        if let Some(text) = config {
            std::fs::create_dir_all(config_home.join("consola")).expect("config dir");
            std::fs::write(config_home.join("consola").join("config.toml"), text)
                .expect("config file");
        }
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("pty");
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_consola"));
        command.arg("--data-dir");
        command.arg(dir.path());
        command.env("TERM", "xterm-256color");
        command.env("XDG_CONFIG_HOME", &config_home);
        // The remembered username stays in the test's own directory.
        command.env("XDG_STATE_HOME", &config_home);
        for var in [
            "DISPLAY",
            "WAYLAND_DISPLAY",
            // Copies go through tmux or screen when the test runs inside one.
            "TMUX",
            "STY",
            "CONSOLA_SERVER",
            "CONSOLA_LANG",
            "CONSOLA_PORT",
            "CONSOLA_CONFIG",
        ] {
            command.env_remove(var);
        }
        for (key, value) in env {
            command.env(key, value);
        }
        let child = pty.slave.spawn_command(command).expect("spawn consola");
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let writer = pty.master.take_writer().expect("writer");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(40, 120, 0)));
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let (s, b) = (screen.clone(), bytes.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s.lock().expect("screen").process(&buf[..n]);
                b.lock().expect("bytes").extend_from_slice(&buf[..n]);
            }
        });
        Console {
            writer,
            screen,
            bytes,
            child,
            master: pty.master,
            _dir: dir,
        }
    }

    fn text(&self) -> String {
        self.screen.lock().expect("screen").screen().contents()
    }

    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}; screen:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    fn wait_gone(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.text().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?} to go"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "consola did not exit:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).expect("write");
        self.writer.flush().expect("flush");
    }

    /// How many bytes the program has written so far.
    fn written(&self) -> usize {
        self.bytes.lock().expect("bytes").len()
    }

    /// What the program wrote from byte `from` on, once it contains `needle`.
    fn wait_written(&self, from: usize, needle: &[u8]) -> Vec<u8> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let tail = self.bytes.lock().expect("bytes")[from..].to_vec();
            if find(&tail, needle).is_some() {
                return tail;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {:?} in the output",
                String::from_utf8_lossy(needle)
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Waits until the program has written nothing for `quiet` in a row.
    fn wait_quiet(&self, quiet: Duration) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = self.written();
        let mut since = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(30));
            let now = self.written();
            if now != seen {
                (seen, since) = (now, Instant::now());
            } else if since.elapsed() >= quiet {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the console never went quiet:\n{}",
                self.text()
            );
        }
    }

    /// The pty's line discipline is canonical with echo, i.e. not in raw mode.
    fn cooked(&self) -> bool {
        let termios = self.master.get_termios().expect("termios of the pty");
        // By flag name, from the flags' Debug form: no platform constants hard-coded here.
        let flags = format!("{:?}", termios.local_flags);
        let names: Vec<&str> = flags
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .collect();
        names.contains(&"ICANON") && names.contains(&"ECHO")
    }

    fn signal(&self, name: &str) {
        let pid = self.child.process_id().expect("pid");
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} {pid} failed");
    }

    /// Types like a person: one key at a time.
    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.send(&c.to_string());
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn api_url(&self) -> String {
        let text = self.wait_for("API http://");
        let start = text.find("API http://").expect("api url") + 4;
        text[start..]
            .split_whitespace()
            .next()
            .expect("url")
            .to_string()
    }

    /// First run, which signs the new Súper Administrador in; returns a signed-in client of
    /// the same server.
    async fn setup_and_login(&mut self) -> Client {
        self.wait_for("Configuración inicial");
        self.type_text("FRACTTAL - Activación\tadmin\tAdministradora\t");
        self.type_text(PASSWORD);
        self.send("\t");
        self.type_text(PASSWORD);
        self.send("\r");
        // No third time: the console signs in with the password just chosen.
        self.wait_for("Administradora ▾");
        let client = Client::new(&self.api_url()).expect("client");
        let login = client.login("admin", PASSWORD).await.expect("api login");
        client.with_token(login.token)
    }

    fn open_consumers(&mut self) {
        self.send("m");
        self.wait_for("Cerrar sesión");
        self.send("\r");
        self.wait_for("Portal de Invitados");
        for _ in 0..9 {
            self.send("j");
        }
        self.send("\r");
        self.wait_for("CONEXIÓN API");
        self.send("\x1b[C");
        self.wait_for("Consumidores OAuth (");
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
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
        .expect("group")
}

#[tokio::test(flavor = "multi_thread")]
async fn create_a_consumer_and_copy_its_clave() {
    let mut console = Console::start();
    let client = console.setup_and_login().await;
    let group = group(&client, "Integraciones").await;
    console.open_consumers();
    console.send("+");
    console.wait_for("Nuevo(a) Cliente OAuth");
    console.wait_for("◀ Integraciones ▶");
    console.send("\x1b[C"); // Código de autorización
    console.send("\t");
    console.type_text("ERP Central");
    console.send("\t");
    console.type_text("Integración con el ERP");
    console.send("\t\t "); // group (the only one), then the hub checkbox
    console.send("\t\x1b[C"); // JWT
    console.wait_for("Algoritmo de firma");
    console.send("\t\x1b[C\x1b[C\t"); // RS256, then the redirect URL
    console.type_text("https://erp.example.com/cb");
    console.send("\x13"); // Ctrl+S
    console.wait_for("no se volverá a mostrar");

    let page = client
        .consumers(&ConsumerQuery::default())
        .await
        .expect("list");
    let consumer = page
        .items
        .iter()
        .find(|c| c.name == "ERP Central")
        .expect("created");
    assert_eq!(consumer.permission_group_id, group.id);
    assert!(consumer.hub_enabled);
    assert_eq!(consumer.token_format, TokenFormat::Jwt);
    assert_eq!(consumer.access_token_alg, AccessTokenAlg::RS256);
    assert_eq!(consumer.grant_type, GrantType::AuthorizationCode);
    assert_eq!(consumer.description, "Integración con el ERP");
    assert!(console.text().contains(&consumer.client_id));

    console.send("c");
    console.wait_for("Copiado: Clave (OSC 52)");
    let encoded = base64::engine::general_purpose::STANDARD.encode(&consumer.client_id);
    let osc = format!("\x1b]52;c;{encoded}\x1b\\");
    let written = console.bytes.lock().expect("bytes").clone();
    assert!(
        written.windows(osc.len()).any(|w| w == osc.as_bytes()),
        "no OSC 52 with the Clave"
    );

    console.send("\x1b");
    console.wait_gone("no se volverá a mostrar");
    console.send("q");
    let status = console.wait_exit();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_name_keeps_the_modal_and_the_typing() {
    let mut console = Console::start();
    let client = console.setup_and_login().await;
    let group = group(&client, "Integraciones").await;
    client
        .create_consumer(&NewConsumer {
            name: "ERP Central".into(),
            description: String::new(),
            grant_type: GrantType::ClientCredentials,
            permission_group_id: group.id,
            hub_enabled: false,
            redirect_uris: vec![],
            token_format: TokenFormat::Opaque,
            access_token_alg: Default::default(),
            auth_method: Default::default(),
            jwks: None,
            jwks_uri: None,
            require_dpop: false,
        })
        .await
        .expect("first consumer");
    console.open_consumers();
    console.send("+");
    console.wait_for("◀ Integraciones ▶");
    console.send("\t");
    console.type_text("ERP Central");
    console.send("\t");
    console.type_text("otra descripción");
    console.send("\x13");
    let text = console.wait_for("⚠");
    assert!(
        text.contains("Nuevo(a) Cliente OAuth"),
        "modal closed:\n{text}"
    );
    let lines: Vec<&str> = text.lines().collect();
    let name_row = lines
        .iter()
        .position(|l| l.contains("Nombre") && l.contains("ERP Central"))
        .expect("Nombre keeps its value");
    assert!(
        lines[name_row + 1].contains('⚠'),
        "error not beside Nombre:\n{text}"
    );
    assert!(text.contains("otra descripción"));
}

#[tokio::test(flavor = "multi_thread")]
async fn escape_sequences_are_shown_harmlessly() {
    let mut console = Console::start();
    let _client = console.setup_and_login().await;
    console.open_consumers();
    console.send("+");
    console.wait_for("Nuevo(a) Cliente OAuth");
    console.send("\t");
    // A paste carrying escape sequences (clear screen, set title, red).
    console.send("\x1b[200~Malo\x1b[2J\x1b]0;titulo\x07\x1b[31mRojo\x1b[201~");
    let text = console.wait_for("Malo␛[2J␛]0;titulo␇␛[31mRojo");
    assert!(
        text.contains("Nuevo(a) Cliente OAuth"),
        "the screen was not cleared"
    );
    assert!(
        text.contains("FRACTTAL - Activación"),
        "the header survived"
    );
    let written = console.bytes.lock().expect("bytes").clone();
    let raw = String::from_utf8_lossy(&written);
    assert!(
        !raw.contains("\x1b]0;titulo"),
        "the title sequence reached the terminal"
    );
    assert!(
        !raw.contains("\x1b[31mRojo"),
        "the color sequence reached the terminal"
    );
}

/// A client registers itself over HTTP while the policy asks for approval; the Súper
/// Administrador finds it pending on top of Consumidores OAuth, approves it with the keyboard
/// into another group than the one proposed, and the API says it is approved there.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_registered_itself_is_approved_with_the_keyboard() {
    let mut console = Console::start();
    let client = console.setup_and_login().await;
    let agents = group(&client, "Agentes").await;
    let proposed = group(&client, "Integraciones").await;
    client
        .set_registration_settings(&consola::domain::registration::RegistrationPatch {
            policy: RegistrationPolicy::Approval,
            group_id: Some(proposed.id),
        })
        .await
        .expect("the policy");
    let registered = reqwest::Client::new()
        .post(format!("{}/oauth/register", console.api_url()))
        .json(&serde_json::json!({
            "client_name": "Agente MCP",
            "redirect_uris": ["http://127.0.0.1:9/cb"],
            "token_endpoint_auth_method": "none",
        }))
        .send()
        .await
        .expect("register");
    assert_eq!(registered.status(), 201);
    let information: serde_json::Value = registered.json().await.expect("client information");
    assert_eq!(information["approval"], "pending");
    let client_id = information["client_id"]
        .as_str()
        .expect("client_id")
        .to_string();
    // A client made in the console, so that "on top" means something.
    client
        .create_consumer(&NewConsumer {
            name: "ERP Central".into(),
            description: String::new(),
            grant_type: GrantType::ClientCredentials,
            permission_group_id: proposed.id,
            hub_enabled: false,
            redirect_uris: vec![],
            token_format: TokenFormat::Opaque,
            access_token_alg: Default::default(),
            auth_method: Default::default(),
            jwks: None,
            jwks_uri: None,
            require_dpop: false,
        })
        .await
        .expect("a consumer");

    console.open_consumers();
    console.wait_for("Registro de clientes: Con aprobación");
    let text = console.wait_for("Pendiente");
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.contains("Nombre") && l.contains("Estado"))
        .expect("the table's header");
    assert!(
        lines[header + 1].contains("Agente MCP") && lines[header + 1].contains("Pendiente"),
        "not on top:\n{text}"
    );
    assert!(lines[header + 2].contains("ERP Central"), "{text}");
    assert!(
        text.contains("a  Aprobar") && text.contains("x  Rechazar"),
        "{text}"
    );

    console.send("a");
    console.wait_for("Aprobar cliente");
    console.wait_for("127.0.0.1");
    // The policy's group is proposed; ← picks the other one.
    console.wait_for("◀ Integraciones ▶");
    console.send("\x1b[D");
    console.wait_for("◀ Agentes ▶");
    console.send("\x13"); // Ctrl+S: Aprobar
    console.wait_for("aprobado en el grupo «Agentes»");

    let page = client
        .consumers(&ConsumerQuery::default())
        .await
        .expect("list");
    let approved = page
        .items
        .iter()
        .find(|c| c.client_id == client_id)
        .expect("the registered client");
    assert_eq!(approved.approval, Approval::Approved);
    assert_eq!(approved.permission_group_id, agents.id);
    assert!(
        client
            .pending_consumers()
            .await
            .expect("pending")
            .is_empty()
    );
    // The table caught up: nothing waits any more.
    console.wait_gone("Pendiente");
    console.send("q");
    assert!(console.wait_exit().success());
}

const LEAVE_ALTERNATE_SCREEN: &[u8] = b"\x1b[?1049l";
const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

/// A signal while the console is up: it quits cleanly and leaves the terminal as it found it.
fn restored_after_signal(name: &str) {
    let mut console = Console::start();
    console.wait_for("Configuración inicial");
    assert!(!console.cooked(), "the console never entered raw mode");
    let from = console.written();
    console.signal(name);
    let status = console.wait_exit();
    assert!(status.success(), "SIG{name} is a clean quit: {status:?}");
    let tail = console.wait_written(from, LEAVE_ALTERNATE_SCREEN);
    let tail = if find(&tail, SHOW_CURSOR).is_some() {
        tail
    } else {
        console.wait_written(from, SHOW_CURSOR)
    };
    assert!(find(&tail, SHOW_CURSOR).is_some(), "cursor not shown");
    assert!(console.cooked(), "raw mode left on after SIG{name}");
}

#[test]
fn sighup_restores_the_terminal() {
    restored_after_signal("HUP");
}

#[test]
fn sigterm_restores_the_terminal() {
    restored_after_signal("TERM");
}

/// `CONSOLA_TEST_PANIC=1` makes the console panic right after its first frame (a hook in
/// `tui::app`, for this test only). The panic hook restores the terminal before the report,
/// so the report lands on the normal screen, and the report carries no secret.
#[test]
fn panic_restores_the_terminal_and_reports_no_secret() {
    let mut console = Console::start_with(&[("CONSOLA_TEST_PANIC", "1")]);
    let status = console.wait_exit();
    assert!(!status.success(), "a panic is a failure exit");
    console.wait_written(0, b"forced panic");
    // Everything written so far (a superset of what the wait above saw).
    let written = console.wait_written(0, SHOW_CURSOR);
    let entered = find(&written, b"\x1b[?1049h").expect("the console drew");
    let left = find(&written[entered..], LEAVE_ALTERNATE_SCREEN)
        .map(|at| at + entered)
        .expect("alternate screen left");
    let report = find(&written, b"forced panic").expect("the panic is reported");
    assert!(
        left < report,
        "the report was written inside the alternate screen"
    );
    assert!(
        rfind(&written, SHOW_CURSOR).is_some_and(|at| at > entered),
        "cursor not shown"
    );
    assert!(console.cooked(), "raw mode left on after the panic");
    let text = String::from_utf8_lossy(&written[left..]);
    for secret_prefix in ["consola_st_", "consola_cs_", "consola_ak_"] {
        assert!(
            !text.contains(secret_prefix),
            "a secret in the panic output"
        );
    }
}

/// Sitting still at the login screen and at the consumer table (no spinner, no toast), the
/// console writes nothing: it redraws only when something changed.
#[tokio::test(flavor = "multi_thread")]
async fn an_idle_console_writes_nothing() {
    const WINDOW: Duration = Duration::from_secs(5);
    let mut console = Console::start();
    console.wait_for("Configuración inicial");
    console.type_text("FRACTTAL - Activación\tadmin\tAdministradora\t");
    console.type_text(PASSWORD);
    console.send("\t");
    console.type_text(PASSWORD);
    console.send("\r");
    console.wait_for("Cuenta creada");
    console.wait_gone("Cuenta creada");
    // Quiet for a moment first: a redraw loop faster than this never gets past here.
    console.wait_quiet(Duration::from_millis(500));
    let before = console.written();
    std::thread::sleep(WINDOW); // the measurement window itself, not a wait for an event
    let idle = console.written() - before;
    assert_eq!(idle, 0, "the login screen redrew while idle");

    console.type_text(PASSWORD);
    console.send("\r");
    console.wait_for("Administradora ▾");
    console.open_consumers();
    console.wait_quiet(Duration::from_millis(500));
    assert!(
        !SPINNER.iter().any(|s| console.text().contains(s)),
        "a request is still in flight"
    );
    let before = console.written();
    std::thread::sleep(WINDOW);
    let idle = console.written() - before;
    assert_eq!(idle, 0, "the consumer table redrew while idle");
    console.send("q");
    assert!(console.wait_exit().success());
}

const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

/// The user's configuration file sets the language and the embedded server's port; the
/// status bar shows the URL to try the credentials with.
#[test]
fn the_config_file_sets_the_language_and_the_port() {
    let port = port_no_one_is_handed();
    let mut console = Console::start_configured(&format!("lang = \"en\"\nport = {port}\n"));
    console.wait_for("Initial setup");
    console.wait_for(&format!("API http://127.0.0.1:{port}"));
    console.send("\x03");
    console.wait_exit();
}

/// A free port below the kernel's ephemeral range. Every other listener of the tests binds
/// port 0 and so gets one inside that range: none can take this one between the moment it
/// is found free and the moment the console binds it.
fn port_no_one_is_handed() -> u16 {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .unwrap_or_else(|_| "32768 60999".into());
    let low: u16 = range
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(32768);
    // Spread over the range below it, so that runs side by side start far apart.
    let start = 10_000 + (std::process::id() % 10_000) as u16;
    (start..low)
        .chain(10_000..start)
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free port below the ephemeral range")
}
