//! CouchDB views for the FullSync engine.
pub mod collate;
pub mod js;
