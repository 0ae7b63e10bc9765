//! The PDF of a quote: A4 in Noto Sans; a header with the logo, the organization and
//! the quote's number, title, date, status and currency; the lines in a table whose
//! header repeats on every page; subtotal, tax and total; the plugin's warnings; and
//! on every page the organization's footer text and "Page n of N".
//!
//! Layout here (every page as a list of marks, so the page count is known), then
//! painting ([`super::paint`]).

use super::fonts::{Shaped, Typeface, fonts};
use super::model::{QuoteDocument, grouped};
use super::page::{FOOTER_BASELINE, FOOTER_LEADING, FOOTER_SIZE, MARGIN, PAGE_WIDTH};
use super::paint::{Mark, paint};
use krilla::image::Image;

const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
/// Size of table text.
const BODY_SIZE: f32 = 9.0;
/// Height of a table row.
const ROW_HEIGHT: f32 = 14.0;
/// Baseline of a row's text below the row's top.
const ROW_BASELINE: f32 = 10.0;
/// Room kept for the page number on the footer's lines.
const PAGE_NUMBER_WIDTH: f32 = 90.0;
const LOGO_MAX_WIDTH: f32 = 160.0;
const LOGO_MAX_HEIGHT: f32 = 48.0;
/// Space between a cell's text and the next cell.
const CELL_GAP: f32 = 6.0;

/// A table column: where it starts, how wide it is, which side its text keeps to.
struct Column {
    label: &'static str,
    x: f32,
    width: f32,
    right: bool,
}

const COLUMNS: [Column; 5] = [
    Column {
        label: "SKU",
        x: MARGIN,
        width: 80.0,
        right: false,
    },
    Column {
        label: "Name",
        x: MARGIN + 80.0,
        width: CONTENT_WIDTH - 315.0,
        right: false,
    },
    Column {
        label: "Quantity",
        x: PAGE_WIDTH - MARGIN - 235.0,
        width: 60.0,
        right: true,
    },
    Column {
        label: "Unit price",
        x: PAGE_WIDTH - MARGIN - 175.0,
        width: 85.0,
        right: true,
    },
    Column {
        label: "Total",
        x: PAGE_WIDTH - MARGIN - 90.0,
        width: 90.0,
        right: true,
    },
];

/// Pages being filled from top to bottom.
struct Layout {
    pages: Vec<Vec<Mark>>,
    /// Top of the next thing to place.
    y: f32,
    /// Lowest y content may reach on a page (the footer is below).
    bottom: f32,
}

impl Layout {
    fn mark(&mut self, mark: Mark) {
        self.pages.last_mut().expect("a page").push(mark);
    }

    /// Text at `x` (its left edge, or its right edge when `right`).
    fn text(
        &mut self,
        x: f32,
        baseline: f32,
        size: f32,
        typeface: &'static Typeface,
        shaped: Shaped,
        right: bool,
    ) {
        let x = match right {
            true => x - shaped.width(size),
            false => x,
        };
        self.mark(Mark::Text {
            x,
            baseline,
            size,
            typeface,
            shaped,
        });
    }

    /// Starts a new page unless `height` still fits on this one; a new page repeats the
    /// table header when `in_table`.
    fn room(&mut self, height: f32, in_table: bool) {
        if self.y + height <= self.bottom {
            return;
        }
        self.pages.push(Vec::new());
        self.y = MARGIN;
        if in_table {
            self.table_header();
        }
    }

    fn table_header(&mut self) {
        let bold = &fonts().bold;
        let baseline = self.y + ROW_BASELINE;
        for column in &COLUMNS {
            let x = if column.right {
                column.x + column.width
            } else {
                column.x
            };
            self.text(
                x,
                baseline,
                BODY_SIZE,
                bold,
                bold.shape(column.label),
                column.right,
            );
        }
        self.mark(Mark::Rule {
            y: self.y + ROW_HEIGHT,
        });
        self.y += ROW_HEIGHT + 2.0;
    }

    /// One table row: a cell per column, each cut to its width.
    fn row(&mut self, cells: [String; 5], typeface: &'static Typeface) {
        self.room(ROW_HEIGHT, true);
        let baseline = self.y + ROW_BASELINE;
        for (column, cell) in COLUMNS.iter().zip(cells) {
            let shaped = typeface.shape_within(&cell, BODY_SIZE, column.width - CELL_GAP);
            let x = if column.right {
                column.x + column.width
            } else {
                column.x
            };
            self.text(x, baseline, BODY_SIZE, typeface, shaped, column.right);
        }
        self.y += ROW_HEIGHT;
    }
}

/// The PDF bytes of `document`.
pub fn render(document: &QuoteDocument) -> Result<Vec<u8>, String> {
    let logo = match &document.logo_png {
        Some(png) => Some(Image::from_png(png.clone().into(), true)?),
        None => None,
    };
    let regular = &fonts().regular;
    let footer = match &document.footer_text {
        Some(text) => regular.wrap(text, FOOTER_SIZE, CONTENT_WIDTH - PAGE_NUMBER_WIDTH),
        None => Vec::new(),
    };
    let footer_top =
        FOOTER_BASELINE - FOOTER_SIZE - footer.len().saturating_sub(1) as f32 * FOOTER_LEADING;
    let mut layout = Layout {
        pages: vec![Vec::new()],
        y: MARGIN,
        bottom: footer_top - 10.0,
    };
    header(&mut layout, document, logo.as_ref());
    layout.table_header();
    for line in &document.lines {
        let cells = [
            line.sku.clone(),
            line.name.clone(),
            grouped(&line.quantity),
            grouped(&line.unit_price),
            grouped(&line.total),
        ];
        layout.row(cells, regular);
    }
    totals(&mut layout, document);
    warnings(&mut layout, &document.warnings);
    paint(layout.pages, &footer, logo, document)
}

/// Logo at the top right; organization, number, title and the quote's facts at the left.
fn header(layout: &mut Layout, document: &QuoteDocument, logo: Option<&Image>) {
    let (regular, bold) = (&fonts().regular, &fonts().bold);
    let mut text_width = CONTENT_WIDTH;
    let mut logo_bottom = MARGIN;
    if let Some(logo) = logo {
        let (pixels_wide, pixels_high) = logo.size();
        let scale = (LOGO_MAX_WIDTH / pixels_wide as f32).min(LOGO_MAX_HEIGHT / pixels_high as f32);
        let (width, height) = (pixels_wide as f32 * scale, pixels_high as f32 * scale);
        layout.mark(Mark::Logo {
            x: PAGE_WIDTH - MARGIN - width,
            y: MARGIN,
            width,
            height,
        });
        text_width -= width + 12.0;
        logo_bottom += height;
    }
    let mut y = MARGIN;
    let mut line = |layout: &mut Layout, typeface: &'static Typeface, size: f32, text: &str| {
        for shaped in typeface.wrap(text, size, text_width) {
            layout.text(MARGIN, y + size, size, typeface, shaped, false);
            y += size * 1.4;
        }
    };
    line(layout, bold, 16.0, &document.organization);
    line(layout, bold, 13.0, &format!("Quote {}", document.number));
    if let Some(title) = &document.title {
        line(layout, regular, 11.0, title);
    }
    let facts = format!(
        "Date: {}    Status: {}    Currency: {}",
        document.date.format("%Y-%m-%d"),
        document.status,
        document.currency
    );
    line(layout, regular, BODY_SIZE, &facts);
    layout.y = y.max(logo_bottom) + 12.0;
}

/// Subtotal, tax and total under the table's last row, kept together.
fn totals(layout: &mut Layout, document: &QuoteDocument) {
    let (regular, bold) = (&fonts().regular, &fonts().bold);
    layout.room(3.0 * ROW_HEIGHT + 4.0, false);
    layout.mark(Mark::Rule { y: layout.y + 1.0 });
    layout.y += 4.0;
    let total_label = format!("Total, {}", document.currency);
    let rows: [(&str, &rust_decimal::Decimal, &'static Typeface); 3] = [
        ("Subtotal", &document.subtotal, regular),
        ("Tax", &document.tax, regular),
        (&total_label, &document.total, bold),
    ];
    let [_, _, quantity, unit_price, total] = &COLUMNS;
    for (label, amount, typeface) in rows {
        let baseline = layout.y + ROW_BASELINE;
        let label_right = unit_price.x + unit_price.width;
        let label_width = label_right - quantity.x - CELL_GAP;
        let label = typeface.shape_within(label, BODY_SIZE, label_width);
        layout.text(label_right, baseline, BODY_SIZE, typeface, label, true);
        let amount = typeface.shape_within(&grouped(amount), BODY_SIZE, total.width - CELL_GAP);
        layout.text(
            total.x + total.width,
            baseline,
            BODY_SIZE,
            typeface,
            amount,
            true,
        );
        layout.y += ROW_HEIGHT;
    }
}

/// The plugin's warnings, wrapped to the content width.
fn warnings(layout: &mut Layout, warnings: &[String]) {
    if warnings.is_empty() {
        return;
    }
    let (regular, bold) = (&fonts().regular, &fonts().bold);
    layout.y += 10.0;
    layout.room(2.0 * ROW_HEIGHT, false);
    layout.text(
        MARGIN,
        layout.y + ROW_BASELINE,
        BODY_SIZE,
        bold,
        bold.shape("Warnings"),
        false,
    );
    layout.y += ROW_HEIGHT;
    for warning in warnings {
        for shaped in regular.wrap(warning, BODY_SIZE, CONTENT_WIDTH) {
            layout.room(12.0, false);
            layout.text(
                MARGIN,
                layout.y + BODY_SIZE,
                BODY_SIZE,
                regular,
                shaped,
                false,
            );
            layout.y += 12.0;
        }
    }
}
