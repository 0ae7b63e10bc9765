//! Pricing a quote: the [`Pricer`] chooses the plugin, checks the variables, assembles
//! the exchange-rate snapshot, waits for a calculation slot, runs the plugin and bounds
//! the amounts in and out. Shared by calculate, create, recalculate and verify.

pub mod amounts;
pub mod diff;
pub mod gate;
mod pricer;
pub mod variables;

pub use pricer::{PluginRef, Priced, Pricer, PricingError};
