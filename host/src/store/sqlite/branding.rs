//! SQLite: the branding of an organization's quote documents.

use async_trait::async_trait;
use uuid::Uuid;

use super::super::clock::now;
use super::super::error::Result;
use super::super::traits::BrandingStore;
use super::super::types::Branding;
use super::super::values::values;
use super::super::{rows, sql};
use super::SqliteStore;
use super::query;

#[async_trait]
impl BrandingStore for SqliteStore {
    async fn branding(&self, org: Uuid) -> Result<Option<Branding>> {
        let row = query(sql::BRANDING, &values![org])
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::branding).transpose()
    }

    async fn set_branding(
        &self,
        org: Uuid,
        footer_text: Option<&str>,
        logo_png: Option<&[u8]>,
    ) -> Result<Branding> {
        let updated_at = now();
        query(
            sql::SET_BRANDING,
            &values![org, footer_text, logo_png, updated_at],
        )
        .execute(&self.pool)
        .await?;
        Ok(Branding {
            footer_text: footer_text.map(str::to_owned),
            logo_png: logo_png.map(<[u8]>::to_vec),
            updated_at,
        })
    }
}
