//! The real binary under terminal multiplexers and in pairs: tmux is the pseudo-terminal
//! (each test has its own private server sockets), the screen is read with `capture-pane`,
//! keys go in with `send-keys`. Waits are for text on the screen, with a deadline.

use consola::client::Client;
use consola::domain::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const PASSWORD: &str = "contraseña-segura-1";
const DEADLINE: Duration = Duration::from_secs(60);

/// One tmux server on a private socket.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn new(socket: PathBuf) -> Tmux {
        Tmux { socket }
    }

    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        // No user configuration: tmux's defaults, except what a test sets.
        command
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null");
        command.env_remove("TMUX");
        command
    }

    fn run(&self, args: &[&str]) -> String {
        let output = self.command().args(args).output().expect("run tmux");
        assert!(
            output.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn screen(&self, target: &str) -> String {
        self.run(&["capture-pane", "-p", "-t", target])
    }

    fn wait_for(&self, target: &str, needle: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let text = self.screen(target);
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}; screen:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Keys by tmux name (`Enter`, `Tab`, `Right`, `C-s`).
    fn keys(&self, target: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", target];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Text typed as is.
    fn type_text(&self, target: &str, text: &str) {
        self.run(&["send-keys", "-t", target, "-l", text]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
    }
}

/// Single-quoted for `sh`.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The shell command that runs the console on `data_dir`, in a clean environment of its own
/// (configuration and state in `home`, no display, no inherited console settings).
fn console_command(data_dir: &Path, home: &Path) -> String {
    console_command_with(data_dir, home, &[])
}

fn console_command_with(data_dir: &Path, home: &Path, args: &[&str]) -> String {
    let mut parts = vec!["env".to_string()];
    for var in [
        "DISPLAY",
        "WAYLAND_DISPLAY",
        "STY",
        "CONSOLA_SERVER",
        "CONSOLA_LANG",
        "CONSOLA_PORT",
        "CONSOLA_CONFIG",
        "NO_COLOR",
    ] {
        parts.push(format!("-u {var}"));
    }
    let home = home.display().to_string();
    parts.push(format!("XDG_CONFIG_HOME={}", quote(&home)));
    parts.push(format!("XDG_STATE_HOME={}", quote(&home)));
    parts.push("LANG=C.UTF-8".into());
    parts.push(quote(env!("CARGO_BIN_EXE_consola")));
    parts.push("--data-dir".into());
    parts.push(quote(&data_dir.display().to_string()));
    parts.extend(args.iter().map(|a| quote(a)));
    parts.join(" ")
}

/// First run through the keyboard; returns a signed-in client of the console's server.
async fn setup_and_login(tmux: &Tmux, target: &str) -> Client {
    tmux.wait_for(target, "Configuración inicial");
    tmux.type_text(target, "FRACTTAL - Activación\tadmin\tAdministradora\t");
    tmux.type_text(target, PASSWORD);
    tmux.type_text(target, "\t");
    tmux.type_text(target, PASSWORD);
    tmux.keys(target, &["Enter"]);
    let text = tmux.wait_for(target, "Administradora ▾");
    let start = text.find("API http://").expect("api url") + 4;
    let url = text[start..].split_whitespace().next().expect("url");
    let client = Client::new(url).expect("client");
    let login = client.login("admin", PASSWORD).await.expect("api login");
    client.with_token(login.token)
}

async fn a_group(client: &Client) -> PermissionGroup {
    client
        .create_permission_group(&NewPermissionGroup {
            name: "Integraciones".into(),
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

async fn a_consumer(client: &Client) -> Consumer {
    let group = a_group(client).await;
    client
        .create_consumer(&NewConsumer {
            name: "ERP Central".into(),
            description: String::new(),
            grant_type: GrantType::ClientCredentials,
            permission_group_id: group.id,
            hub_enabled: false,
            redirect_uris: vec![],
            token_format: TokenFormat::Opaque,
            access_token_alg: AccessTokenAlg::EdDSA,
            auth_method: Default::default(),
            jwks: None,
            jwks_uri: None,
            require_dpop: false,
        })
        .await
        .expect("consumer")
        .consumer
}

fn open_consumers(tmux: &Tmux, target: &str) {
    tmux.keys(target, &["m"]);
    tmux.wait_for(target, "Cerrar sesión");
    tmux.keys(target, &["Enter"]);
    tmux.wait_for(target, "Portal de Invitados");
    for _ in 0..9 {
        tmux.keys(target, &["j"]);
    }
    tmux.keys(target, &["Enter"]);
    tmux.wait_for(target, "CONEXIÓN API");
    tmux.keys(target, &["Right"]);
    tmux.wait_for(target, "Consumidores OAuth (");
}

/// The console in a tmux with default settings (which drops an application's OSC 52), inside
/// an outer tmux standing in for the admin's terminal (`set-clipboard on`, an xterm): `c`
/// hands the Clave to the inner tmux, which sends it on, and it lands in the outer buffer.
#[tokio::test(flavor = "multi_thread")]
async fn copy_inside_tmux_reaches_the_outer_terminal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let outer = Tmux::new(dir.path().join("outer.sock"));
    let inner = Tmux::new(dir.path().join("inner.sock"));
    let data = dir.path().join("data");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let inner_command = format!(
        "env -u TMUX tmux -S {} -f /dev/null new-session -s inner {}",
        quote(&inner.socket.display().to_string()),
        quote(&console_command(&data, &home)),
    );
    outer.run(&[
        "start-server",
        ";",
        "set-option",
        "-g",
        "default-terminal",
        "xterm-256color",
        ";",
        "set-option",
        "-g",
        "set-clipboard",
        "on",
        ";",
        "new-session",
        "-d",
        "-s",
        "outer",
        "-x",
        "120",
        "-y",
        "40",
        &inner_command,
    ]);
    let client = setup_and_login(&outer, "outer").await;
    let consumer = a_consumer(&client).await;
    open_consumers(&outer, "outer");
    outer.wait_for("outer", "ERP Central");
    outer.keys("outer", &["c"]);
    outer.wait_for("outer", "Copiado: Clave (OSC 52 vía tmux)");
    // Without --mouse the console leaves the mouse to the terminal.
    assert_eq!(
        inner
            .run(&["display-message", "-p", "-t", "inner", "#{mouse_any_flag}"])
            .trim(),
        "0"
    );
    // The inner tmux kept it, and the outer one got it from the inner's OSC 52.
    assert_eq!(inner.run(&["show-buffer"]), consumer.client_id);
    let deadline = Instant::now() + DEADLINE;
    loop {
        let buffer = outer
            .command()
            .arg("show-buffer")
            .output()
            .expect("show-buffer");
        if String::from_utf8_lossy(&buffer.stdout) == consumer.client_id {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the Clave never reached the outer tmux; its buffer: {:?}",
            String::from_utf8_lossy(&buffer.stdout)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    outer.keys("outer", &["q"]);
}

/// A public Ed25519 key (RFC 8037 §A.2) in a JWKS file, as an admin pastes it.
const JWKS: &str = "{\n  \"keys\": [\n    {\n      \"kty\": \"OKP\",\n      \"crv\": \"Ed25519\",\n      \"x\": \"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"\n    }\n  ]\n}\n";
/// Its RFC 7638 thumbprint.
const THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

/// In tmux at 80×24, a consumer with a key pair is made through the "+" modal: Método de
/// autenticación set to Clave privada (JWT), its JWKS file pasted (bracketed, several
/// lines), Ctrl+S. The credentials show the key's thumbprint and no Secreto, and the table
/// refuses to rotate a secret it does not have.
#[tokio::test(flavor = "multi_thread")]
async fn a_private_key_consumer_is_made_by_pasting_its_jwks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tmux = Tmux::new(dir.path().join("tmux.sock"));
    let data = dir.path().join("data");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "console",
        "-x",
        "80",
        "-y",
        "24",
        &console_command(&data, &home),
    ]);
    let client = setup_and_login(&tmux, "console").await;
    a_group(&client).await;
    open_consumers(&tmux, "console");
    tmux.keys("console", &["+"]);
    tmux.wait_for("console", "◀ Integraciones ▶");
    tmux.keys("console", &["Tab"]);
    tmux.type_text("console", "Sensores IoT");
    // Descripción, Grupo de Permisos, Fracttal Hub, Formato del token, then the method.
    tmux.keys("console", &["Tab", "Tab", "Tab", "Tab", "Tab"]);
    tmux.wait_for("console", "◀ Secreto ▶");
    tmux.keys("console", &["Right"]);
    tmux.wait_for("console", "◀ Clave privada (JWT) ▶");
    tmux.wait_for("console", "nunca la clave privada");
    tmux.keys("console", &["Tab"]);
    tmux.run(&["set-buffer", "-b", "jwks", JWKS]);
    tmux.run(&["paste-buffer", "-p", "-d", "-b", "jwks", "-t", "console"]);
    tmux.wait_for("console", "HURo");
    tmux.keys("console", &["C-s"]);
    let screen = tmux.wait_for("console", THUMBPRINT);
    assert!(!screen.contains("Secreto"), "{screen}");
    assert!(!screen.contains("no se volverá a mostrar"), "{screen}");

    let page = client
        .consumers(&ConsumerQuery::default())
        .await
        .expect("list");
    let consumer = page
        .items
        .iter()
        .find(|c| c.name == "Sensores IoT")
        .expect("created");
    assert_eq!(consumer.auth_method, AuthMethod::PrivateKeyJwt);
    let keys = consumer.jwks.as_ref().expect("its keys");
    assert_eq!(keys.keys().len(), 1);
    assert_eq!(keys.keys()[0].thumbprint, THUMBPRINT);
    assert_eq!(consumer.secret_last_four, "");
    assert!(screen.contains(&consumer.client_id), "{screen}");

    tmux.keys("console", &["Escape"]);
    tmux.wait_for("console", "Consumidores OAuth (1/1)");
    tmux.keys("console", &["r"]);
    tmux.wait_for("console", "no tiene Secreto");
    tmux.keys("console", &["q"]);
}

/// `--mouse`: the console asks the terminal for the mouse, and a click on the sidebar opens
/// the section under it (sent as the terminal would: an SGR mouse report).
#[tokio::test(flavor = "multi_thread")]
async fn with_mouse_a_click_opens_a_section() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tmux = Tmux::new(dir.path().join("tmux.sock"));
    let data = dir.path().join("data");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "console",
        "-x",
        "120",
        "-y",
        "40",
        &console_command_with(&data, &home, &["--mouse"]),
    ]);
    setup_and_login(&tmux, "console").await;
    let flag = tmux.run(&[
        "display-message",
        "-p",
        "-t",
        "console",
        "#{mouse_any_flag}",
    ]);
    assert_eq!(flag.trim(), "1", "the console asked for the mouse");
    tmux.keys("console", &["m"]);
    tmux.wait_for("console", "Cerrar sesión");
    tmux.keys("console", &["Enter"]);
    let screen = tmux.wait_for("console", "Portal de Invitados");
    let (x, y) = screen
        .lines()
        .enumerate()
        .find_map(|(y, line)| {
            line.find("Seguridad")
                .map(|byte| (line[..byte].chars().count(), y))
        })
        .expect("Seguridad in the sidebar");
    // Press and release of the left button, 1-based cells.
    let report = format!("\x1b[<0;{};{}M\x1b[<0;{};{}m", x + 1, y + 1, x + 1, y + 1);
    let hex: Vec<String> = report.bytes().map(|b| format!("{b:02x}")).collect();
    let mut args = vec!["send-keys", "-t", "console", "-H"];
    args.extend(hex.iter().map(String::as_str));
    tmux.run(&args);
    tmux.wait_for("console", "Claves de firma");
    tmux.keys("console", &["q"]);
}

/// A port nobody listens on right now (the console binds it itself).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// DESIGN §4, one data directory, one server: a second console attaches to the first's
/// server; when the first quits, the second takes over serving, on the same URL, and keeps
/// working with what was typed in it.
#[tokio::test(flavor = "multi_thread")]
async fn when_the_serving_console_quits_the_attached_one_takes_over() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tmux = Tmux::new(dir.path().join("tmux.sock"));
    let data = dir.path().join("data");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let port = free_port().to_string();
    let command = console_command_with(&data, &home, &["--port", &port]);
    let session = |name: &str| {
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            "120",
            "-y",
            "40",
            &command,
        ]);
    };
    session("first");
    let client = setup_and_login(&tmux, "first").await;
    let first = consola::server::instance::holder(&data, Duration::from_secs(5))
        .expect("holder")
        .expect("the first console serves");
    assert!(first.url.ends_with(&format!(":{port}")), "{first:?}");

    session("second");
    tmux.wait_for("second", &format!("API {}", first.url));
    tmux.wait_for("second", "Iniciar sesión");
    tmux.type_text("second", PASSWORD);
    tmux.keys("second", &["Enter"]);
    tmux.wait_for("second", "Administradora ▾");
    tmux.keys("second", &["m"]);
    tmux.wait_for("second", "Cerrar sesión");
    tmux.keys("second", &["Enter"]);
    tmux.wait_for("second", "Portal de Invitados");
    tmux.keys("second", &["j", "Enter"]);
    tmux.wait_for("second", "Usuarios │ Permisos");
    tmux.keys("second", &["+"]);
    tmux.wait_for("second", "Nuevo usuario");
    tmux.type_text("second", "beto\tBeto Díaz\t");

    // The serving console quits; its session ends with it.
    tmux.keys("first", &["q"]);
    let deadline = Instant::now() + DEADLINE;
    while tmux
        .command()
        .args(["has-session", "-t", "first"])
        .output()
        .expect("tmux")
        .status
        .success()
    {
        assert!(Instant::now() < deadline, "the first console did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The second one serves now, on the same URL.
    let deadline = Instant::now() + DEADLINE;
    let second = loop {
        if let Ok(Some(holder)) = consola::server::instance::holder(&data, Duration::from_secs(1))
            && holder.pid != first.pid
        {
            break holder;
        }
        assert!(Instant::now() < deadline, "nobody took over");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(second.url, first.url);

    // What was typed is still there, and saving it works against the new server (the
    // session lives in the database).
    let screen = tmux.wait_for("second", "Beto Díaz");
    assert!(screen.contains("beto"), "{screen}");
    tmux.type_text("second", "otra-contraseña-2");
    tmux.keys("second", &["C-s"]);
    tmux.wait_for("second", "Usuario guardado");
    let users = client.users().await.expect("users from the new server");
    assert!(
        users
            .iter()
            .any(|u| u.username == "beto" && u.display_name == "Beto Díaz")
    );
    tmux.keys("second", &["q"]);
}
