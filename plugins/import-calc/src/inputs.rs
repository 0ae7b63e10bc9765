//! Reads and validates every input of the request into typed quote and product inputs
//! (specification §2), applying defaults and the two-tier rule.

use crate::lookup::{FieldName, Lookup};
use crate::rates::{Conversion, code, conversion, names};
use crate::request::{Error, Request};
use crate::tables::{self, Country, INCOTERMS, Region, SALE_TYPES, SaleType};
use crate::values::{Date, parse_decimal};
use crate::variables::{self as vars, MONEY_MAX, check_bounds};
use rust_decimal::Decimal;

/// How the decision-maker fee is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmFee {
    /// An amount in the quote currency for the whole quote.
    Fixed(Decimal),
    /// A percentage (as written, e.g. 5 for 5 %).
    Percent(Decimal),
}

/// Quote-level inputs (§2.1, §3.3), already in the units the formulas use.
#[derive(Clone, Debug)]
pub struct QuoteInputs {
    pub seller_company: &'static str,
    pub region: Region,
    pub sale_type: SaleType,
    pub ddp: bool,
    pub quote_date: Date,
    pub delivery_time: i64,
    pub delivery_date: Option<Date>,
    /// `a_c`, `a_s`: fractions.
    pub advance_from_client: Decimal,
    pub advance_to_supplier: Decimal,
    /// K9, days.
    pub time_to_advance_on_receiving: i64,
    /// The intermediate advances (percent) that have no effect (§10 F10).
    pub ignored_advances: Vec<(&'static str, Decimal)>,
    /// W2..W9 in that order.
    pub w: [Decimal; 8],
    pub dm_fee: DmFee,
    /// `fx`, `fc`: fractions.
    pub forex_risk: Decimal,
    pub fin_comm: Decimal,
    /// `r_d`: daily loan rate.
    pub loan_rate_daily: Decimal,
    pub rate_insurance: Decimal,
    /// P27, days.
    pub customs_logistics_pmt_due: i64,
    /// `vat_ru`.
    pub vat_ru: Decimal,
}

impl QuoteInputs {
    /// `F1 = W2 + W3 + W5 + W8`.
    pub fn first_leg(&self) -> Decimal {
        self.w[0] + self.w[1] + self.w[3] + self.w[6]
    }

    /// `F2 = W4 + W6 + W7 + W9`.
    pub fn last_leg(&self) -> Decimal {
        self.w[2] + self.w[4] + self.w[5] + self.w[7]
    }
}

/// Product-level inputs (§2.2).
#[derive(Clone, Debug)]
pub struct ProductInputs {
    pub id: String,
    /// `K`: price incl. supplier VAT, purchase currency.
    pub price: Decimal,
    /// `E`.
    pub quantity: Decimal,
    /// `G`: kg per unit.
    pub weight: Decimal,
    pub country: &'static Country,
    /// `AW`.
    pub internal_markup: Decimal,
    pub conversion: Conversion,
    /// `O`, `markup`, `X`: percent as written.
    pub discount: Decimal,
    pub markup: Decimal,
    pub import_tariff: Decimal,
    /// Per kg, quote currency.
    pub excise_tax: Decimal,
}

const W_NAMES: [&str; 8] = [
    "logistics_supplier_hub",
    "logistics_hub_customs",
    "logistics_customs_client",
    "brokerage_hub",
    "brokerage_customs",
    "warehousing_at_customs",
    "customs_documentation",
    "brokerage_extra",
];

const IGNORED_ADVANCES: [&str; 3] = [
    "advance_on_loading",
    "advance_on_going_to_country_destination",
    "advance_on_customs_clearance",
];

/// Every input of the request, validated.
pub fn read(request: &Request) -> Result<(QuoteInputs, Vec<ProductInputs>), Error> {
    let lookup = Lookup::new(request)?;
    if request.items.is_empty() {
        return Err(Error::invalid("items must not be empty"));
    }
    let quote = read_quote(request, &lookup)?;
    let mut conversions = Conversions::default();
    let mut products = Vec::with_capacity(request.items.len());
    for index in 0..request.items.len() {
        products.push(read_product(
            request,
            &lookup,
            &quote,
            &mut conversions,
            index,
        )?);
    }
    Ok((quote, products))
}

/// The conversions worked out so far in this request, by purchase currency (a quote has a
/// few currencies and many items), so each is found and its rates parsed once.
#[derive(Default)]
struct Conversions(Vec<(String, Conversion)>);

impl Conversions {
    fn get(
        &mut self,
        request: &Request,
        currency: &str,
        index: usize,
    ) -> Result<Conversion, Error> {
        if let Some((_, known)) = self.0.iter().find(|(code, _)| names(currency, code)) {
            return Ok(known.clone());
        }
        let found = conversion(&request.rates, currency, &request.currency, index)?;
        self.0.push((code(currency), found.clone()));
        Ok(found)
    }
}

fn read_quote(request: &Request, lookup: &Lookup) -> Result<QuoteInputs, Error> {
    let currency = code(&request.currency);
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Error::invalid(format!(
            "currency: '{}' is not a 3-letter currency code",
            request.currency
        )));
    }
    let quote_date = Date::parse(&request.date, "date")?;

    let seller = lookup.text(None, "seller_company")?;
    let (seller_company, region) = tables::seller(seller.text).ok_or_else(|| {
        Error::invalid(format!(
            "{}: unknown seller company '{}'",
            seller.field, seller.text
        ))
    })?;
    if region == Region::Cn {
        return Err(Error::Unsupported(format!(
            "{}: '{seller_company}' sells from China (region CN), for which the rule set has \
             no internal-markup table (spec §10 F9)",
            seller.field
        )));
    }
    let sale = lookup.text(None, "offer_sale_type")?;
    let sale_type = SALE_TYPES
        .iter()
        .find(|(name, _)| *name == sale.text.trim())
        .map(|s| s.1);
    let sale_type = sale_type.ok_or_else(|| {
        Error::invalid(format!(
            "{}: '{}' is not one of поставка, транзит, финтранзит, экспорт",
            sale.field, sale.text
        ))
    })?;
    let incoterms = lookup.text(None, "offer_incoterms")?;
    if !INCOTERMS.contains(&incoterms.text.trim()) {
        return Err(Error::invalid(format!(
            "{}: '{}' is not one of {}",
            incoterms.field,
            incoterms.text,
            INCOTERMS.join(", ")
        )));
    }
    let delivery_date = lookup.date_opt(None, "delivery_date")?;
    if let Some(date) = delivery_date
        && date < quote_date
    {
        return Err(Error::invalid(format!(
            "variables.delivery_date ({date}) must not precede the quote date ({quote_date})"
        )));
    }
    let dm_type = lookup.text(None, "dm_fee_type")?;
    let dm_value = lookup.decimal(None, "dm_fee_value")?;
    let dm_fee = match dm_type.text.trim() {
        "fixed" => DmFee::Fixed(dm_value),
        "%" => {
            let percent = vars::Bounds {
                min: 0,
                min_exclusive: false,
                max: 100,
            };
            check_bounds(dm_value, percent, "variables.dm_fee_value")?;
            DmFee::Percent(dm_value)
        }
        other => {
            return Err(Error::invalid(format!(
                "{}: '{other}' is not 'fixed' or '%'",
                dm_type.field
            )));
        }
    };
    let mut w = [Decimal::ZERO; 8];
    for (slot, name) in w.iter_mut().zip(W_NAMES) {
        *slot = lookup.decimal(None, name)?;
    }
    let mut ignored_advances = Vec::new();
    for name in IGNORED_ADVANCES {
        ignored_advances.push((name, lookup.decimal(None, name)?));
    }
    for name in [
        "time_to_advance",
        "time_to_advance_loading",
        "time_to_advance_going_to_country_destination",
        "time_to_advance_on_customs_clearance",
    ] {
        lookup.integer(None, name)?; // validated, no effect
    }
    let fraction = |name| lookup.decimal(None, name);
    let percent = |name| Ok::<_, Error>(fraction(name)? / Decimal::ONE_HUNDRED);
    Ok(QuoteInputs {
        seller_company,
        region,
        sale_type,
        ddp: incoterms.text.trim() == "DDP",
        quote_date,
        delivery_time: lookup.integer(None, "delivery_time")?,
        delivery_date,
        advance_from_client: percent("advance_from_client")?,
        advance_to_supplier: percent("advance_to_supplier")?,
        time_to_advance_on_receiving: lookup.integer(None, "time_to_advance_on_receiving")?,
        ignored_advances,
        w,
        dm_fee,
        forex_risk: percent("rate_forex_risk")?,
        fin_comm: percent("rate_fin_comm")?,
        loan_rate_daily: fraction("rate_loan_interest_annual")? / Decimal::from(365),
        rate_insurance: fraction("rate_insurance")?,
        customs_logistics_pmt_due: lookup.integer(None, "customs_logistics_pmt_due")?,
        vat_ru: tables::vat_ru(region, delivery_date.map(|d| d.year)),
    })
}

fn read_product(
    request: &Request,
    lookup: &Lookup,
    quote: &QuoteInputs,
    conversions: &mut Conversions,
    index: usize,
) -> Result<ProductInputs, Error> {
    let item = &request.items[index];
    let at = Some(index);
    let field = |name| FieldName::Item(index, name);

    let quantity = parse_decimal(&item.quantity, field("quantity"))?;
    if quantity <= Decimal::ZERO {
        return Err(Error::invalid(format!(
            "{} must be positive",
            field("quantity")
        )));
    }
    if !quantity.fract().is_zero() {
        return Err(Error::invalid(format!(
            "{} must be a whole number of units",
            field("quantity")
        )));
    }
    if quantity > Decimal::from(1_000_000_000) {
        return Err(Error::invalid(format!(
            "{} must be at most 1000000000",
            field("quantity")
        )));
    }
    let price = parse_decimal(&item.unit_price, field("unit_price"))?;
    check_bounds(
        price,
        vars::Bounds {
            min: 0,
            min_exclusive: true,
            max: MONEY_MAX,
        },
        field("unit_price"),
    )?;

    let country = lookup.text(at, "supplier_country")?;
    let country = tables::country_named(country.text).ok_or_else(|| {
        Error::invalid(format!(
            "{}: unknown supplier country '{}'",
            country.field, country.text
        ))
    })?;
    if let Some(customs_code) = lookup.text_opt(at, "customs_code") {
        let digits = customs_code.text.trim();
        if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(format!(
                "{}: '{}' is not a 10-digit customs code",
                customs_code.field, customs_code.text
            )));
        }
    }
    lookup.decimal(at, "util_fee")?; // validated, no effect

    let conversion = match lookup.decimal_opt(at, "exchange_rate_base_price_to_quote")? {
        Some(q) => Conversion::divide_by(q),
        None => {
            if item.currency.trim().is_empty() {
                return Err(Error::invalid(format!(
                    "{} must not be empty",
                    field("currency")
                )));
            }
            conversions.get(request, &item.currency, index)?
        }
    };
    let internal_markup = country
        .internal_markup(quote.region)
        .expect("region CN is refused in read_quote");
    Ok(ProductInputs {
        id: item.id.clone(),
        price,
        quantity,
        weight: lookup.decimal(at, "weight_in_kg")?,
        country,
        internal_markup,
        conversion,
        discount: lookup.decimal(at, "supplier_discount")?,
        markup: lookup.decimal(at, "markup")?,
        import_tariff: lookup.decimal(at, "import_tariff")?,
        excise_tax: lookup.decimal(at, "excise_tax")?,
    })
}
