//! `consola login` and `consola logout`: a session started on the server and kept in the
//! `session` store, or ended there and forgotten here.

use super::session::Session;
use super::target::{Context, on_server, shown_target};
use super::{CliResult, Failure, prompt};

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    #[arg(long)]
    pub username: String,
    /// Read the password from standard input; without it, it is asked on the terminal.
    #[arg(long)]
    pub password_stdin: bool,
}

pub async fn login(context: &Context, args: LoginArgs) -> CliResult {
    let password = prompt::password(args.password_stdin, "Contraseña: ", true)?;
    let store = context.sessions()?;
    let answer = on_server(context, |client| {
        let (username, password) = (args.username.clone(), password.clone());
        async move {
            let refused = match client.login(&username, &password).await {
                Ok(answer) => return Ok(answer),
                Err(err) => err,
            };
            // Refused because there is no user yet: say how to create the first one.
            if refused.status() == Some(401)
                && client
                    .setup_status()
                    .await
                    .is_ok_and(|status| status.needed)
            {
                return Err(Failure::Failed {
                    message: format!("{} aún no tiene cuenta", shown_target(context)),
                    details: vec![
                        "Créela con: consola setup --account NOMBRE --username U \
                         --display-name N --password-stdin"
                            .into(),
                    ],
                });
            }
            Err(refused.into())
        }
    })
    .await?;
    let session = Session {
        server: context.session_key(),
        username: answer.user.username.clone(),
        expires_at: answer.expires_at,
        token: answer.token,
    };
    store.save(&session)?;
    println!(
        "Sesión iniciada como {} en {} (expira {})",
        crate::terminal::clean(&session.username),
        shown_target(context),
        session.expires_at.format("%Y-%m-%d %H:%M UTC")
    );
    Ok(())
}

pub async fn logout(context: &Context) -> CliResult {
    let store = context.sessions()?;
    let key = context.session_key();
    let session = match store.load(&key) {
        Ok(session) => session,
        // A damaged file is removed all the same: that is how one starts over.
        Err(_) => {
            store.remove(&key)?;
            println!("Sesión borrada");
            return Ok(());
        }
    };
    let Some(session) = session else {
        println!("No había sesión para {}", shown_target(context));
        return Ok(());
    };
    // The server ends the session first; the file goes even when it cannot be reached.
    let ended = if session.expired() {
        Ok(())
    } else {
        let token = session.token.clone();
        on_server(context, |client| {
            let client = client.with_token(token.clone());
            async move { client.logout().await.map_err(Failure::from) }
        })
        .await
    };
    store.remove(&key)?;
    match ended {
        Ok(()) => {}
        Err(Failure::Api(err)) if err.status() == Some(401) => {}
        Err(err) => eprintln!(
            "consola: aviso: el servidor no cerró la sesión ({err}); se borró la copia local"
        ),
    }
    println!("Sesión cerrada");
    Ok(())
}
