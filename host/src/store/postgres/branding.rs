//! PostgreSQL: the branding of an organization's quote documents, read and written in
//! the organization's tenant transaction.

use async_trait::async_trait;
use uuid::Uuid;

use super::super::clock::now;
use super::super::error::Result;
use super::super::traits::BrandingStore;
use super::super::types::Branding;
use super::super::values::values;
use super::super::{rows, sql};
use super::PostgresStore;
use super::query;

#[async_trait]
impl BrandingStore for PostgresStore {
    async fn branding(&self, org: Uuid) -> Result<Option<Branding>> {
        let mut tx = self.tenant_tx(org).await?;
        let row = query(sql::BRANDING, &values![org])
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.as_ref().map(rows::branding).transpose()
    }

    async fn set_branding(
        &self,
        org: Uuid,
        footer_text: Option<&str>,
        logo_png: Option<&[u8]>,
    ) -> Result<Branding> {
        let updated_at = now();
        let mut tx = self.tenant_tx(org).await?;
        query(
            sql::SET_BRANDING,
            &values![org, footer_text, logo_png, updated_at],
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Branding {
            footer_text: footer_text.map(str::to_owned),
            logo_png: logo_png.map(<[u8]>::to_vec),
            updated_at,
        })
    }
}
