//! What the rollback function is told, in every shape AWS delivers it:
//!
//! | delivery | shape | type |
//! | --- | --- | --- |
//! | EventBridge "CloudWatch Alarm State Change" | `detail-type`, `detail.alarmName`, `detail.state` | `EventBridgeEvent<Value>` |
//! | SNS wrapping an alarm | `Records[0].Sns.Message` is the alarm's JSON | `SnsEvent`, then [`SnsAlarm`] |
//! | CloudWatch's direct Lambda alarm action | `alarmData` | `CloudWatchAlarm<Value, Value>` (the generic form: a metric-math alarm has no `metricStat`) |
//! | EventBridge "CodeDeploy Deployment State-change Notification" (also forwarded from the other region) | `detail.deploymentId`, `detail.state` | `EventBridgeEvent<Value>` |
//! | EventBridge "ECS Deployment State Change" (also forwarded from the other region) | `detail.eventName`, `detail.deploymentId`, `resources[0]` (the service) | `EventBridgeEvent<Value>`, then [`ecs`] |

use aws_lambda_events::event::cloudwatch_alarms::{CloudWatchAlarm, CloudWatchAlarmStateValue};
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sns::SnsEvent;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tandem_core::text::{quote, shorten_values};

use crate::engine::Engine;

pub mod ecs;

/// An alarm's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    /// `ALARM`.
    Alarm,
    /// `OK`.
    Ok,
    /// `INSUFFICIENT_DATA`.
    InsufficientData,
}

impl AlarmState {
    /// From CloudWatch's spelling (`ALARM`, `OK`, `INSUFFICIENT_DATA`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ALARM" => Some(Self::Alarm),
            "OK" => Some(Self::Ok),
            "INSUFFICIENT_DATA" => Some(Self::InsufficientData),
            _ => None,
        }
    }
}

/// An alarm changed state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmChange {
    /// The alarm's name.
    pub name: String,
    /// Its new state.
    pub state: AlarmState,
    /// CloudWatch's reason for it.
    pub reason: String,
    /// When it changed, as CloudWatch wrote it: with the name, it names the incident.
    pub changed_at: String,
}

/// How a deployment ended (or went on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentState {
    /// CodeDeploy's `FAILURE`; ECS's `SERVICE_DEPLOYMENT_FAILED`.
    Failure,
    /// CodeDeploy's `STOP`.
    Stop,
    /// CodeDeploy's `SUCCESS`; ECS's `SERVICE_DEPLOYMENT_COMPLETED`.
    Success,
    /// Any other state (`START`, `READY`, `SERVICE_DEPLOYMENT_IN_PROGRESS`,
    /// ...): nothing to act on.
    Other(String),
}

/// A deployment changed state, in this region or the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentChange {
    /// The deployment: CodeDeploy's `d-...`, or ECS's `ecs-svc/...`.
    pub deployment_id: String,
    /// Its new state.
    pub state: DeploymentState,
    /// The region it runs in.
    pub region: String,
    /// The engine that runs it, and the service's names there.
    pub engine: Engine,
    /// When it changed (the event's `time`, Unix seconds), when it says.
    pub at: Option<u64>,
}

/// One event the function acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// An alarm changed state.
    Alarm(AlarmChange),
    /// A deployment changed state.
    Deployment(DeploymentChange),
    /// One of tandem's own notifications on the ops topic (this function
    /// publishes its decisions there, and listens to it for alarms).
    OwnNotification,
}

/// The SNS message attribute that marks tandem's own notifications.
pub const OWN_NOTIFICATION_ATTRIBUTE: &str = "tandem-source";

/// An event that is none of the accepted shapes, or a broken one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EventError(String);

/// The alarm as an SNS message carries it. Only the fields the decision
/// needs: `sns::CloudWatchAlarmPayload` requires a non-null description and
/// a full trigger, which an alarm without a description (or a metric-math
/// alarm's trigger) does not have.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsAlarm {
    /// The alarm's name.
    pub alarm_name: String,
    /// `ALARM`, `OK` or `INSUFFICIENT_DATA`.
    pub new_state_value: String,
    /// CloudWatch's reason.
    #[serde(default)]
    pub new_state_reason: String,
    /// When it changed.
    pub state_change_time: String,
}

/// The CodeDeploy state-change detail.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeploymentDetail {
    deployment_id: String,
    state: String,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    application: String,
    #[serde(default)]
    deployment_group: String,
}

/// The alarm state-change detail.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AlarmDetail {
    alarm_name: String,
    state: AlarmDetailState,
}

#[derive(Debug, Deserialize)]
struct AlarmDetailState {
    value: String,
    #[serde(default)]
    reason: String,
    timestamp: String,
}

/// What the function takes, for the sentences that refuse an event.
pub const ACCEPTED: &str = "an EventBridge alarm, CodeDeploy or ECS deployment state change, an SNS notification \
                            of an alarm, or a CloudWatch alarm action (alarmData)";

/// The longest alarm name CloudWatch allows.
pub const MAX_ALARM_NAME_CHARS: usize = 255;

impl From<tandem_core::event_fn::BadEvent> for EventError {
    fn from(bad: tandem_core::event_fn::BadEvent) -> Self {
        Self(bad.to_string())
    }
}

pub(crate) fn broken(what: &str, why: impl std::fmt::Display) -> EventError {
    // A huge value quoted by serde would bury the cause and the fix.
    EventError(format!(
        "the {what} could not be read ({}); this function takes {ACCEPTED}",
        shorten_values(&why.to_string())
    ))
}

/// `value` as a `T`, or why not, naming the field at fault.
pub(crate) fn read<T: DeserializeOwned>(what: &str, value: &Value) -> Result<T, EventError> {
    serde_path_to_error::deserialize(value).map_err(|e| match e.path().to_string().as_str() {
        "." => broken(what, e.inner()),
        path => broken(what, format_args!("field `{path}`: {}", e.inner())),
    })
}

fn alarm_state(what: &str, text: &str) -> Result<AlarmState, EventError> {
    AlarmState::parse(text).ok_or_else(|| {
        EventError(format!(
            "the {what} has state {}; an alarm's state is ALARM, OK or INSUFFICIENT_DATA",
            quote(text)
        ))
    })
}

/// Reads an event of any accepted shape, as [`parse`] does, for the
/// function in `region`: an alarm that fired in another region is refused,
/// naming it, before anything is written.
pub fn parse_in(event: &Value, region: &str) -> Result<Incoming, EventError> {
    let incoming = parse(event)?;
    if let Incoming::Alarm(alarm) = &incoming
        && let Some(fired_in) = alarm_region(event).filter(|fired_in| fired_in != region)
    {
        return Err(EventError(format!(
            "alarm {} fired in {}, not in {region}: this function rolls back {region}'s releases on {region}'s \
             alarms only; route the alarm to the rollback function of {}",
            quote(&alarm.name),
            quote(&fired_in),
            quote(&fired_in)
        )));
    }
    Ok(incoming)
}

/// The region an alarm event says it fired in, when it says: `region`
/// (EventBridge, and CloudWatch's alarm action), or the region of the SNS
/// message's `AlarmArn`.
pub fn alarm_region(event: &Value) -> Option<String> {
    if let Some(region) = event.get("region").and_then(Value::as_str) {
        return Some(region.to_owned());
    }
    let message = event.pointer("/Records/0/Sns/Message")?.as_str()?;
    let message: Value = serde_json::from_str(message).ok()?;
    let arn = message.get("AlarmArn")?.as_str()?;
    // arn:aws:cloudwatch:<region>:<account>:alarm:<name>
    arn.split(':').nth(3).filter(|r| !r.is_empty()).map(str::to_owned)
}

/// `alarm`, when its name is one CloudWatch could have given.
fn checked(alarm: AlarmChange) -> Result<Incoming, EventError> {
    let chars = alarm.name.chars().count();
    if chars > MAX_ALARM_NAME_CHARS {
        return Err(EventError(format!(
            "the alarm name {} is {chars} characters long; CloudWatch allows at most {MAX_ALARM_NAME_CHARS}, so this is \
             not a CloudWatch alarm: nothing was written",
            quote(&alarm.name)
        )));
    }
    Ok(Incoming::Alarm(alarm))
}

/// The event's `time` in Unix seconds, when it has one (and it is not
/// before 1970).
pub(crate) fn unix_seconds(bridged: &EventBridgeEvent<Value>) -> Option<u64> {
    bridged.time.and_then(|t| u64::try_from(t.timestamp()).ok())
}

/// Reads an event of any accepted shape.
pub fn parse(event: &Value) -> Result<Incoming, EventError> {
    tandem_core::event_fn::object(event, ACCEPTED)?;
    if event.get("Records").is_some() {
        let sns: SnsEvent = read("SNS notification", event)?;
        let record = (sns.records.first()).ok_or_else(|| broken("SNS notification", "it has no records"))?;
        if record.sns.message_attributes.contains_key(OWN_NOTIFICATION_ATTRIBUTE) {
            return Ok(Incoming::OwnNotification);
        }
        let alarm: SnsAlarm =
            serde_json::from_str(&record.sns.message).map_err(|e| broken("alarm in the SNS message", e))?;
        return checked(AlarmChange {
            state: alarm_state("alarm in the SNS message", &alarm.new_state_value)?,
            name: alarm.alarm_name,
            reason: alarm.new_state_reason,
            changed_at: alarm.state_change_time,
        });
    }
    if event.get("alarmData").is_some() {
        let alarm: CloudWatchAlarm<Value, Value> = read("alarm action", event)?;
        let state = (alarm.alarm_data.state).ok_or_else(|| broken("alarm action", "alarmData has no state"))?;
        let state_value = match state.value {
            CloudWatchAlarmStateValue::Alarm => AlarmState::Alarm,
            CloudWatchAlarmStateValue::Ok => AlarmState::Ok,
            CloudWatchAlarmStateValue::InsufficientData => AlarmState::InsufficientData,
            _ => {
                return Err(broken(
                    "alarm action",
                    "its state is not ALARM, OK or INSUFFICIENT_DATA",
                ));
            }
        };
        return checked(AlarmChange {
            name: alarm.alarm_data.alarm_name,
            state: state_value,
            reason: state.reason,
            changed_at: state.timestamp.to_rfc3339(),
        });
    }
    if event.get("detail-type").is_some() {
        let bridged: EventBridgeEvent<Value> = read("EventBridge event", event)?;
        return match bridged.detail_type.as_str() {
            "CloudWatch Alarm State Change" => {
                let detail: AlarmDetail = read("alarm state change", &bridged.detail)?;
                checked(AlarmChange {
                    state: alarm_state("alarm state change", &detail.state.value)?,
                    name: detail.alarm_name,
                    reason: detail.state.reason,
                    changed_at: detail.state.timestamp,
                })
            }
            "CodeDeploy Deployment State-change Notification" => {
                let detail: DeploymentDetail = read("CodeDeploy state change", &bridged.detail)?;
                let state = match detail.state.as_str() {
                    "FAILURE" => DeploymentState::Failure,
                    "STOP" => DeploymentState::Stop,
                    "SUCCESS" => DeploymentState::Success,
                    other => DeploymentState::Other(other.to_owned()),
                };
                let at = unix_seconds(&bridged);
                let region = (detail.region.or(bridged.region))
                    .ok_or_else(|| broken("CodeDeploy state change", "it names no region"))?;
                Ok(Incoming::Deployment(DeploymentChange {
                    deployment_id: detail.deployment_id,
                    state,
                    region,
                    engine: Engine::CodeDeploy {
                        application: detail.application,
                        group: detail.deployment_group,
                    },
                    at,
                }))
            }
            ecs::DETAIL_TYPE => ecs::deployment_change(&bridged).map(Incoming::Deployment),
            other => Err(EventError(format!(
                "EventBridge events of type {} are not for this function; it takes {ACCEPTED}",
                quote(other)
            ))),
        };
    }
    Err(EventError(format!(
        "the event is none of the shapes this function takes: {ACCEPTED}"
    )))
}

#[cfg(test)]
mod tests;
