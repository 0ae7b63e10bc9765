//! The XLSX of a quote: a "Quote" sheet with the organization, the quote's facts, its
//! lines, subtotal, tax and total, the plugin's warnings and the footer text, and a
//! "Breakdown" sheet with each line's breakdown fields. Amounts and quantities are
//! numeric cells with number formats, the date a date cell.

use super::model::QuoteDocument;
use chrono::Datelike;
use rust_decimal::Decimal;
use rust_xlsxwriter::{
    ColNum, ExcelDateTime, Format, FormatBorder, Image, RowNum, Workbook, Worksheet, XlsxError,
};
use std::str::FromStr;

/// Row of the lines table's header on the "Quote" sheet.
const TABLE_HEADER_ROW: RowNum = 7;
const LINE_HEADERS: [&str; 5] = ["SKU", "Name", "Quantity", "Unit price", "Total"];
/// Most decimal places a number format shows.
const MAX_SHOWN_DECIMALS: u32 = 10;

/// The XLSX bytes of `document`.
pub fn render(document: &QuoteDocument) -> Result<Vec<u8>, String> {
    write(document).map_err(|error| format!("writing the XLSX: {error}"))
}

fn write(document: &QuoteDocument) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    quote_sheet(workbook.add_worksheet(), document)?;
    breakdown_sheet(workbook.add_worksheet(), document)?;
    workbook.save_to_buffer()
}

/// `#,##0.00` for amounts with two decimals, `#,##0` for none.
fn number_format(decimals: u32) -> Format {
    let decimals = decimals.min(MAX_SHOWN_DECIMALS) as usize;
    let code = match decimals {
        0 => "#,##0".to_owned(),
        n => format!("#,##0.{}", "0".repeat(n)),
    };
    Format::new().set_num_format(code)
}

/// The largest scale of `amounts`: every value shows as precisely as it is stored.
fn scale_of<'a>(amounts: impl Iterator<Item = &'a Decimal>) -> u32 {
    amounts.map(Decimal::scale).max().unwrap_or(0)
}

/// A decimal as the cell's number (the nearest double of its exact text).
fn number(amount: &Decimal) -> f64 {
    amount.to_string().parse().unwrap_or(f64::NAN)
}

fn quote_sheet(sheet: &mut Worksheet, document: &QuoteDocument) -> Result<(), XlsxError> {
    sheet.set_name("Quote")?;
    let bold = Format::new().set_bold();
    let heading = Format::new().set_bold().set_font_size(14);
    let header = Format::new()
        .set_bold()
        .set_border_bottom(FormatBorder::Thin);
    let date = Format::new()
        .set_num_format("yyyy-mm-dd")
        .set_align(rust_xlsxwriter::FormatAlign::Left);
    let lines = &document.lines;
    let quantity = number_format(scale_of(lines.iter().map(|line| &line.quantity)));
    let money = number_format(scale_of(
        lines
            .iter()
            .flat_map(|line| [&line.unit_price, &line.total])
            .chain([&document.subtotal, &document.tax, &document.total]),
    ));
    let money_bold = money.clone().set_bold();

    sheet.write_string_with_format(0, 0, &document.organization, &heading)?;
    let facts: [(&str, &str); 4] = [
        ("Quote", &document.number),
        ("Title", document.title.as_deref().unwrap_or("")),
        ("Status", document.status.as_str()),
        ("Currency", &document.currency),
    ];
    for (row, (label, value)) in (1..).zip(facts) {
        sheet.write_string_with_format(row, 0, label, &bold)?;
        sheet.write_string(row, 1, value)?;
    }
    sheet.write_string_with_format(5, 0, "Date", &bold)?;
    let day = ExcelDateTime::from_ymd(
        u16::try_from(document.date.year()).unwrap_or(1900),
        document.date.month() as u8,
        document.date.day() as u8,
    )?;
    sheet.write_date_with_format(5, 1, &day, &date)?;
    if let Some(png) = &document.logo_png {
        let logo = Image::new_from_buffer(png)?.set_scale_to_size(240, 96, true);
        sheet.insert_image(0, 3, &logo)?;
    }

    for (col, label) in (0..).zip(LINE_HEADERS) {
        sheet.write_string_with_format(TABLE_HEADER_ROW, col, label, &header)?;
    }
    let mut row = TABLE_HEADER_ROW + 1;
    for line in lines {
        sheet.write_string(row, 0, &line.sku)?;
        sheet.write_string(row, 1, &line.name)?;
        sheet.write_number_with_format(row, 2, number(&line.quantity), &quantity)?;
        sheet.write_number_with_format(row, 3, number(&line.unit_price), &money)?;
        sheet.write_number_with_format(row, 4, number(&line.total), &money)?;
        row += 1;
    }
    row += 1;
    let total_label = format!("Total, {}", document.currency);
    let totals = [
        ("Subtotal", &document.subtotal, &bold, &money),
        ("Tax", &document.tax, &bold, &money),
        (total_label.as_str(), &document.total, &bold, &money_bold),
    ];
    for (label, amount, label_format, amount_format) in totals {
        sheet.write_string_with_format(row, 3, label, label_format)?;
        sheet.write_number_with_format(row, 4, number(amount), amount_format)?;
        row += 1;
    }
    if !document.warnings.is_empty() {
        row += 1;
        sheet.write_string_with_format(row, 0, "Warnings", &bold)?;
        for warning in &document.warnings {
            row += 1;
            sheet.write_string(row, 0, warning)?;
        }
        row += 1;
    }
    if let Some(footer) = &document.footer_text {
        row += 1;
        sheet.write_string_with_format(row, 0, footer, &Format::new().set_italic())?;
    }

    for (col, width) in (0..).zip([16.0, 40.0, 12.0, 16.0, 18.0]) {
        sheet.set_column_width(col, width)?;
    }
    sheet.set_freeze_panes(TABLE_HEADER_ROW + 1, 0)?;
    sheet.set_repeat_rows(TABLE_HEADER_ROW, TABLE_HEADER_ROW)?;
    sheet.set_footer("&RPage &P of &N");
    sheet.set_paper_size(9); // A4
    Ok(())
}

fn breakdown_sheet(sheet: &mut Worksheet, document: &QuoteDocument) -> Result<(), XlsxError> {
    sheet.set_name("Breakdown")?;
    let header = Format::new()
        .set_bold()
        .set_border_bottom(FormatBorder::Thin);
    sheet.write_string_with_format(0, 0, "Line", &header)?;
    sheet.write_string_with_format(0, 1, "SKU", &header)?;
    for (col, name) in (2..).zip(&document.breakdown_columns) {
        sheet.write_string_with_format(0, col, name, &header)?;
    }
    for (row, line) in (1..).zip(&document.lines) {
        write_field(sheet, row, 0, &line.id)?;
        sheet.write_string(row, 1, &line.sku)?;
        for (col, value) in (2..).zip(&line.breakdown) {
            if let Some(value) = value {
                write_field(sheet, row, col, value)?;
            }
        }
    }
    sheet.set_column_width(1, 16.0)?;
    sheet.set_freeze_panes(1, 2)?;
    Ok(())
}

/// A value a plugin gave as text: a number cell when it is a decimal, text otherwise.
fn write_field(
    sheet: &mut Worksheet,
    row: RowNum,
    col: ColNum,
    value: &str,
) -> Result<(), XlsxError> {
    match Decimal::from_str(value) {
        Ok(amount) => sheet.write_number(row, col, number(&amount)),
        Err(_) => sheet.write_string(row, col, value),
    }?;
    Ok(())
}
