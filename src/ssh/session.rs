//! One SSH session channel: the console, on its own `App` over the channel, or one command
//! of the command line. Whatever way it ends (the user quits, the link drops, the session
//! idles out, the user is disabled or the key removed, the server stops), its tasks end
//! with it and its console session is signed out.

use super::terminal::{InputParser, Output, PtySize, SessionBackend};
use super::{Shared, register};
use crate::cli::Streams;
use crate::cli::remote::{self, Parsed};
use crate::service::SshLogin;
use crate::terminal::Lang;
use crate::tui::app::{App, Pace};
use crate::tui::clipboard::Clipboard;
use crate::tui::state::State;
use crossterm::event::Event;
use russh::server::Msg;
use russh::{Channel, ChannelMsg, ChannelReadHalf, ChannelWriteHalf};
use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Who the connection signed in as.
pub(super) enum Identity {
    /// A registered key's user, signed in already.
    Key(Box<SshLogin>),
    /// Nobody yet: the console asks (*Iniciar sesión*); no command line.
    Anonymous,
}

/// What a session channel knows of its connection.
pub(super) struct Connection {
    pub shared: Arc<Shared>,
    pub peer: IpAddr,
    pub identity: Identity,
    /// Where the connection stands under the caps: it moves to the sessions' when the
    /// console signs somebody in.
    pub place: super::admission::Place,
}

/// What the client asked for before starting.
#[derive(Default)]
struct Request {
    pty: Option<(String, u32, u32)>,
    env: HashMap<String, String>,
}

/// Variables kept from a client, at most.
const MAX_ENV: usize = 64;

pub(super) async fn serve(channel: Channel<Msg>, connection: Connection) {
    let (mut read, write) = channel.split();
    let mut request = Request::default();
    let start = loop {
        match read.wait().await {
            Some(ChannelMsg::RequestPty {
                term,
                col_width,
                row_height,
                ..
            }) => request.pty = Some((term, col_width, row_height)),
            Some(ChannelMsg::SetEnv {
                variable_name,
                variable_value,
                ..
            }) => {
                if request.env.len() < MAX_ENV {
                    request.env.insert(variable_name, variable_value);
                }
            }
            Some(ChannelMsg::RequestShell { .. }) => break None,
            Some(ChannelMsg::Exec { command, .. }) => break Some(command),
            Some(ChannelMsg::Eof | ChannelMsg::Close) | None => return,
            Some(_) => {}
        }
    };
    let status = match start {
        Some(command) => run_command(&write, &command, &connection).await,
        None => match request.pty.take() {
            Some(pty) => console(read, &write, pty, &request.env, connection).await,
            None => {
                let _ = write
                    .extended_data(
                        1,
                        &b"consola: la consola necesita una terminal: use ssh -t, o ssh HOST \
                           consumers list para un comando\n"[..],
                    )
                    .await;
                2
            }
        },
    };
    let _ = write.exit_status(status).await;
    let _ = write.eof().await;
    let _ = write.close().await;
}

/// Why a console ended, and so what the person is told.
enum End {
    /// They quit (or the console stopped on an error, which it has shown).
    Quit,
    /// The link dropped: nobody to tell.
    Disconnected,
    Idle(Duration),
    /// The user was disabled, or the key removed.
    Revoked,
    /// Somebody signed in, and the signed-in sessions' caps had no room for one more.
    Full,
}

/// Alternate screen, bracketed paste, no cursor: what the local console sets too.
const ENTER: &[u8] = b"\x1b[?1049h\x1b[?2004h\x1b[?25l";
/// And back, the screen left clean.
const LEAVE: &[u8] = b"\x1b[?2004l\x1b[?1049l\x1b[?25h";

async fn console(
    mut read: ChannelReadHalf,
    write: &ChannelWriteHalf<Msg>,
    (term, columns, rows): (String, u32, u32),
    env: &HashMap<String, String>,
    connection: Connection,
) -> u32 {
    let Connection {
        shared,
        peer,
        identity,
        place,
    } = connection;
    let size = Arc::new(PtySize::default());
    size.set_from_request(columns, rows);
    let (mut output, writer) = Output::new(write.make_writer());
    let writer = tokio::spawn(writer);
    let _ = output.write_all(ENTER).and_then(|()| output.flush());
    let lang = env
        .get("CONSOLA_LANG")
        .and_then(|v| <Lang as clap::ValueEnum>::from_str(v, true).ok())
        .unwrap_or_default();
    let today = chrono::Local::now().date_naive();
    let client = shared.api.on_behalf_of(peer, &shared.secret);
    let (signed_in, who) = watch::channel(None);
    let (mut state, key) = match identity {
        Identity::Key(login) => {
            let key = (login.key_id, login.login.user.id);
            let state = State::signed_in(lang, shared.shown_url.clone(), today, login.login);
            (state, Some(key))
        }
        Identity::Anonymous => (State::new(lang, shared.shown_url.clone(), today), None),
    };
    let signing_in = who.clone();
    let (registration, mut revoked) = register(&shared, who, key);
    state.ctx.look = super::terminal::look(&term, env);
    let terminal = match ratatui::Terminal::new(SessionBackend::new(output.clone(), size.clone())) {
        Ok(terminal) => terminal,
        Err(err) => {
            tracing::warn!(error = %err, "SSH console could not start");
            return 1;
        }
    };
    let (events, incoming) = mpsc::channel::<std::io::Result<Event>>(64);
    let incoming = Box::pin(futures::stream::unfold(incoming, |mut rx| async move {
        rx.recv().await.map(|event| (event, rx))
    }));
    let clipboard = Clipboard::terminal_only(Box::new(output.clone()));
    let pace: Arc<dyn Pace> = Arc::new(output.clone());
    let mut app = App::new(terminal, incoming, state, client, clipboard).remote(pace, signed_in);
    let idle = shared.options.idle_timeout;
    let end = tokio::select! {
        result = app.run() => {
            if let Err(err) = result {
                tracing::debug!(error = %err, "SSH console ended");
            }
            End::Quit
        }
        end = pump(&mut read, events, &size, idle, &mut revoked) => end,
        () = no_room_to_sign_in(signing_in, &shared, &place) => End::Full,
    };
    // Signed in still: sign the console session out, so its token is gone with it.
    if app.state.ctx.user.is_some()
        && let Err(err) = app.client().logout().await
    {
        tracing::debug!(error = %err, "SSH console session not signed out");
    }
    drop(app);
    drop(registration);
    let (message, status) = match end {
        End::Quit => (None, 0),
        End::Disconnected => (None, 0),
        End::Idle(after) => (
            Some(format!(
                "consola: sesión cerrada por inactividad ({} min sin teclas)",
                after.as_secs() / 60
            )),
            0,
        ),
        End::Full => (
            Some("consola: hay demasiadas sesiones abiertas; inténtelo más tarde".to_string()),
            1,
        ),
        End::Revoked => (
            Some(
                "consola: la sesión terminó: el usuario fue desactivado o su clave SSH \
                 eliminada"
                    .to_string(),
            ),
            1,
        ),
    };
    let _ = output.write_all(LEAVE);
    if let Some(message) = message {
        let _ = write!(output, "{message}\r\n");
    }
    let _ = output.flush();
    drop(output);
    // Every `Output` is gone: the writer sends what is left, then ends.
    let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
    status
}

/// Moves the connection to the signed-in sessions' caps when the console signs somebody
/// in; ends (and so ends the console) only when those caps have no room for it.
async fn no_room_to_sign_in(
    mut who: watch::Receiver<Option<uuid::Uuid>>,
    shared: &Shared,
    place: &super::admission::Place,
) {
    loop {
        if who.borrow_and_update().is_some() && !shared.admission.sign_in(place) {
            return;
        }
        if who.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// The client's side of the channel, into the console: keys, pastes and resizes; it also
/// ends the console when the link drops, the session idles out or it is revoked.
async fn pump(
    read: &mut ChannelReadHalf,
    events: mpsc::Sender<std::io::Result<Event>>,
    size: &PtySize,
    idle: Duration,
    revoked: &mut watch::Receiver<bool>,
) -> End {
    let mut parser = InputParser::default();
    let mut deadline = Instant::now() + idle;
    // Watched until the registry lets go of the session (it does so only after this ends).
    let mut watched = true;
    loop {
        tokio::select! {
            message = read.wait() => match message {
                Some(ChannelMsg::Data { data }) => {
                    deadline = Instant::now() + idle;
                    for event in parser.feed(&data) {
                        if events.send(Ok(event)).await.is_err() {
                            return End::Quit;
                        }
                    }
                }
                Some(ChannelMsg::WindowChange { col_width, row_height, .. }) => {
                    let (w, h) = size.set_from_request(col_width, row_height);
                    if events.send(Ok(Event::Resize(w, h))).await.is_err() {
                        return End::Quit;
                    }
                }
                Some(ChannelMsg::Eof | ChannelMsg::Close) | None => return End::Disconnected,
                Some(_) => {}
            },
            () = tokio::time::sleep_until(deadline) => return End::Idle(idle),
            changed = revoked.changed(), if watched => match changed {
                Ok(()) if *revoked.borrow() => return End::Revoked,
                Ok(()) => {}
                Err(_) => watched = false,
            },
        }
    }
}

impl Pace for Output {
    fn is_ready(&self) -> bool {
        self.is_drained()
    }

    fn ready(&self) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(self.writable())
    }
}

/// `ssh host CMD`: the command line as the key's user; its output and status go back.
async fn run_command(write: &ChannelWriteHalf<Msg>, line: &[u8], connection: &Connection) -> u32 {
    let say = async |text: &str, to_stderr: bool| {
        let _ = if to_stderr {
            write.extended_data(1, text.as_bytes()).await
        } else {
            write.data(text.as_bytes()).await
        };
    };
    let Identity::Key(login) = &connection.identity else {
        say(
            "consola: los comandos por SSH necesitan una clave registrada (Cuenta → Claves \
             SSH)\n",
            true,
        )
        .await;
        return 1;
    };
    let Ok(line) = std::str::from_utf8(line) else {
        say("consola: el comando no es texto UTF-8\n", true).await;
        return 2;
    };
    let command = match remote::parse(line) {
        Parsed::Run(command) => command,
        Parsed::Done {
            text,
            status,
            to_stderr,
        } => {
            say(&text, to_stderr).await;
            return u32::from(status);
        }
    };
    let client = connection
        .shared
        .api
        .on_behalf_of(connection.peer, &connection.shared.secret)
        .with_token(login.login.token.clone());
    let (streams, out, err) = Streams::buffers();
    let status = match remote::run(command, client.clone(), streams.clone()).await {
        Ok(()) => 0,
        Err(failure) => {
            let _ = streams.write_err(&failure.report());
            u32::from(failure.exit_code())
        }
    };
    let out = out.take();
    if !out.is_empty() {
        let _ = write.data(&out[..]).await;
    }
    let err = err.take();
    if !err.is_empty() {
        let _ = write.extended_data(1, &err[..]).await;
    }
    if let Err(err) = client.logout().await {
        tracing::debug!(error = %err, "SSH command session not signed out");
    }
    status
}
