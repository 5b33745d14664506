//! Subcommands of the `lesionlab` binary.

pub mod bench;
pub mod common;
pub mod eval;
pub mod segment;
pub mod train;
