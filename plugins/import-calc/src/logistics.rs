//! Phases 2.6, 3 and 4: cargo insurance, logistics and brokerage per product, customs duty,
//! excise, purchase value with supplier VAT and import VAT.

use crate::inputs::{ProductInputs, QuoteInputs};
use crate::purchase::AMOUNT_MAX;
use crate::request::Error;
use crate::tables::SaleType;
use crate::values::{percent, r4, up1};
use rust_decimal::Decimal;

/// Phase 2.6: `INS = UP1(AY13 · rate_insurance)`.
pub fn insurance(ay13: Decimal, rate_insurance: Decimal) -> Decimal {
    up1(ay13 * rate_insurance)
}

/// Phase 3 values of one product.
#[derive(Clone, Copy, Debug, Default)]
pub struct Legs {
    /// `T`: first leg incl. the insurance share.
    pub t: Decimal,
    /// `U`: last leg.
    pub u: Decimal,
    /// `V = T + U`.
    pub v: Decimal,
}

/// Phase 3: `T = R4(F1·BC + INS·BD)`, `U = R4(F2·BC)`, `V = R4(T + U)`.
///
/// `bc` is the logistics share (by weight when the quote has weights, else `bd`); the
/// insurance premium, which is proportional to value, always follows the value share `bd`.
/// Without weights this is exactly the engine's `T = R4(F1·BD + INS·BD)`.
pub fn legs(quote: &QuoteInputs, ins: Decimal, bc: Decimal, bd: Decimal) -> Legs {
    let t = r4(quote.first_leg() * bc + ins * bd);
    let u = r4(quote.last_leg() * bc);
    Legs { t, u, v: r4(t + u) }
}

/// Phase 4 values of one product.
#[derive(Clone, Copy, Debug, Default)]
pub struct Duties {
    /// `Y`: customs duty.
    pub y: Decimal,
    /// `Z`: excise.
    pub z: Decimal,
    /// `AZ`: purchase value incl. supplier VAT.
    pub az: Decimal,
    /// `AO`: import VAT.
    pub ao: Decimal,
}

/// Phase 4.
pub fn duties(
    quote: &QuoteInputs,
    product: &ProductInputs,
    index: usize,
    s: Decimal,
    ay: Decimal,
    t: Decimal,
) -> Result<Duties, Error> {
    let y = if quote.ddp {
        r4(percent(product.import_tariff) * (ay + t))
    } else {
        Decimal::ZERO
    };
    let z = product
        .excise_tax
        .checked_mul(product.weight)
        .and_then(|x| x.checked_mul(product.quantity))
        .filter(|z| *z <= AMOUNT_MAX)
        .ok_or_else(|| {
            Error::invalid(format!(
                "items[{index}]: excise_tax × weight_in_kg × quantity is out of range"
            ))
        })?;
    let z = r4(z);
    let az = r4(s * (Decimal::ONE + product.country.vat()));
    let ao = if quote.ddp && quote.sale_type != SaleType::Export {
        r4((ay + y + z + t) * quote.vat_ru)
    } else {
        Decimal::ZERO
    };
    Ok(Duties { y, z, az, ao })
}
