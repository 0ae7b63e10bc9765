//! `GET /api/activity-logs`: what happened in the organization, newest first.

use super::error::{ApiResult, ErrorBody};
use super::extract::{AppQuery, Auth, page_cursor, page_limit};
use crate::app::AppState;
use crate::store::{ActivityEntry, ActivityFilter};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_activity_logs))
}

#[derive(Serialize, ToSchema)]
pub struct ActivityView {
    pub id: Uuid,
    /// What was done, e.g. `quote.create`, `plugin.activate`, `quote.calculate`.
    pub action: String,
    /// What it was done to, e.g. `quote`, `plugin`, `api_key`.
    pub entity_type: String,
    pub entity_id: Option<String>,
    /// The API key that did it.
    pub api_key_id: Option<Uuid>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl From<ActivityEntry> for ActivityView {
    fn from(entry: ActivityEntry) -> Self {
        Self {
            id: entry.id,
            action: entry.action,
            entity_type: entry.entity_type,
            entity_id: entry.entity_id,
            api_key_id: entry.api_key_id,
            metadata: entry.metadata,
            created_at: entry.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ActivityPage {
    pub items: Vec<ActivityView>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ActivityQuery {
    /// Only this action, e.g. `quote.create`.
    pub action: Option<String>,
    /// Only this entity type, e.g. `quote`.
    pub entity_type: Option<String>,
    /// 1 to 100, default 20.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// The organization's activity, newest first. Entries are written in batches, a few
/// seconds after the fact.
#[utoipa::path(get, path = "/api/activity-logs", tag = "operations", params(ActivityQuery),
    responses((status = 200, body = ActivityPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_activity_logs(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppQuery(query): AppQuery<ActivityQuery>,
) -> ApiResult<Json<ActivityPage>> {
    let limit = page_limit(query.limit.as_deref(), &state)?;
    let cursor = page_cursor(query.cursor.as_deref())?;
    let filter = ActivityFilter {
        action: query.action,
        entity_type: query.entity_type,
    };
    let page = state
        .store
        .list_activity(caller.organization.id, filter, limit, cursor)
        .await?;
    Ok(Json(ActivityPage {
        items: page.items.into_iter().map(ActivityView::from).collect(),
        next_cursor: page.next_cursor.map(|cursor| cursor.encode()),
    }))
}
