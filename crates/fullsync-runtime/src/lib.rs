//! Running a FullSync project's server-side logic locally: FullSync transactions with
//! variables and a simulated user ([`transactions`]), following every PostDocument rule
//! ([`postdoc`]), and listeners reacting to changes ([`listeners`]). The client simulator lands
//! here next.

pub mod listeners;
pub mod postdoc;
pub mod transactions;
