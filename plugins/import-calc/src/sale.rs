//! Phases 10 to 13: full cost, profit and fees, the sale price without and with Russian VAT,
//! the VAT balance and the transit commission.

use crate::inputs::{DmFee, QuoteInputs};
use crate::tables::{Region, SaleType};
use crate::values::{percent, r4};
use rust_decimal::Decimal;

/// Phase 10: `AB = R4(S + V + Y + Z + BA + BB)`.
pub fn full_cost(
    s: Decimal,
    v: Decimal,
    y: Decimal,
    z: Decimal,
    ba: Decimal,
    bb: Decimal,
) -> Decimal {
    r4(s + v + y + z + ba + bb)
}

/// What phases 10–13 read of one product.
#[derive(Clone, Copy, Debug, Default)]
pub struct SaleInputs {
    pub quantity: Decimal,
    /// Markup, percent.
    pub markup: Decimal,
    pub s: Decimal,
    pub t: Decimal,
    pub az: Decimal,
    pub ao: Decimal,
    pub aw: Decimal,
    pub bd: Decimal,
    pub ba: Decimal,
    pub bb: Decimal,
    /// `AB` of this product and `AB13` of the quote.
    pub ab: Decimal,
    pub ab13: Decimal,
}

/// Phase 10–13 values of one product (labels as in the specification).
#[derive(Clone, Copy, Debug, Default)]
pub struct Sale {
    pub aa: Decimal,
    pub af: Decimal,
    pub ag: Decimal,
    pub ad: Decimal,
    pub ae: Decimal,
    pub ai: Decimal,
    pub ah: Decimal,
    pub aj: Decimal,
    pub ak: Decimal,
    pub am: Decimal,
    pub al: Decimal,
    pub an: Decimal,
    pub ap: Decimal,
    pub aq: Decimal,
}

/// Phases 10 (unit cost) to 13.
pub fn sale(quote: &QuoteInputs, p: &SaleInputs) -> Sale {
    let one = Decimal::ONE;
    let e = p.quantity;
    let ac = percent(p.markup);
    // Profit base: full cost for a supply; purchase value for transit, financial transit and
    // export (§10 F8: the engine's rule is kept; the workbook yields 0 for the latter two).
    let base = if quote.sale_type == SaleType::Supply {
        p.ab
    } else {
        p.s
    };

    let aa = r4(p.ab / e);
    let af = r4(base * ac);
    let ag = match quote.dm_fee {
        DmFee::Fixed(value) => r4(p.bd * value),
        // §10 F6 fixed: the product's share of the fee on the quote's full cost (workbook),
        // so the fees add up to AB13·p; the engine applied the share to the product's own AB.
        DmFee::Percent(value) => r4(p.bd * p.ab13 * value / Decimal::ONE_HUNDRED),
    };
    let ad = r4(base * (one + ac) / e);
    let ae = r4(ad * e);
    let ai = if quote.region == Region::Tr || quote.sale_type == SaleType::Export {
        Decimal::ZERO
    } else {
        r4(quote.fin_comm * (p.az + p.az * p.aw + p.t))
    };
    let ah = r4((ae + ag + ai) * quote.forex_risk);
    let aj = r4((p.ab + af + ag + ah + ai) / e);
    let ak = r4(aj * e);

    // Phase 12: VAT.
    let vat = if quote.ddp {
        quote.vat_ru
    } else {
        Decimal::ZERO
    };
    let am = r4(aj * (one + vat));
    let al = r4(am * e);
    let an = r4(al - aj * e);
    let ap = r4(an - p.ao);

    // Phase 13: transit commission.
    let aq = if quote.sale_type == SaleType::Transit {
        r4(af + ag + ah + ai + p.ba + p.bb)
    } else {
        Decimal::ZERO
    };
    Sale {
        aa,
        af,
        ag,
        ad,
        ae,
        ai,
        ah,
        aj,
        ak,
        am,
        al,
        an,
        ap,
        aq,
    }
}
