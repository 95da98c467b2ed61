//! The trait each custom-resource type implements, and what it returns.

use super::props::{self, PropertyError};
use super::request::{Request, RequestType};
use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::future::Future;
use std::time::Duration;

/// Any error a handler returns. Its text (with its sources) becomes the
/// FAILED reason that CloudFormation shows, so say what failed and the fix.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// What a handler reports after one step.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Finished: answer SUCCESS.
    Done {
        /// The resource's id. On Update, a new id means replacement, and
        /// CloudFormation then deletes the old one.
        physical_id: String,
        /// Values for `Fn::GetAtt`.
        data: Map<String, Value>,
        /// Hide `data` from CloudFormation's outputs.
        no_echo: bool,
    },
    /// Still working: the runner calls [`CustomResource::poll`] with `state`
    /// after `check_after`, in this invocation or a later one.
    InProgress {
        /// The id of what exists so far, if anything. Should the operation
        /// fail later, the FAILED answer carries it, so that CloudFormation's
        /// clean-up Delete can remove a half-made resource.
        physical_id: Option<String>,
        /// Whatever the next poll needs; it travels as JSON.
        state: Value,
        /// How long to wait before the next poll.
        check_after: Duration,
    },
}

impl Outcome {
    /// Finished, with this physical id and no data.
    pub fn done(physical_id: impl Into<String>) -> Self {
        Self::Done {
            physical_id: physical_id.into(),
            data: Map::new(),
            no_echo: false,
        }
    }

    /// Finished, with this physical id and data.
    pub fn done_with(physical_id: impl Into<String>, data: Map<String, Value>) -> Self {
        Self::Done {
            physical_id: physical_id.into(),
            data,
            no_echo: false,
        }
    }

    /// Not finished yet: poll again with `state` after `check_after`.
    pub fn in_progress(state: Value, check_after: Duration) -> Self {
        Self::InProgress {
            physical_id: None,
            state,
            check_after,
        }
    }

    /// Sets the id of what exists so far (on [`Outcome::InProgress`]) or the
    /// final id (on [`Outcome::Done`]).
    pub fn with_physical_id(mut self, id: impl Into<String>) -> Self {
        match &mut self {
            Self::Done { physical_id, .. } => *physical_id = id.into(),
            Self::InProgress { physical_id, .. } => *physical_id = Some(id.into()),
        }
        self
    }

    /// Marks the data as secret (`NoEcho`).
    pub fn no_echo(mut self) -> Self {
        if let Self::Done { no_echo, .. } = &mut self {
            *no_echo = true;
        }
        self
    }
}

/// One custom-resource type, such as `Custom::CrossRegionOutputs`.
///
/// The [`Runner`](super::Runner) owns the CloudFormation protocol; an
/// implementation only does the work. Every method must be idempotent:
/// AWS may deliver the same request twice.
pub trait CustomResource: Send + Sync + 'static {
    /// The typed properties; see [`props`] for CloudFormation's string scalars.
    /// Mark the struct `#[serde(deny_unknown_fields)]`, so that a typo in a
    /// template is refused, naming the unknown property and the known ones.
    type Properties: DeserializeOwned + Send + Sync;

    /// The template type this serves, such as `Custom::CrossRegionOutputs`.
    const RESOURCE_TYPE: &'static str;

    /// Property names whose values must never be logged.
    const SECRET_PROPERTIES: &'static [&'static str] = &[];

    /// Checks the properties beyond their types, before Create and Update
    /// (never before Delete: a resource must stay removable whatever its
    /// properties). The runner calls it; an error answers FAILED with the
    /// message, which should name the property and the fix.
    fn validate(props: &Self::Properties) -> Result<(), String> {
        let _ = props;
        Ok(())
    }

    /// Makes the resource.
    fn create(
        &self,
        request: &Request,
        props: Self::Properties,
    ) -> impl Future<Output = Result<Outcome, HandlerError>> + Send;

    /// Changes the resource. `old` is `None` when the old properties no
    /// longer parse (for example on the rollback of a bad update), so a
    /// rollback never fails on them.
    fn update(
        &self,
        request: &Request,
        physical_id: &str,
        props: Self::Properties,
        old: Option<Self::Properties>,
    ) -> impl Future<Output = Result<Outcome, HandlerError>> + Send;

    /// Removes the resource. Removing what is already gone is a success.
    fn delete(
        &self,
        request: &Request,
        physical_id: &str,
        props: Self::Properties,
    ) -> impl Future<Output = Result<Outcome, HandlerError>> + Send;

    /// Continues a step that returned [`Outcome::InProgress`]. The request
    /// type says which operation it continues.
    fn poll(
        &self,
        request: &Request,
        props: Self::Properties,
        state: Value,
    ) -> impl Future<Output = Result<Outcome, HandlerError>> + Send {
        let _ = (props, state);
        let kind = request.request_type;
        async move { Err(format!("{kind} returned InProgress, but this resource has no poll step").into()) }
    }
}

/// Where a step starts: the request itself, or a poll with saved state.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    Start,
    Poll(Value),
}

/// The object-safe face of a [`CustomResource`], so that one runner can serve
/// several resource types.
pub(crate) trait ErasedResource: Send + Sync {
    fn secret_properties(&self) -> &'static [&'static str];
    fn run<'a>(&'a self, request: &'a Request, step: Step) -> BoxFuture<'a, Result<Outcome, HandlerError>>;
}

/// Parses `raw` as `R`'s properties, then [`CustomResource::validate`]s
/// them: what the runner does before a Create or an Update. The samples'
/// tests use it too, so that they check exactly what the runner checks.
pub fn check_properties<R: CustomResource>(raw: &Map<String, Value>) -> Result<R::Properties, String> {
    let parsed: R::Properties = props::parse(raw).map_err(|e: PropertyError| e.to_string())?;
    R::validate(&parsed)?;
    Ok(parsed)
}

impl<R: CustomResource> ErasedResource for R {
    fn secret_properties(&self) -> &'static [&'static str] {
        R::SECRET_PROPERTIES
    }

    fn run<'a>(&'a self, request: &'a Request, step: Step) -> BoxFuture<'a, Result<Outcome, HandlerError>> {
        Box::pin(async move {
            #[cfg(debug_assertions)]
            panic_if_chaos_asks(R::RESOURCE_TYPE, request.request_type);
            let raw = &request.resource_properties;
            let physical_id = request.physical_resource_id.as_deref().unwrap_or_default();
            match (step, request.request_type) {
                (Step::Poll(state), _) => self.poll(request, props::parse(raw)?, state).await,
                (Step::Start, RequestType::Create) => self.create(request, check_properties::<R>(raw)?).await,
                (Step::Start, RequestType::Update) => {
                    let props = check_properties::<R>(raw)?;
                    let old = request
                        .old_resource_properties
                        .as_ref()
                        .and_then(|raw| props::parse(raw).ok());
                    self.update(request, physical_id, props, old).await
                }
                (Step::Start, RequestType::Delete) => self.delete(request, physical_id, props::parse(raw)?).await,
            }
        })
    }
}

/// `make chaos` only, and only in a debug build (the local AWS runs those;
/// a release build for AWS has no such switch): a Create or an Update of
/// the resource type that `TANDEM_CHAOS_PANIC` names panics inside the
/// handler, to show that the runner still answers FAILED, naming the panic.
#[cfg(debug_assertions)]
fn panic_if_chaos_asks(resource_type: &str, request_type: RequestType) {
    let asked = std::env::var("TANDEM_CHAOS_PANIC").is_ok_and(|t| t == resource_type);
    if asked && request_type != RequestType::Delete {
        panic!("make chaos asked the {resource_type} handler to panic (TANDEM_CHAOS_PANIC)");
    }
}
