//! One module per subcommand.

pub mod analyze;
pub mod live;
pub mod manual;
pub mod play;
mod window;
