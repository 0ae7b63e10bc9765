//! The PDF page's geometry, in points: shared by the layout (pdf.rs) and the painting
//! (paint.rs), so neither imports the other.

/// A4 width.
pub(super) const PAGE_WIDTH: f32 = 595.28;
/// A4 height.
pub(super) const PAGE_HEIGHT: f32 = 841.89;
/// Left, right and top margin.
pub(super) const MARGIN: f32 = 40.0;
/// Size of the footer text and the page number.
pub(super) const FOOTER_SIZE: f32 = 8.0;
/// Distance between the footer's lines.
pub(super) const FOOTER_LEADING: f32 = 10.0;
/// Baseline of the page number and of the footer's last line.
pub(super) const FOOTER_BASELINE: f32 = PAGE_HEIGHT - 24.0;
