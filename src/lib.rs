//! The `statuswatch` binary: command line, configuration loading and the
//! wiring of the `acme`, `proxy` and `app` crates into runnable roles.

pub mod cli;
pub mod commands;
pub mod extra_roots;
pub mod listeners;
pub mod local_ca;
pub mod settings;
pub mod site_files;
pub mod telemetry;
pub mod upgrade;
