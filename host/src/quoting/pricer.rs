//! The [`Pricer`]: everything a calculation needs, from the stored plugin version to
//! the validated result; what it returns ([`Priced`]) and why it fails
//! ([`PricingError`]).

use super::amounts::{AmountError, AmountLimits};
use super::gate::{CalculationGate, GateRefusal, Timing};
use super::limits::{self, InputLimits, LimitError};
use super::lookahead::Lookahead;
use super::plugin_cache::{PluginCache, Resolved};
use super::variables;
use crate::contract::{CalculationInput, PluginInfo, QuoteRequest, QuoteResult};
use crate::fx::book::{RateBook, SnapshotError};
use crate::runtime::{CallFailure, CallReport, CompiledPlugin, LoadError, Outcome, Runtime};
use crate::store::{PluginStore, PluginVersion, StoreError};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::Arc;
use uuid::Uuid;

/// Which plugin version priced a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PluginRef {
    pub name: String,
    pub version: i32,
    pub sha256: String,
}

/// A plugin ready to re-price stored requests: a stored version, or an unsaved upload.
pub struct Candidate {
    pub plugin: Arc<CompiledPlugin>,
    /// What it declares (`describe`): its variables are checked as pricing checks them.
    pub info: PluginInfo,
    pub reference: PluginRef,
}

/// A priced request and what produced it.
pub struct Priced {
    pub request: QuoteRequest,
    pub result: QuoteResult,
    pub plugin: PluginRef,
    pub report: CallReport,
    /// How long the calculation waited for a slot and a thread, and how long it ran.
    pub timing: Timing,
}

/// Why a quote could not be priced.
#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("{}", .0.message)]
    Limit(LimitError),
    #[error("{0}")]
    PluginNotFound(String),
    #[error("{0}")]
    NoActivePlugin(String),
    #[error("{}", .0.message)]
    Variable(variables::VariableError),
    #[error(transparent)]
    Amount(AmountError),
    #[error("{0}")]
    MissingRate(String),
    #[error("every calculation slot is busy")]
    Busy,
    #[error("the calculation was lost in the executor")]
    Lost,
    #[error("the plugin could not be loaded: {0}")]
    Load(LoadError),
    #[error("{0}")]
    Call(CallFailure),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Prices requests with tenants' stored plugins. One per process, owned by the app.
pub struct Pricer {
    plugins: Arc<dyn PluginStore>,
    runtime: Arc<Runtime>,
    exchange_rates: Arc<RateBook>,
    calculations: CalculationGate,
    input_limits: InputLimits,
    amounts: AmountLimits,
    lookahead: Lookahead,
    resolved: Arc<PluginCache>,
}

impl Pricer {
    /// A pricer reading plugins from `plugins`, running them in `runtime`, with rates
    /// from `exchange_rates`, at most as many calculations at once as `calculations`
    /// admits, only inputs within `input_limits`, and quantities, prices and totals
    /// within `amounts`; scheduled versions are compiled ahead as `lookahead` allows;
    /// resolved versions are remembered in `resolved`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        plugins: Arc<dyn PluginStore>,
        runtime: Arc<Runtime>,
        exchange_rates: Arc<RateBook>,
        calculations: CalculationGate,
        input_limits: InputLimits,
        amounts: AmountLimits,
        lookahead: Lookahead,
        resolved: Arc<PluginCache>,
    ) -> Self {
        Self {
            plugins,
            runtime,
            exchange_rates,
            calculations,
            input_limits,
            amounts,
            lookahead,
            resolved,
        }
    }

    /// The stored exchange rates calculations use.
    pub fn exchange_rates(&self) -> &Arc<RateBook> {
        &self.exchange_rates
    }

    /// The versions calculations resolved recently.
    pub fn resolved_plugins(&self) -> &Arc<PluginCache> {
        &self.resolved
    }

    /// The caps on calculations running at once.
    pub fn calculations(&self) -> &CalculationGate {
        &self.calculations
    }

    /// A stored plugin version, ready to call: from the runtime's caches, or compiled
    /// from the bytes in the database (read only then).
    pub async fn load_plugin(
        &self,
        version: &PluginVersion,
    ) -> Result<Arc<CompiledPlugin>, LoadError> {
        load_stored(&self.plugins, &self.runtime, version).await
    }

    /// Loads, in the background, the versions the organization's pending scheduled
    /// activations will switch to, when [`Lookahead`] says it is time to look.
    fn compile_scheduled_ahead(&self, organization: Uuid) {
        if !self.lookahead.due(organization) {
            return;
        }
        let (plugins, runtime) = (self.plugins.clone(), self.runtime.clone());
        tokio::spawn(async move {
            let Ok(listed) = plugins.list_plugins(organization).await else {
                return;
            };
            for plugin in listed {
                let Some(next) = plugin.next_version else {
                    continue;
                };
                let Ok(Some(detail)) = plugins.plugin(organization, &plugin.name).await else {
                    continue;
                };
                let version = detail.versions.iter().find(|v| v.version == next);
                if let Some(version) = version
                    && let Err(error) = load_stored(&plugins, &runtime, version).await
                {
                    tracing::warn!(%error, plugin = %plugin.name, next, "compiling a scheduled version ahead failed");
                }
            }
        });
    }

    /// The version a calculation uses: `plugin` ("name" or "name@version"), or the
    /// organization's most recently activated plugin.
    pub async fn resolve_plugin(
        &self,
        organization: Uuid,
        plugin: Option<&str>,
    ) -> Result<PluginVersion, PricingError> {
        let Some(reference) = plugin else {
            return self
                .plugins
                .active_plugin_version(organization, None)
                .await?
                .ok_or_else(|| {
                    PricingError::NoActivePlugin(
                        "your organization has no active plugin; upload and activate one".into(),
                    )
                });
        };
        let (name, version) = match reference.split_once('@') {
            Some((name, version)) => {
                let version = version.parse::<i32>().map_err(|_| {
                    PricingError::InvalidInput(format!(
                        "plugin '{reference}' must be 'name' or 'name@version' with a whole version"
                    ))
                })?;
                (name, Some(version))
            }
            None => (reference, None),
        };
        let detail = self
            .plugins
            .plugin(organization, name)
            .await?
            .ok_or_else(|| {
                PricingError::PluginNotFound(format!("no plugin '{name}' in your organization"))
            })?;
        let wanted = version.or(detail.plugin.active_version).ok_or_else(|| {
            PricingError::NoActivePlugin(format!(
                "plugin '{name}' has no active version; activate one or ask for '{name}@<version>'"
            ))
        })?;
        detail
            .versions
            .into_iter()
            .find(|candidate| candidate.version == wanted)
            .ok_or_else(|| {
                PricingError::PluginNotFound(format!("plugin '{name}' has no version {wanted}"))
            })
    }

    /// Prices a client's calculation input with the chosen plugin and stored rates: its
    /// size, the quantities, prices and variables are checked first, then the rates of the
    /// quote date looked up; the result's amounts are checked against the same limits.
    pub async fn price(
        &self,
        organization: Uuid,
        input: CalculationInput,
        today: NaiveDate,
    ) -> Result<Priced, PricingError> {
        limits::check(&self.input_limits, &input).map_err(PricingError::Limit)?;
        if input.rates.is_some() {
            return Err(PricingError::InvalidInput(
                "rates are supplied by the server from its stored exchange rates; remove 'rates'"
                    .into(),
            ));
        }
        let reference = input.plugin.as_deref();
        let resolved = self
            .resolved
            .resolve(self.plugins.as_ref(), organization, reference, async {
                let version = self.resolve_plugin(organization, reference).await?;
                let info = describe_of(&version)?;
                Ok::<_, PricingError>(Resolved { version, info })
            })
            .await?;
        let version = &resolved.version;
        self.compile_scheduled_ahead(organization);
        let mut request = input
            .into_request(today, Vec::new())
            .map_err(PricingError::InvalidInput)?;
        self.amounts
            .check_request(&request)
            .map_err(PricingError::Amount)?;
        check_declared_variables(&reference_of(version), &resolved.info, &request)?;
        let mut currencies: BTreeSet<String> = request
            .items
            .iter()
            .map(|item| item.currency.clone())
            .collect();
        currencies.insert(request.currency.clone());
        request.rates = self
            .exchange_rates
            .snapshot(&currencies, &request.currency, request.date)
            .await
            .map_err(|error| match error {
                SnapshotError::Missing { .. } => PricingError::MissingRate(error.to_string()),
                SnapshotError::Store(error) => PricingError::Store(error),
            })?;
        let priced = self.run(organization, version, request).await?;
        self.amounts
            .check_result(&priced.result)
            .map_err(PricingError::Amount)?;
        Ok(priced)
    }

    /// A stored version, loaded, as a replay [`Candidate`].
    pub async fn candidate(&self, version: &PluginVersion) -> Result<Candidate, PricingError> {
        let info = describe_of(version)?;
        let plugin = self
            .load_plugin(version)
            .await
            .map_err(PricingError::Load)?;
        Ok(Candidate {
            plugin,
            info,
            reference: reference_of(version),
        })
    }

    /// Re-prices a stored request (its own rate snapshot) with `candidate`, checked as
    /// pricing a new quote checks it: the request's variables against what the candidate
    /// declares, the result's amounts against the limits. Takes a calculation slot of
    /// the organization; stores nothing.
    pub async fn replay(
        &self,
        organization: Uuid,
        candidate: &Candidate,
        request: QuoteRequest,
    ) -> Result<Priced, PricingError> {
        check_declared_variables(&candidate.reference, &candidate.info, &request)?;
        let priced = self
            .call(
                organization,
                &candidate.plugin,
                candidate.reference.clone(),
                request,
            )
            .await?;
        self.amounts
            .check_result(&priced.result)
            .map_err(PricingError::Amount)?;
        Ok(priced)
    }

    /// The upload check of an organization's plugin: compiled (in the compile slots),
    /// then its `describe` run through the gate like a calculation, in the organization's
    /// share of the guest executor, so a describe that spins slows no other tenant.
    /// Nothing of a refused plugin is kept.
    pub async fn inspect(
        &self,
        organization: Uuid,
        bytes: Vec<u8>,
    ) -> Result<(Arc<CompiledPlugin>, PluginInfo), PricingError> {
        let candidate = self
            .runtime
            .candidate(bytes)
            .await
            .map_err(PricingError::Load)?;
        let (runtime, plugin) = (self.runtime.clone(), candidate.plugin().clone());
        let described = async move { runtime.describe(&plugin).await };
        let (described, _timing) = self
            .calculations
            .run(organization, described)
            .await
            .map_err(gate_refusal)?;
        self.charge_fuel(organization, &described);
        let info = described.map_err(|failure| PricingError::Load(LoadError::Describe(failure)))?;
        self.runtime.keep(&candidate).await;
        Ok((candidate.plugin().clone(), info.value))
    }

    /// Runs one stored plugin version on a complete request (rates included), as it
    /// is: verification replays what was accepted then.
    pub async fn run(
        &self,
        organization: Uuid,
        version: &PluginVersion,
        request: QuoteRequest,
    ) -> Result<Priced, PricingError> {
        // Loaded before the gate: a compile has its own slots and limit, and must not
        // spend the calculation's queue wait.
        let plugin = self
            .load_plugin(version)
            .await
            .map_err(PricingError::Load)?;
        self.call(organization, &plugin, reference_of(version), request)
            .await
    }

    /// One call of a loaded plugin under the sandbox limits, through the gate: a slot,
    /// then a thread of the guest executor.
    async fn call(
        &self,
        organization: Uuid,
        plugin: &Arc<CompiledPlugin>,
        reference: PluginRef,
        request: QuoteRequest,
    ) -> Result<Priced, PricingError> {
        let limits = self.runtime.config().calculation_limits();
        let (runtime, plugin) = (self.runtime.clone(), plugin.clone());
        let calculation = async move {
            let called = runtime.calculate(&plugin, &request, &limits).await;
            (called, request)
        };
        let ((called, request), timing) = self
            .calculations
            .run(organization, calculation)
            .await
            .map_err(gate_refusal)?;
        record_calculation(&called);
        self.charge_fuel(organization, &called);
        let outcome = called.map_err(PricingError::Call)?;
        Ok(Priced {
            request,
            result: outcome.value,
            plugin: reference,
            report: outcome.report,
            timing,
        })
    }

    /// Adds a finished call's fuel, whether it succeeded or not, to its organization's usage.
    fn charge_fuel<T>(&self, organization: Uuid, called: &Result<Outcome<T>, CallFailure>) {
        let report = match called {
            Ok(outcome) => &outcome.report,
            Err(failure) => &failure.report,
        };
        self.calculations
            .record_fuel(organization, report.fuel_used);
    }
}

fn gate_refusal(refusal: GateRefusal) -> PricingError {
    match refusal {
        GateRefusal::Busy => PricingError::Busy,
        GateRefusal::Lost => PricingError::Lost,
    }
}

/// A stored version from the runtime's caches, or compiled from its bytes in the store.
async fn load_stored(
    plugins: &Arc<dyn PluginStore>,
    runtime: &Runtime,
    version: &PluginVersion,
) -> Result<Arc<CompiledPlugin>, LoadError> {
    let plugins = plugins.clone();
    let (organization, name, number) = (
        version.organization_id,
        version.plugin_name.clone(),
        version.version,
    );
    let fetch = async move {
        match plugins
            .plugin_version_bytes(organization, &name, number)
            .await
        {
            Ok(Some(binary)) => Ok(binary.wasm),
            Ok(None) => Err(format!("plugin {name} version {number} is gone")),
            Err(error) => Err(error.to_string()),
        }
    };
    runtime.load(&version.sha256, fetch).await
}

fn reference_of(version: &PluginVersion) -> PluginRef {
    PluginRef {
        name: version.plugin_name.clone(),
        version: version.version,
        sha256: version.sha256.clone(),
    }
}

fn describe_of(version: &PluginVersion) -> Result<PluginInfo, PricingError> {
    serde_json::from_value(version.describe.clone()).map_err(|error| {
        PricingError::Store(StoreError::Corrupt(format!(
            "stored describe output: {error}"
        )))
    })
}

/// The request's variables and item attributes against what the version declares.
fn check_declared_variables(
    reference: &PluginRef,
    info: &PluginInfo,
    request: &QuoteRequest,
) -> Result<(), PricingError> {
    let label = format!("{}@{}", reference.name, reference.version);
    variables::check(&label, &info.variables, request).map_err(PricingError::Variable)
}

/// Calculation counts, durations and fuel by outcome (`success` or the error code).
fn record_calculation(called: &Result<Outcome<QuoteResult>, CallFailure>) {
    let (outcome, report) = match called {
        Ok(outcome) => ("success", &outcome.report),
        Err(failure) => (failure.error.code(), &failure.report),
    };
    metrics::counter!("calculations_total", "outcome" => outcome).increment(1);
    metrics::histogram!("calculation_duration_seconds", "outcome" => outcome)
        .record(report.duration.as_secs_f64());
    metrics::histogram!("calculation_fuel", "outcome" => outcome).record(report.fuel_used as f64);
}
