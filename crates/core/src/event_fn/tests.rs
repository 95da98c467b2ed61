use super::*;
use serde_json::json;

/// Echoes its event; fails as `Broken` when the event says so.
struct Echo;

#[derive(Debug, thiserror::Error)]
enum EchoError {
    #[error(transparent)]
    Bad(#[from] BadEvent),
    #[error("the echo broke: send another event")]
    Broken,
}

impl FunctionError for EchoError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Bad(bad) => bad.kind(),
            Self::Broken => "Broken",
        }
    }
}

impl EventFunction for Echo {
    type Settings = ();
    type Output = Value;
    type Error = EchoError;
    const TAKES: &'static str = "echo events ({\"say\": \"...\"})";

    fn settings() -> Result<(), SettingError> {
        Ok(())
    }

    fn build(_: &SdkConfig, (): ()) -> Self {
        Self
    }

    async fn handle(&self, event: Value, _: &Call) -> Result<Value, EchoError> {
        if event.get("break").is_some() {
            return Err(EchoError::Broken);
        }
        Ok(event)
    }
}

fn call() -> Call {
    Call {
        request_id: "req-1".into(),
        remaining: Duration::from_secs(60),
    }
}

async fn answer(bytes: &str) -> Result<Value, EchoError> {
    invoke(&Echo, &Payload::from_slice(bytes.as_bytes()), &call()).await
}

#[tokio::test]
async fn an_object_is_handled() {
    assert_eq!(answer(r#"{"say": "hi"}"#).await.unwrap(), json!({"say": "hi"}));
}

#[tokio::test]
async fn anything_but_an_object_is_refused_saying_what_arrived() {
    for (bytes, kind) in [
        ("null", "null"),
        ("3", "a number"),
        ("\"hi\"", "a string"),
        ("[1]", "an array"),
        ("[]", "an array"),
        ("true", "a boolean"),
    ] {
        let error = answer(bytes).await.unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with(&format!(
                "the event is {kind}, not a JSON object: this function takes echo events"
            )),
            "{bytes}: {message}"
        );
        assert_eq!(diagnostic(&error).error_type, "tandem.BadEvent", "{bytes}");
    }
}

#[tokio::test]
async fn a_broken_payload_is_refused_naming_what_is_broken() {
    let error = answer(r#"{"say": "hi"#).await.unwrap_err();
    let message = error.to_string();
    assert!(message.starts_with("the event is not valid JSON (EOF"), "{message}");
    assert!(
        message.ends_with("; this function takes echo events ({\"say\": \"...\"})"),
        "{message}"
    );
    assert_eq!(error.error_type(), "tandem.BadEvent");
}

#[tokio::test]
async fn every_error_is_recorded_as_its_tandem_kind_and_its_sentence() {
    let error = answer(r#"{"break": true}"#).await.unwrap_err();
    let recorded = Diagnostic::from(Failure::from(diagnostic(&error)));
    assert_eq!(recorded.error_type, "tandem.Broken");
    assert_eq!(recorded.error_message, "the echo broke: send another event");
    let failure = Failure::from(diagnostic(&error));
    assert_eq!(
        format!("{failure:?}"),
        "tandem.Broken: the echo broke: send another event"
    );
}

#[test]
fn read_names_the_field_at_fault() {
    #[derive(Debug, serde::Deserialize)]
    struct Event {
        #[allow(dead_code)]
        records: Vec<String>,
    }
    let error = read::<Event>(&json!({"records": [1]}), "echo event", "echo events").unwrap_err();
    assert_eq!(
        error.to_string(),
        "the echo event's field `records[0]` could not be read (invalid type: integer `1`, expected a string); \
         this function takes echo events"
    );
    let error = read::<Event>(&json!({}), "echo event", "echo events").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("the echo event could not be read (missing field `records`)"),
        "{error}"
    );
}
