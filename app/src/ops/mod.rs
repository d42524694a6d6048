//! Operations code: what the old system's 2 AM shell scripts looked at, as
//! functions the CLI prints. These read across tenants on purpose.

pub mod backup;
pub mod db_check;
pub mod doctor;
