//! Runs the thirteen phases in the order of specification §4 and keeps every value.

use crate::financing::{self, Financing, ProductCosts};
use crate::inputs::{self, ProductInputs, QuoteInputs};
use crate::logistics::{self, Duties, Legs};
use crate::purchase::{self, Purchase};
use crate::request::{Error, Request};
use crate::sale::{self, Sale, SaleInputs};
use rust_decimal::Decimal;

/// Every value of one product.
#[derive(Clone, Debug)]
pub struct ProductResult {
    pub inputs: ProductInputs,
    pub purchase: Purchase,
    /// `BD`: value share; `BC`: logistics share.
    pub bd: Decimal,
    pub bc: Decimal,
    pub ax: Decimal,
    pub ay: Decimal,
    pub legs: Legs,
    pub duties: Duties,
    pub ba: Decimal,
    pub bb: Decimal,
    pub ab: Decimal,
    pub sale: Sale,
}

/// Every value of the quote.
#[derive(Clone, Debug)]
pub struct Calculation {
    pub quote: QuoteInputs,
    pub s13: Decimal,
    pub ay13: Decimal,
    pub ins: Decimal,
    pub financing: Financing,
    pub ab13: Decimal,
    pub products: Vec<ProductResult>,
}

/// Validates the request and runs phases 1–13.
pub fn calculate(request: &Request) -> Result<Calculation, Error> {
    let (quote, products) = inputs::read(request)?;

    // Phase 1.
    let purchases = products
        .iter()
        .enumerate()
        .map(|(index, product)| purchase::purchase(product, index))
        .collect::<Result<Vec<_>, _>>()?;
    // Phase 2.
    let s: Vec<Decimal> = purchases.iter().map(|p| p.s).collect();
    let (s13, bd) = purchase::value_shares(&s)?;
    let bc = purchase::logistics_shares(&products, &bd);
    // Phase 2.5.
    let internal: Vec<(Decimal, Decimal)> = products
        .iter()
        .zip(&purchases)
        .map(|(product, p)| purchase::internal_sale(p.s, product.quantity, product.internal_markup))
        .collect();
    // Phase 2.6.
    let ay13: Decimal = internal.iter().map(|(_, ay)| ay).sum();
    let ins = logistics::insurance(ay13, quote.rate_insurance);
    // Phases 3 and 4.
    let mut legs = Vec::with_capacity(products.len());
    let mut duties = Vec::with_capacity(products.len());
    for (index, product) in products.iter().enumerate() {
        let leg = logistics::legs(&quote, ins, bc[index], bd[index]);
        let (s, ay) = (purchases[index].s, internal[index].1);
        duties.push(logistics::duties(&quote, product, index, s, ay, leg.t)?);
        legs.push(leg);
    }
    // Phases 5 to 8.
    let costs: Vec<ProductCosts> = (0..products.len())
        .map(|i| ProductCosts {
            s: purchases[i].s,
            t: legs[i].t,
            u: legs[i].u,
            v: legs[i].v,
            y: duties[i].y,
            z: duties[i].z,
            az: duties[i].az,
            ao: duties[i].ao,
            markup: products[i].markup,
        })
        .collect();
    let fin = financing::financing(&quote, &costs);
    // Phases 9 and 10 (full cost), then AB13 for a percentage DM fee.
    let allocated: Vec<(Decimal, Decimal)> =
        bd.iter().map(|bd| financing::allocate(&fin, *bd)).collect();
    let ab: Vec<Decimal> = costs
        .iter()
        .zip(&allocated)
        .map(|(c, (ba, bb))| sale::full_cost(c.s, c.v, c.y, c.z, *ba, *bb))
        .collect();
    let ab13: Decimal = ab.iter().sum();
    // Phases 10 (unit cost) to 13.
    let mut results = Vec::with_capacity(products.len());
    for (i, product) in products.into_iter().enumerate() {
        let (ba, bb) = allocated[i];
        let sale = sale::sale(
            &quote,
            &SaleInputs {
                quantity: product.quantity,
                markup: product.markup,
                s: purchases[i].s,
                t: legs[i].t,
                az: duties[i].az,
                ao: duties[i].ao,
                aw: product.internal_markup,
                bd: bd[i],
                ba,
                bb,
                ab: ab[i],
                ab13,
            },
        );
        results.push(ProductResult {
            inputs: product,
            purchase: purchases[i],
            bd: bd[i],
            bc: bc[i],
            ax: internal[i].0,
            ay: internal[i].1,
            legs: legs[i],
            duties: duties[i],
            ba,
            bb,
            ab: ab[i],
            sale,
        });
    }
    Ok(Calculation {
        quote,
        s13,
        ay13,
        ins,
        financing: fin,
        ab13,
        products: results,
    })
}
