//! Foreign exchange: exchange rates, where they come from (the Central Bank of Russia)
//! and how they are fetched, stored and looked up. In this crate "rate" always means an
//! exchange rate; limits on requests per minute are "throttle" (`http/throttle.rs`).

pub mod book;
pub mod cbr;
pub mod source;
