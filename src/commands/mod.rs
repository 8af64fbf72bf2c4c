//! One file per command. Commands depend on the domain and `arm/`, never on each other.

pub mod batch;
pub mod doctor;
pub mod gc;
pub mod generate;
pub mod poll;
pub mod profiles;
pub mod start;
pub mod status;
pub mod stop;
