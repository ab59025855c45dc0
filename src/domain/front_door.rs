//! The front door's contract (DESIGN §7): the header in which a front end of the server's own
//! process (the SSH console) sends the door's secret, named once for the client that sends it
//! and the server that checks and strips it.

/// The header that carries an in-process front end's secret.
pub const FRONT_SECRET_HEADER: &str = "consola-front-secret";
