//! Subcommands of the `lesionlab` binary.

pub mod archive;
pub mod bench;
pub mod check;
pub mod common;
pub mod describe;
pub mod eval;
pub mod explain;
pub mod export;
pub mod features;
pub mod segment;
pub mod train;
pub mod uncertainty;
