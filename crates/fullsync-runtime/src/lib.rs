//! Running a FullSync project's server-side logic locally: FullSync transactions with
//! variables and a simulated user ([`transactions`]), following every PostDocument rule
//! ([`postdoc`]), listeners reacting to changes ([`listeners`]), and the client simulator
//! ([`device`]).

pub mod device;
pub mod listeners;
pub mod postdoc;
pub mod transactions;
