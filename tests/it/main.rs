//! acactl's integration tests: one binary (one link step), each module a feature, all against the
//! fake ARM from tests/fake-arm (HTTPS with its own CA, STS, managed-identity endpoint, ingress).

mod common;

mod auth;
mod cli;
mod config;
mod config_example;
mod doctor;
mod estimates;
mod faults;
mod fleet;
mod gc;
mod hostile;
mod lifecycle;
mod poll;
mod profiles;
mod redaction;
mod snapshots;
mod soak;
mod start_failures;
mod status;
