//! Shipping FullSync projects and data: server profiles ([`profiles`]), deploy with a plan,
//! history and rollback ([`deploy`]), the Convertigo admin API deploy of a `.car`
//! ([`convertigo`]), and backup/restore of databases ([`backup`]).

pub mod backup;
pub mod convertigo;
pub mod deploy;
pub mod profiles;
