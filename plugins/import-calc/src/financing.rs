//! Phases 5 to 9: payments to the supplier, the revenue estimate without financing, the
//! financing need and its (simple-interest) cost, interest on the client's deferred payment,
//! and the allocation of both costs to products.

use crate::inputs::{DmFee, QuoteInputs};
use crate::tables::Region;
use crate::values::{percent, r4};
use rust_decimal::Decimal;

/// What phases 5–8 need of one product.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProductCosts {
    pub s: Decimal,
    pub t: Decimal,
    pub u: Decimal,
    pub v: Decimal,
    pub y: Decimal,
    pub z: Decimal,
    pub az: Decimal,
    pub ao: Decimal,
    /// Markup in percent.
    pub markup: Decimal,
}

/// Quote-level values of phases 5–8 (labels as in the specification).
#[derive(Clone, Copy, Debug, Default)]
pub struct Financing {
    pub t13: Decimal,
    pub u13: Decimal,
    pub v13: Decimal,
    pub y13: Decimal,
    pub z13: Decimal,
    pub az13: Decimal,
    pub ao13: Decimal,
    pub bh6: Decimal,
    pub bh4: Decimal,
    pub bj2: Decimal,
    pub bj3: Decimal,
    pub ac12: Decimal,
    pub bh2: Decimal,
    pub bh3: Decimal,
    pub bh7: Decimal,
    pub bh8: Decimal,
    pub bh9: Decimal,
    pub bh10: Decimal,
    pub bi7: Decimal,
    pub bj7: Decimal,
    pub bi10: Decimal,
    pub bj10: Decimal,
    pub bj11: Decimal,
    pub bl3: Decimal,
    pub bl4: Decimal,
    pub bl5: Decimal,
}

/// `AC12`, the markup of the revenue estimate: the mean of the products' markups that are
/// above 0, as the workbook does (§10 F4 fixed; the engine took product 1's markup), as a
/// fraction; 0 when no markup is above 0.
pub fn revenue_markup(costs: &[ProductCosts]) -> Decimal {
    let positive: Vec<Decimal> = costs
        .iter()
        .map(|c| c.markup)
        .filter(|m| *m > Decimal::ZERO)
        .collect();
    if positive.is_empty() {
        return Decimal::ZERO;
    }
    percent(positive.iter().sum::<Decimal>() / Decimal::from(positive.len()))
}

/// Phases 5–8.
pub fn financing(quote: &QuoteInputs, costs: &[ProductCosts]) -> Financing {
    let sum = |f: fn(&ProductCosts) -> Decimal| costs.iter().map(f).sum::<Decimal>();
    let mut q = Financing {
        t13: sum(|c| c.t),
        u13: sum(|c| c.u),
        v13: sum(|c| c.v),
        y13: sum(|c| c.y),
        z13: sum(|c| c.z),
        az13: sum(|c| c.az),
        ao13: sum(|c| c.ao),
        ..Financing::default()
    };
    let fc = quote.fin_comm;
    let one = Decimal::ONE;

    // Phase 5: payments to the supplier.
    q.bh6 = r4(q.az13 * quote.advance_to_supplier * (one + fc));
    q.bh4 = r4((q.az13 + q.t13) * (one + fc) + q.y13 + q.z13 + q.ao13);

    // Phase 6: revenue estimate without financing.
    q.bj2 = costs.iter().map(|c| r4(c.s + c.v + c.y + c.z)).sum();
    let dm = match quote.dm_fee {
        DmFee::Fixed(value) => value,
        DmFee::Percent(value) => q.bj2 * value / Decimal::ONE_HUNDRED,
    };
    q.bj3 = r4(q.bj2 * quote.forex_risk + dm);
    q.ac12 = revenue_markup(costs);
    let vat = if quote.region == Region::Ru {
        quote.vat_ru
    } else {
        Decimal::ZERO
    };
    q.bh2 = r4((q.bj2 * (one + q.ac12) + q.bj3) * (one + vat));

    // Phase 7: financing need and cost.
    q.bh3 = r4(q.bh2 * quote.advance_from_client);
    q.bh7 = if q.bh3 <= Decimal::ZERO {
        q.bh6
    } else if q.bh3 >= q.bh6 {
        Decimal::ZERO
    } else {
        r4(q.bh6 - q.bh3)
    };
    q.bh9 = Decimal::ZERO; // intermediate client payments are not wired (§10 F10)
    q.bh8 = r4(q.bh4 - q.bh6);
    let xs = if q.bh3 > q.bh6 {
        q.bh3 - q.bh6
    } else {
        Decimal::ZERO
    };
    q.bh10 = if q.bh9 + xs > q.bh8 {
        Decimal::ZERO
    } else {
        r4(q.bh8 - q.bh9 - xs)
    };
    let r_d = quote.loan_rate_daily;
    q.bi7 = r4(q.bh7 * (one + r_d * Decimal::from(quote.delivery_time)));
    q.bj7 = r4(q.bi7 - q.bh7);
    q.bi10 = r4(q.bh10 * (one + r_d * Decimal::from(quote.customs_logistics_pmt_due)));
    q.bj10 = r4(q.bi10 - q.bh10);
    q.bj11 = r4(q.bj7 + q.bj10);

    // Phase 8: interest on the client's deferred payment.
    q.bl3 = r4(q.bh4 - q.bh3);
    q.bl4 = r4(q.bl3 * (one + r_d * Decimal::from(quote.time_to_advance_on_receiving)));
    q.bl5 = r4(q.bl4 - q.bl3);
    q
}

/// Phase 9: `BA = R4(BJ11·BD)`, `BB = R4(BL5·BD)`.
pub fn allocate(q: &Financing, bd: Decimal) -> (Decimal, Decimal) {
    (r4(q.bj11 * bd), r4(q.bl5 * bd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn costs(markups: &[&str]) -> Vec<ProductCosts> {
        markups
            .iter()
            .map(|m| ProductCosts {
                markup: d(m),
                ..ProductCosts::default()
            })
            .collect()
    }

    #[test]
    fn revenue_markup_is_the_mean_of_positive_markups() {
        assert_eq!(revenue_markup(&costs(&["15", "15"])), d("0.15"));
        assert_eq!(revenue_markup(&costs(&["10", "0", "20"])), d("0.15"));
        assert_eq!(revenue_markup(&costs(&["0"])), Decimal::ZERO);
    }
}
