//! Painting laid-out PDF pages with krilla: text as shaped glyphs (so it extracts and
//! searches as text), rules, the logo, and on every page the footer and "Page n of N".

use super::fonts::{Shaped, Typeface, fonts};
use super::model::QuoteDocument;
use super::page::{FOOTER_BASELINE, FOOTER_LEADING, FOOTER_SIZE, MARGIN, PAGE_HEIGHT, PAGE_WIDTH};
use krilla::Document;
use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Size, Transform};
use krilla::image::Image;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;

/// Something drawn on a page.
pub(super) enum Mark {
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        typeface: &'static Typeface,
        shaped: Shaped,
    },
    /// A thin horizontal line across the content width.
    Rule { y: f32 },
    Logo {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
    },
}

/// Draws the laid-out pages, each with the footer and its page number.
pub(super) fn paint(
    pages: Vec<Vec<Mark>>,
    footer: &[Shaped],
    logo: Option<Image>,
    document: &QuoteDocument,
) -> Result<Vec<u8>, String> {
    let regular = &fonts().regular;
    let mut pdf = Document::new();
    let title = match &document.title {
        Some(title) => format!("Quote {}: {title}", document.number),
        None => format!("Quote {}", document.number),
    };
    pdf.set_metadata(
        Metadata::new()
            .title(title)
            .creator(format!("quote-host {}", env!("CARGO_PKG_VERSION"))),
    );
    let count = pages.len();
    let size = Size::from_wh(PAGE_WIDTH, PAGE_HEIGHT).expect("A4 is a size");
    for (index, marks) in pages.into_iter().enumerate() {
        let mut page = pdf.start_page_with(PageSettings::new(size));
        let mut surface = page.surface();
        surface.set_fill(Some(Fill::default()));
        for mark in marks {
            draw(&mut surface, mark, logo.as_ref());
        }
        for (line, shaped) in footer.iter().enumerate() {
            let baseline = FOOTER_BASELINE - (footer.len() - 1 - line) as f32 * FOOTER_LEADING;
            draw_text(&mut surface, MARGIN, baseline, FOOTER_SIZE, regular, shaped);
        }
        let number = regular.shape(&format!("Page {} of {count}", index + 1));
        let x = PAGE_WIDTH - MARGIN - number.width(FOOTER_SIZE);
        draw_text(
            &mut surface,
            x,
            FOOTER_BASELINE,
            FOOTER_SIZE,
            regular,
            &number,
        );
        surface.finish();
        page.finish();
    }
    pdf.finish()
        .map_err(|error| format!("writing the PDF: {error:?}"))
}

fn draw(surface: &mut Surface<'_>, mark: Mark, logo: Option<&Image>) {
    match mark {
        Mark::Text {
            x,
            baseline,
            size,
            typeface,
            shaped,
        } => draw_text(surface, x, baseline, size, typeface, &shaped),
        Mark::Rule { y } => {
            let mut path = PathBuilder::new();
            path.move_to(MARGIN, y);
            path.line_to(PAGE_WIDTH - MARGIN, y);
            let Some(path) = path.finish() else { return };
            surface.set_fill(None);
            surface.set_stroke(Some(Stroke {
                paint: luma::Color::new(140).into(),
                width: 0.5,
                ..Stroke::default()
            }));
            surface.draw_path(&path);
            surface.set_stroke(None);
            surface.set_fill(Some(Fill::default()));
        }
        Mark::Logo {
            x,
            y,
            width,
            height,
        } => {
            let (Some(logo), Some(size)) = (logo, Size::from_wh(width, height)) else {
                return;
            };
            surface.push_transform(&Transform::from_translate(x, y));
            surface.draw_image(logo.clone(), size);
            surface.pop();
        }
    }
}

fn draw_text(
    surface: &mut Surface<'_>,
    x: f32,
    baseline: f32,
    size: f32,
    typeface: &Typeface,
    shaped: &Shaped,
) {
    surface.draw_glyphs(
        Point::from_xy(x, baseline),
        &shaped.glyphs,
        typeface.font.clone(),
        &shaped.text,
        size,
        false,
    );
}
