//! Exchange rates: where they come from (the Central Bank of Russia) and how they
//! are fetched, stored and looked up.

pub mod book;
pub mod cbr;
pub mod source;
