//! What every terminal front end (the console, the command line, the SSH front end) shares:
//! text from outside made safe to draw, and the language the user chose.

pub mod lang;
pub mod sanitize;

pub use lang::Lang;
pub use sanitize::clean;
