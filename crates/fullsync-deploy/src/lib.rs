//! Shipping FullSync projects and data: server profiles ([`profiles`]), deploy with a plan,
//! history and rollback ([`deploy`]), and backup/restore of databases ([`backup`]).

pub mod backup;
pub mod deploy;
pub mod profiles;
