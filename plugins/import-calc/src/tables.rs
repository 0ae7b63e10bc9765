//! Lookup tables of the specification (§2.3, §3.1): seller companies and their region,
//! supplier countries with their VAT `M` and internal markup `AW`, and the enumerations.

use rust_decimal::Decimal;

/// Where the selling company is registered; decides Russian VAT and the markup column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    Ru,
    Tr,
    Cn,
}

impl Region {
    pub fn code(self) -> &'static str {
        match self {
            Region::Ru => "RU",
            Region::Tr => "TR",
            Region::Cn => "CN",
        }
    }
}

/// The six seller companies (§2.3).
pub const SELLERS: &[(&str, Region)] = &[
    ("МАСТЕР БЭРИНГ ООО", Region::Ru),
    ("ЦМТО1 ООО", Region::Ru),
    ("РАД РЕСУРС ООО", Region::Ru),
    ("TEXCEL OTOMOTİV TİCARET LİMİTED ŞİRKETİ", Region::Tr),
    ("GESTUS DIŞ TİCARET LİMİTED ŞİRKETİ", Region::Tr),
    ("UPDOOR Limited", Region::Cn),
];

/// The seller's canonical name and region. The workbook's form with the tax id
/// ("МАСТЕР БЭРИНГ ООО (ИНН 0242013464)") is accepted too.
pub fn seller(name: &str) -> Option<(&'static str, Region)> {
    let name = name.trim();
    let name = match name.find(" (ИНН") {
        Some(at) if name.ends_with(')') => &name[..at],
        _ => name,
    };
    SELLERS.iter().copied().find(|(seller, _)| *seller == name)
}

/// A supplier country row of `list_vat` (§3.1). Numbers are fractions.
#[derive(Debug)]
pub struct Country {
    /// The engine's value, used in inputs and outputs.
    pub name: &'static str,
    /// The workbook's label where it differs, accepted as an alias.
    pub workbook_label: Option<&'static str>,
    /// `M`: VAT in the supplier country, in hundredths of a percent (2000 = 0.20).
    vat_bp: i64,
    /// `AW` for a Russian seller, in basis points.
    markup_ru_bp: i64,
    /// `AW` for a Turkish seller, in basis points.
    markup_tr_bp: i64,
}

impl Country {
    /// `M(L)`.
    pub fn vat(&self) -> Decimal {
        Decimal::new(self.vat_bp, 4)
    }

    /// `AW(L, region)`; `None` for region CN, which has no column (§10 F9).
    pub fn internal_markup(&self, region: Region) -> Option<Decimal> {
        match region {
            Region::Ru => Some(Decimal::new(self.markup_ru_bp, 4)),
            Region::Tr => Some(Decimal::new(self.markup_tr_bp, 4)),
            Region::Cn => None,
        }
    }

    /// China's prices are taken as already net of VAT in phase 1 (`N = K`).
    pub fn is_china(&self) -> bool {
        self.name == "Китай"
    }
}

const fn country(
    name: &'static str,
    workbook_label: Option<&'static str>,
    vat_bp: i64,
    markup_ru_bp: i64,
    markup_tr_bp: i64,
) -> Country {
    Country {
        name,
        workbook_label,
        vat_bp,
        markup_ru_bp,
        markup_tr_bp,
    }
}

pub const COUNTRIES: &[Country] = &[
    country("Турция", None, 2000, 200, 0),
    country(
        "Турция (транзитная зона)",
        Some("Турция (отгрузка на транзитной зоне)"),
        0,
        200,
        0,
    ),
    country("Россия", None, 2000, 0, 0),
    country("Китай", None, 1300, 200, 0),
    country("Литва", None, 2100, 400, 200),
    country("Латвия", None, 2100, 400, 200),
    country("Болгария", None, 2000, 400, 200),
    country("Польша", None, 2300, 400, 200),
    country(
        "ЕС (между странами ЕС)",
        Some("ЕС (закупка между странами ЕС)"),
        0,
        400,
        200,
    ),
    country("ОАЭ", None, 500, 300, 100),
    country("Прочие", None, 0, 200, 0),
];

/// The supplier country by engine value or workbook label.
pub fn country_named(name: &str) -> Option<&'static Country> {
    let name = name.trim();
    COUNTRIES
        .iter()
        .find(|c| c.name == name || c.workbook_label == Some(name))
}

/// `offer_sale_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaleType {
    /// поставка: supply.
    Supply,
    /// транзит: transit.
    Transit,
    /// финтранзит: financial transit.
    FinTransit,
    /// экспорт: export.
    Export,
}

pub const SALE_TYPES: &[(&str, SaleType)] = &[
    ("поставка", SaleType::Supply),
    ("транзит", SaleType::Transit),
    ("финтранзит", SaleType::FinTransit),
    ("экспорт", SaleType::Export),
];

pub const INCOTERMS: &[&str] = &["DDP", "DAP", "CIF", "FOB", "EXW"];

/// Russian VAT rate for sales and imports (§3.2): 22 % from 2026 (by delivery date),
/// 20 % before, 0 for a seller outside Russia.
pub fn vat_ru(region: Region, delivery_year: Option<i32>) -> Decimal {
    match (region, delivery_year) {
        (Region::Ru, Some(year)) if year >= 2026 => Decimal::new(22, 2),
        (Region::Ru, _) => Decimal::new(20, 2),
        _ => Decimal::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(
            seller("МАСТЕР БЭРИНГ ООО (ИНН 0242013464)").unwrap().1,
            Region::Ru
        );
        assert_eq!(
            seller("GESTUS DIŞ TİCARET LİMİTED ŞİRKETİ").unwrap().1,
            Region::Tr
        );
        assert!(seller("ACME").is_none());
        let eu = country_named("ЕС (закупка между странами ЕС)").unwrap();
        assert_eq!(eu.name, "ЕС (между странами ЕС)");
        assert_eq!(
            eu.internal_markup(Region::Tr).unwrap().to_string(),
            "0.0200"
        );
        let china = country_named("Китай").unwrap();
        assert!(china.is_china());
        assert_eq!(china.vat().to_string(), "0.1300");
        assert!(china.internal_markup(Region::Cn).is_none());
    }

    #[test]
    fn russian_vat() {
        assert_eq!(vat_ru(Region::Ru, None).to_string(), "0.20");
        assert_eq!(vat_ru(Region::Ru, Some(2025)).to_string(), "0.20");
        assert_eq!(vat_ru(Region::Ru, Some(2026)).to_string(), "0.22");
        assert!(vat_ru(Region::Tr, Some(2027)).is_zero());
    }
}
