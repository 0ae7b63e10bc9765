//! The fonts every PDF embeds (Noto Sans Regular and Bold, in `host/assets/fonts` with
//! their OFL licence) and text set in them: shaped once, measured, cut to a width or
//! wrapped into lines.

use krilla::text::{Font, GlyphId, KrillaGlyph};
use std::sync::LazyLock;

static REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Regular.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Bold.ttf");

/// A typeface: the font krilla embeds and the face rustybuzz shapes with.
pub struct Typeface {
    pub font: Font,
    face: rustybuzz::Face<'static>,
}

/// The two weights documents use, parsed once per process.
pub struct Fonts {
    pub regular: Typeface,
    pub bold: Typeface,
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| Fonts {
    regular: Typeface::new(REGULAR_TTF),
    bold: Typeface::new(BOLD_TTF),
});

/// The embedded fonts.
pub fn fonts() -> &'static Fonts {
    &FONTS
}

/// A run of text shaped in one typeface; advances are in em (multiply by the size).
pub struct Shaped {
    pub text: String,
    pub glyphs: Vec<KrillaGlyph>,
    /// Width at size 1.
    pub em_width: f32,
}

impl Shaped {
    /// Width in points at `size`.
    pub fn width(&self, size: f32) -> f32 {
        self.em_width * size
    }
}

const ELLIPSIS: char = '…';

impl Typeface {
    fn new(bytes: &'static [u8]) -> Self {
        Self {
            font: Font::new(bytes.into(), 0).expect("the bundled font parses"),
            face: rustybuzz::Face::from_slice(bytes, 0).expect("the bundled font parses"),
        }
    }

    /// `text` shaped left to right (one line: line breaks become spaces).
    pub fn shape(&self, text: &str) -> Shaped {
        let text: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(&text);
        buffer.guess_segment_properties();
        let output = rustybuzz::shape(&self.face, &[], buffer);
        let per_em = self.face.units_per_em() as f32;
        let infos = output.glyph_infos();
        let positions = output.glyph_positions();
        let mut glyphs = Vec::with_capacity(infos.len());
        let mut em_width = 0.0;
        for (index, (info, position)) in infos.iter().zip(positions).enumerate() {
            let start = info.cluster as usize;
            let end = infos[index + 1..]
                .iter()
                .find(|next| next.cluster != info.cluster)
                .map_or(text.len(), |next| next.cluster as usize);
            let advance = position.x_advance as f32 / per_em;
            em_width += advance;
            glyphs.push(KrillaGlyph::new(
                GlyphId::new(info.glyph_id),
                advance,
                position.x_offset as f32 / per_em,
                position.y_offset as f32 / per_em,
                position.y_advance as f32 / per_em,
                start..end,
                None,
            ));
        }
        Shaped {
            text,
            glyphs,
            em_width,
        }
    }

    /// `text` shaped, cut with an ellipsis to fit `max_width` points at `size`.
    pub fn shape_within(&self, text: &str, size: f32, max_width: f32) -> Shaped {
        let whole = self.shape(text);
        if whole.width(size) <= max_width {
            return whole;
        }
        let ends: Vec<usize> = text.char_indices().map(|(at, _)| at).collect();
        // The longest prefix that fits with the ellipsis, by bisection on characters.
        let (mut fits, mut too_long) = (0, ends.len());
        while too_long - fits > 1 {
            let middle = (fits + too_long) / 2;
            let candidate = self.shape(&format!("{}{ELLIPSIS}", &text[..ends[middle]]));
            match candidate.width(size) <= max_width {
                true => fits = middle,
                false => too_long = middle,
            }
        }
        self.shape(&format!("{}{ELLIPSIS}", text[..ends[fits]].trim_end()))
    }

    /// `text` broken at spaces into lines of at most `max_width` points at `size`; a
    /// word longer than a line is cut with an ellipsis.
    pub fn wrap(&self, text: &str, size: f32, max_width: f32) -> Vec<Shaped> {
        let mut lines = Vec::new();
        for paragraph in text.lines() {
            let mut line = String::new();
            for word in paragraph.split_whitespace() {
                let candidate = match line.is_empty() {
                    true => word.to_owned(),
                    false => format!("{line} {word}"),
                };
                if line.is_empty() || self.shape(&candidate).width(size) <= max_width {
                    line = candidate;
                } else {
                    lines.push(self.shape_within(&line, size, max_width));
                    line = word.to_owned();
                }
            }
            lines.push(self.shape_within(&line, size, max_width));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use krilla::text::Glyph;

    #[test]
    fn cyrillic_shapes_to_real_glyphs() {
        let shaped = fonts().regular.shape("Подшипники для ACME");
        assert_eq!(shaped.glyphs.len(), "Подшипники для ACME".chars().count());
        assert!(
            shaped
                .glyphs
                .iter()
                .all(|glyph| glyph.glyph_id().to_u32() != 0),
            "no .notdef glyph"
        );
    }

    #[test]
    fn long_text_is_cut_to_the_width_or_wrapped() {
        let typeface = &fonts().regular;
        let text = "A very long product name that cannot fit in a narrow column";
        let cut = typeface.shape_within(text, 9.0, 100.0);
        assert!(cut.width(9.0) <= 100.0);
        assert!(cut.text.ends_with(ELLIPSIS), "{}", cut.text);
        let lines = typeface.wrap(text, 9.0, 100.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|line| line.width(9.0) <= 100.0));
        let words: Vec<String> = lines.iter().map(|line| line.text.clone()).collect();
        assert_eq!(words.join(" "), text);
    }
}
