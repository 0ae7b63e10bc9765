//! Pricing a quote: the [`Pricer`] bounds the input, chooses the plugin, checks the
//! variables, assembles the exchange-rate snapshot, waits for a calculation slot, runs
//! the plugin and bounds the amounts in and out. Shared by calculate, create,
//! recalculate and verify.

pub mod amounts;
pub mod diff;
pub mod gate;
pub mod limits;
pub mod lookahead;
pub mod plugin_cache;
mod pricer;
pub mod replay;
pub mod variables;

pub use pricer::{Candidate, PluginRef, Priced, Pricer, PricingError};
