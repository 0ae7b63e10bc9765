//! `GET /api/me`: who the API key belongs to.

use super::error::ErrorBody;
use super::extract::Auth;
use crate::app::AppState;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_me))
}

#[derive(Serialize, ToSchema)]
pub struct OrganizationView {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub organization: OrganizationView,
    pub api_key: super::api_keys::ApiKeyView,
}

/// The calling key and its organization.
#[utoipa::path(get, path = "/api/me", tag = "keys",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn get_me(Auth(caller): Auth) -> Json<Me> {
    let organization = &caller.organization;
    Json(Me {
        organization: OrganizationView {
            id: organization.id,
            name: organization.name.clone(),
            created_at: organization.created_at,
        },
        api_key: (&caller.key).into(),
    })
}
