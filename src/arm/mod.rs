//! Azure Resource Manager: wire types (`model`) and the one client (`client`: auth, retries,
//! long-running operations). Nothing here knows about JupyterHub.

pub mod budget;
pub mod bulk_delete;
pub mod client;
pub mod fleet;
pub mod lro;
pub mod model;
pub mod schema;

pub use client::{Arm, DeleteStarted, PutStarted};
