//! Who is connecting. A key whose fingerprint belongs to an enabled user signs them in;
//! the key offered is checked again once the client has proven it holds it (the offer
//! alone proves nothing). Any other connection gets *Iniciar sesión*, through
//! keyboard-interactive with no prompt, unless `require_key` refuses it.

use super::Shared;
use super::admission::Place;
use super::session::{self, Connection, Identity};
use crate::domain::ssh_key;
use crate::service::Caller;
use russh::server::{Auth, Msg, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use std::net::SocketAddr;
use std::sync::Arc;

pub(super) struct Handler {
    shared: Arc<Shared>,
    peer: SocketAddr,
    /// Where the connection stands under the caps, for its whole life.
    place: Place,
    /// Set by a successful authentication; taken by the session channel.
    identity: Option<Identity>,
    /// One session channel per connection.
    opened: bool,
}

impl Handler {
    pub(super) fn new(shared: Arc<Shared>, peer: SocketAddr, place: Place) -> Handler {
        Handler {
            shared,
            peer,
            place,
            identity: None,
            opened: false,
        }
    }

    fn methods(&self) -> MethodSet {
        let mut methods = MethodSet::empty();
        methods.push(MethodKind::PublicKey);
        if !self.shared.options.require_key {
            methods.push(MethodKind::KeyboardInteractive);
        }
        methods
    }

    fn reject(&self) -> Auth {
        Auth::Reject {
            proceed_with_methods: Some(self.methods()),
            partial_success: false,
        }
    }

    fn caller(&self) -> Caller {
        Caller {
            ip: self.peer.ip().to_canonical(),
            session: None,
            proxied: true,
        }
    }
}

impl russh::server::Handler for Handler {
    type Error = russh::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        Ok(self.reject())
    }

    /// Only keys somebody holds are worth a signature.
    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        offer: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        let fingerprint = ssh_key::fingerprint(offer.public_key);
        match self.shared.service.ssh_key_usable(&fingerprint).await {
            Ok(true) => Ok(Auth::Accept),
            Ok(false) => Ok(self.reject()),
            Err(err) => {
                tracing::warn!(error = %err, "SSH key lookup failed");
                Ok(self.reject())
            }
        }
    }

    /// The key the client proved it holds: this one, not the one offered, decides.
    async fn auth_publickey(
        &mut self,
        _user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let fingerprint = ssh_key::fingerprint(key.public_key);
        match self
            .shared
            .service
            .ssh_login(&self.caller(), &fingerprint)
            .await
        {
            // Signed in: the connection moves to the sessions' caps. Without room it ends
            // here, rather than falling back to *Iniciar sesión*.
            Ok(Some(_)) if !self.shared.admission.sign_in(&self.place) => {
                tracing::warn!(peer = %self.peer, "SSH key login refused: too many sessions");
                Err(russh::Error::Disconnect)
            }
            Ok(Some(login)) => {
                self.identity = Some(Identity::Key(Box::new(login)));
                Ok(Auth::Accept)
            }
            Ok(None) => Ok(self.reject()),
            Err(err) => {
                tracing::warn!(error = %err, "SSH key login failed");
                Ok(self.reject())
            }
        }
    }

    /// No prompt: the console's *Iniciar sesión* asks, with the API's throttles.
    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        _user: &str,
        _submethods: &str,
        _response: Option<russh::server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        if self.shared.options.require_key {
            return Ok(self.reject());
        }
        self.identity = Some(Identity::Anonymous);
        Ok(Auth::Accept)
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let identity = match self.identity.take() {
            Some(identity) if !self.opened => identity,
            _ => {
                reply
                    .reject(russh::ChannelOpenFailure::AdministrativelyProhibited)
                    .await;
                return Ok(());
            }
        };
        self.opened = true;
        reply.accept().await;
        let connection = Connection {
            shared: self.shared.clone(),
            peer: self.peer.ip().to_canonical(),
            identity,
            place: self.place.clone(),
        };
        tokio::spawn(session::serve(channel, connection));
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _columns: u32,
        _rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _command: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }
}
