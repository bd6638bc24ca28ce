//! Shipping FullSync data: backup and restore of databases, local or remote ([`backup`]).
//! Deploying projects to CouchDB and Convertigo servers (plan, apply, rollback) lands here next.

pub mod backup;
