//! The checks a logo passes before it is stored: a PNG that decodes, within the byte
//! and pixel limits, so a document never fails on it later.

use crate::config::DocumentConfig;
use std::io::Cursor;

/// What a stored logo is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogoInfo {
    pub width: u32,
    pub height: u32,
}

/// Why a logo is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LogoError {
    #[error("the logo is {bytes} bytes; the limit is {max} bytes")]
    TooLarge { bytes: usize, max: usize },
    #[error("the logo is {width}x{height} pixels; at most {max} pixels a side are allowed")]
    TooManyPixels { width: u32, height: u32, max: u32 },
    #[error("the logo is not a PNG image that decodes: {0}")]
    NotPng(String),
}

/// Checks `png` against the limits: size, signature, dimensions (from the header,
/// before anything is decoded), then a full decode.
pub fn check_logo(png: &[u8], limits: &DocumentConfig) -> Result<LogoInfo, LogoError> {
    if png.len() > limits.max_logo_bytes {
        return Err(LogoError::TooLarge {
            bytes: png.len(),
            max: limits.max_logo_bytes,
        });
    }
    let not_png = |error: png::DecodingError| LogoError::NotPng(error.to_string());
    let mut reader = png::Decoder::new(Cursor::new(png))
        .read_info()
        .map_err(not_png)?;
    let (width, height) = (reader.info().width, reader.info().height);
    let max = limits.max_logo_pixels;
    if width > max || height > max {
        return Err(LogoError::TooManyPixels { width, height, max });
    }
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| LogoError::NotPng("the image is too large to decode".into()))?;
    let mut pixels = vec![0; size];
    reader.next_frame(&mut pixels).map_err(not_png)?;
    Ok(LogoInfo { width, height })
}

/// The dimensions a stored logo declares (its header only, nothing decoded).
pub fn dimensions(png: &[u8]) -> Option<LogoInfo> {
    let reader = png::Decoder::new(Cursor::new(png)).read_info().ok()?;
    let info = reader.info();
    Some(LogoInfo {
        width: info.width,
        height: info.height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `width` x `height` grey PNG.
    pub fn png_of(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Grayscale);
        let mut writer = encoder.write_header().unwrap();
        writer
            .write_image_data(&vec![128; (width * height) as usize])
            .unwrap();
        writer.finish().unwrap();
        bytes
    }

    #[test]
    fn a_logo_is_a_png_within_the_limits() {
        let limits = DocumentConfig {
            max_logo_pixels: 64,
            ..DocumentConfig::default()
        };
        assert_eq!(
            check_logo(&png_of(64, 10), &limits),
            Ok(LogoInfo {
                width: 64,
                height: 10
            })
        );
        assert!(matches!(
            check_logo(&png_of(65, 10), &limits),
            Err(LogoError::TooManyPixels { width: 65, .. })
        ));
        assert!(matches!(
            check_logo(b"GIF89a....", &limits),
            Err(LogoError::NotPng(_))
        ));
        let mut truncated = png_of(32, 32);
        truncated.truncate(truncated.len() - 20);
        assert!(matches!(
            check_logo(&truncated, &limits),
            Err(LogoError::NotPng(_))
        ));
        let small = DocumentConfig {
            max_logo_bytes: 10,
            ..limits
        };
        assert!(matches!(
            check_logo(&png_of(8, 8), &small),
            Err(LogoError::TooLarge { max: 10, .. })
        ));
    }
}
