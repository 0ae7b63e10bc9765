//! Quote documents, the PDF and XLSX a seller sends to the customer: the model built
//! from a stored quote ([`model`]), the two writers ([`pdf`], [`xlsx`]), the fonts the PDF
//! embeds, the logo checks, and [`Documents`], which renders on blocking threads, a few
//! at a time.

mod fonts;
pub mod logo;
pub mod model;
mod page;
mod paint;
mod pdf;
mod xlsx;

use crate::config::DocumentConfig;
use crate::store::{Branding, Quote};
use model::{ModelError, QuoteDocument};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// A document format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Xlsx,
}

impl Format {
    /// The media type of a response in this format.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Xlsx => "xlsx",
        }
    }

    fn render(self, document: &QuoteDocument) -> Result<Vec<u8>, String> {
        match self {
            Self::Pdf => pdf::render(document),
            Self::Xlsx => xlsx::render(document),
        }
    }
}

/// Why no document was made.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The quote is beyond what documents are made for.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Every render slot stayed busy for the whole wait.
    #[error("every document render slot is busy")]
    Busy,
    /// The writer failed (a bug).
    #[error("rendering the document: {0}")]
    Render(String),
}

/// Renders documents under the `[documents]` limits: at most
/// `max_concurrent_renders` at once, each on a blocking thread so the HTTP runtime
/// keeps answering; a request waits `render_wait_ms` for a slot, then gets
/// [`DocumentError::Busy`].
pub struct Documents {
    limits: DocumentConfig,
    slots: Arc<Semaphore>,
}

impl Documents {
    pub fn new(limits: DocumentConfig) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(limits.max_concurrent_renders)),
            limits,
        }
    }

    /// The configured limits.
    pub fn limits(&self) -> &DocumentConfig {
        &self.limits
    }

    /// `quote` of `organization` with its `branding`, in `format`.
    pub async fn render(
        &self,
        quote: Quote,
        organization: String,
        branding: Option<Branding>,
        format: Format,
    ) -> Result<Vec<u8>, DocumentError> {
        // Refused before it takes a slot: a quote too long for a document.
        model::check_line_count(&quote, &self.limits)?;
        let wait = Duration::from_millis(self.limits.render_wait_ms);
        let slot = tokio::time::timeout(wait, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| DocumentError::Busy)?
            .map_err(|_| DocumentError::Busy)?;
        let limits = self.limits.clone();
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let started = Instant::now();
            let document = QuoteDocument::build(&quote, &organization, branding, &limits)?;
            let bytes = format.render(&document).map_err(DocumentError::Render)?;
            tracing::debug!(
                number = %document.number,
                lines = document.lines.len(),
                format = format.extension(),
                bytes = bytes.len(),
                elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                "rendered a quote document"
            );
            Ok::<_, DocumentError>(bytes)
        })
        .await
        .map_err(|error| DocumentError::Render(error.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn renders_wait_for_a_slot_then_give_up() {
        let documents = Documents::new(DocumentConfig {
            max_concurrent_renders: 1,
            render_wait_ms: 20,
            ..DocumentConfig::default()
        });
        let held = documents.slots.clone().acquire_owned().await.unwrap();
        let started = Instant::now();
        let quote = sample_quote();
        let refused = documents
            .render(quote.clone(), "ACME".into(), None, Format::Pdf)
            .await;
        assert!(matches!(refused, Err(DocumentError::Busy)), "{refused:?}");
        assert!(started.elapsed() >= Duration::from_millis(20), "it waited");
        drop(held);
        let pdf = documents
            .render(quote, "ACME".into(), None, Format::Pdf)
            .await
            .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }

    fn sample_quote() -> Quote {
        let now = chrono::Utc::now();
        Quote {
            id: uuid::Uuid::now_v7(),
            organization_id: uuid::Uuid::now_v7(),
            number: "Q-2026-000001".into(),
            title: Some("Подшипники".into()),
            status: crate::store::QuoteStatus::Draft,
            currency: "RUB".into(),
            subtotal: "10.00".parse().unwrap(),
            tax: "2.00".parse().unwrap(),
            total: "12.00".parse().unwrap(),
            request: serde_json::json!({"currency": "RUB", "date": "2026-11-29", "items": [
                {"id": "1", "sku": "A-1", "name": "Bearing", "quantity": "1", "unit_price": "10", "currency": "RUB"}]}),
            result: serde_json::json!({"currency": "RUB", "subtotal": "10.00", "tax": "2.00", "total": "12.00",
                "breakdown": {}, "warnings": [], "items": [
                {"id": "1", "unit_price": "10.00", "total": "10.00", "breakdown": {"markup_percent": "0"}}]}),
            plugin_name: "standard".into(),
            plugin_version: 1,
            plugin_sha256: String::new(),
            rates: serde_json::json!([]),
            fuel_used: 0,
            revision: 1,
            priced_at: now,
            created_at: now,
            updated_at: now,
        }
    }
}
