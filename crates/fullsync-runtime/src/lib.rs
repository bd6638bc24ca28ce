//! Running a FullSync project's server-side logic locally: FullSync transactions with
//! variables and a simulated user ([`transactions`]), following every PostDocument rule
//! ([`postdoc`]). Listeners and the client simulator land here next.

pub mod postdoc;
pub mod transactions;
