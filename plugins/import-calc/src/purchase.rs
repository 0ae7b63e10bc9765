//! Phases 1, 2 and 2.5: purchase price net of supplier VAT and discount, converted into the
//! quote currency; the distribution bases; the internal (intra-group) sale price.

use crate::inputs::ProductInputs;
use crate::request::Error;
use crate::values::{percent, r4};
use rust_decimal::Decimal;

/// Sanity ceiling (10^18) for a line's purchase value or excise in the quote currency.
pub const AMOUNT_MAX: Decimal = Decimal::from_parts(0xA764_0000, 0x0DE0_B6B3, 0, false, 0);

/// Phase 1 values of one product.
#[derive(Clone, Copy, Debug, Default)]
pub struct Purchase {
    /// `M`: supplier-country VAT (fraction).
    pub m: Decimal,
    /// `N`: price net of supplier VAT, purchase currency.
    pub n: Decimal,
    /// `P`: after the supplier discount, purchase currency.
    pub p: Decimal,
    /// `R`: unit purchase price in the quote currency.
    pub r: Decimal,
    /// `S`: line purchase value in the quote currency.
    pub s: Decimal,
}

/// Phase 1. China's prices are taken as already net of VAT (`N = K`).
pub fn purchase(product: &ProductInputs, index: usize) -> Result<Purchase, Error> {
    let m = product.country.vat();
    let n = if product.country.is_china() {
        product.price
    } else {
        r4(product.price / (Decimal::ONE + m))
    };
    let p = r4(n * (Decimal::ONE - percent(product.discount)));
    let too_large = || {
        Error::invalid(format!(
            "items[{index}]: the purchase value in the quote currency is out of range \
             (check unit_price, quantity and the exchange rate)"
        ))
    };
    let r = r4(product.conversion.apply(p).ok_or_else(too_large)?);
    let s = r4(product.quantity.checked_mul(r).ok_or_else(too_large)?);
    if s > AMOUNT_MAX {
        return Err(too_large());
    }
    Ok(Purchase { m, n, p, r, s })
}

/// Phase 2: `S13 = Σ S` and the value shares `BD = S / S13` (unrounded).
pub fn value_shares(s: &[Decimal]) -> Result<(Decimal, Vec<Decimal>), Error> {
    let s13: Decimal = s.iter().sum();
    if s13 <= Decimal::ZERO {
        return Err(Error::invalid(
            "items: the quote's purchase value in the quote currency rounds to 0 \
             (unit prices too small for their exchange rates)",
        ));
    }
    Ok((s13, s.iter().map(|s| s / s13).collect()))
}

/// Logistics shares `BC` (§5, §10 F5 fixed): by weight `I = E·G` when the quote has any
/// weight, else the value shares `BD`.
pub fn logistics_shares(products: &[ProductInputs], bd: &[Decimal]) -> Vec<Decimal> {
    let weights: Vec<Decimal> = products.iter().map(|p| p.quantity * p.weight).collect();
    let total: Decimal = weights.iter().sum();
    if total.is_zero() {
        bd.to_vec()
    } else {
        weights.iter().map(|i| i / total).collect()
    }
}

/// Phase 2.5: internal unit price `AX` and line value `AY`.
pub fn internal_sale(s: Decimal, quantity: Decimal, aw: Decimal) -> (Decimal, Decimal) {
    let ax = r4(s * (Decimal::ONE + aw) / quantity);
    (ax, r4(quantity * ax))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rates::Conversion;
    use crate::tables::country_named;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn product(country: &str, price: &str, q: &str) -> ProductInputs {
        ProductInputs {
            id: "1".into(),
            price: d(price),
            quantity: Decimal::ONE,
            weight: Decimal::ZERO,
            country: country_named(country).unwrap(),
            internal_markup: d("0.02"),
            conversion: Conversion::divide_by(d(q)),
            discount: Decimal::ZERO,
            markup: d("15"),
            import_tariff: d("5"),
            excise_tax: Decimal::ZERO,
        }
    }

    #[test]
    fn worked_example_row_16() {
        // §12.4: Турция, K = 100 000 TRY, Q = 49.1889.
        let p = purchase(&product("Турция", "100000", "49.1889"), 0).unwrap();
        assert_eq!(p.n, d("83333.3333"));
        assert_eq!(p.p, d("83333.3333"));
        assert_eq!(p.r, d("1694.1492"));
        assert_eq!(p.s, d("1694.1492"));
        let (ax, ay) = internal_sale(p.s, Decimal::ONE, d("0.02"));
        assert_eq!((ax, ay), (d("1728.0322"), d("1728.0322")));
    }

    #[test]
    fn china_price_is_net_already() {
        let p = purchase(&product("Китай", "136554.77", "7.14"), 0).unwrap();
        assert_eq!(p.n, d("136554.77"));
        assert_eq!(p.r, d("19125.3179"));
        assert_eq!(p.m, d("0.13"));
    }

    #[test]
    fn amount_max_is_ten_to_the_eighteenth() {
        assert_eq!(AMOUNT_MAX, Decimal::from(1_000_000_000_000_000_000_i64));
    }

    #[test]
    fn shares_by_weight_only_when_weighed() {
        let mut a = product("Турция", "100", "1");
        let mut b = product("Турция", "100", "1");
        let bd = [d("0.25"), d("0.75")];
        assert_eq!(logistics_shares(&[a.clone(), b.clone()], &bd), bd.to_vec());
        a.weight = d("3");
        b.weight = d("1");
        b.quantity = d("3");
        assert_eq!(logistics_shares(&[a, b], &bd), vec![d("0.5"), d("0.5")]);
    }
}
