//! One module per subcommand.

pub mod analyze;
pub mod index;
pub mod live;
pub mod manual;
pub mod play;
pub mod playlist;
pub mod search;
pub mod similar;
mod tracks;
mod window;
