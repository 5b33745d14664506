//! Subcommands of the `lesionlab` binary.

pub mod bench;
