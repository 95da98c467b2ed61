//! What an SDK error means, in one readable sentence, and the one test of
//! "the thing asked about does not exist" for every service tandem calls.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::error::Error;

/// The service's error code, such as `RouteAlreadyExists`.
pub fn error_code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    error.as_service_error().and_then(ProvideErrorMetadata::code)
}

/// Whether the service said that what was asked about does not exist. Each
/// service says it its own way:
///
/// | service | shape |
/// | --- | --- |
/// | EC2 | a code ending in `.NotFound` (`InvalidVpcPeeringConnectionID.NotFound`) |
/// | CloudFormation | `ValidationError`, "Stack with id X does not exist" |
/// | S3 | `NoSuchBucket`, `NoSuchKey`, or a bare `NotFound` (HeadObject) |
/// | ECR, DynamoDB, Lambda, ECS | a code ending in `NotFoundException` |
pub fn is_not_found<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error.as_service_error().is_some_and(|service| {
        not_found(
            service.code().unwrap_or_default(),
            service.message().unwrap_or_default(),
        )
    })
}

/// [`is_not_found`] on the code and message alone.
pub(crate) fn not_found(code: &str, message: &str) -> bool {
    code.ends_with(".NotFound")
        || code.ends_with("NotFoundException")
        || matches!(code, "NoSuchBucket" | "NoSuchKey" | "NotFound")
        || (code == "ValidationError" && message.contains("does not exist"))
}

/// One readable sentence for an SDK error: the service's code and message
/// when AWS answered, otherwise what went wrong on the way and the cause,
/// never a `Debug` dump. Callers put what they were doing in front:
/// `could not read stack X in us-east-1: <this>`.
pub fn error_text<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + Error + 'static,
{
    let cause = causes(error);
    match error {
        SdkError::ServiceError(_) => {
            let service = error.as_service_error();
            match service.and_then(ProvideErrorMetadata::code) {
                Some(code) => {
                    let message = service
                        .and_then(ProvideErrorMetadata::message)
                        .unwrap_or("(no message)");
                    crate::text::shorten_values(&format!("{code}: {message}"))
                }
                // No error code: a proxy's page, or a success the SDK could
                // not read (a field of the wrong type). Name the status and why.
                None => match error.raw_response().map(|r| r.status()) {
                    Some(status) if status.is_success() => format!(
                        "AWS answered HTTP {} but the answer could not be read ({cause})",
                        status.as_u16()
                    ),
                    Some(status) => format!("AWS answered HTTP {} without an error code", status.as_u16()),
                    None => format!("AWS answered without an error code ({cause})"),
                },
            }
        }
        SdkError::TimeoutError(_) => format!(
            "AWS did not answer within the client's timeout ({cause}); the call was retried and gave up: \
             check the service's health and the network path, then retry"
        ),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => format!(
            "the connection to AWS timed out ({cause}): check the network path (VPC endpoints, NAT, proxy), then retry"
        ),
        SdkError::DispatchFailure(failure) if failure.is_io() => format!(
            "the connection to AWS failed ({cause}): check the network path (VPC endpoints, NAT, proxy), then retry"
        ),
        SdkError::DispatchFailure(_) => format!("the request could not be sent ({cause}): retry"),
        SdkError::ResponseError(_) => format!("AWS's answer could not be read ({cause}): retry"),
        SdkError::ConstructionFailure(_) => {
            format!("the request could not be built ({cause}); this is a bug in tandem, please report it")
        }
        _ => cause,
    }
}

/// Whether the error says the region could not be reached, rather than
/// that it answered no: a timeout, a connection that failed or timed out,
/// an answer that could not be read, or a 5xx (the service itself is
/// failing). A refusal (4xx: credentials, permissions, a missing table) is
/// an answer, and so are missing credentials (nothing was sent).
pub fn is_unreachable<E>(error: &SdkError<E, HttpResponse>) -> bool {
    match error {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(failure) => failure.is_io() || failure.is_timeout(),
        SdkError::ServiceError(e) => e.raw().status().as_u16() >= 500,
        _ => false,
    }
}

/// Whether AWS answered, but with something the SDK could not read: a
/// success whose body does not parse (a field of the wrong type), or a
/// response the SDK could not take at all. Then the fix is in what was
/// stored, not in the request.
pub fn is_unreadable_answer<E>(error: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    match error {
        SdkError::ResponseError(_) => true,
        SdkError::ServiceError(e) => e.raw().status().is_success() && e.err().code().is_none(),
        _ => false,
    }
}

/// What the SDK's wrappers say of themselves, which the sentence around the
/// cause already says better.
const WRAPPER_TEXTS: &[&str] = &["timeout", "io error", "user error", "other", "dispatch failure"];

/// The messages of an error's sources, each once, joined by `: `.
fn causes<E: Error + ?Sized>(error: &E) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = error.source();
    while let Some(inner) = next {
        let text = inner.to_string();
        if !text.is_empty() && !WRAPPER_TEXTS.contains(&text.as_str()) && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = inner.source();
    }
    if parts.is_empty() {
        parts.push(error.to_string());
    }
    crate::text::shorten_values(&parts.join(": "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_lambda::operation::get_function::GetFunctionError;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    type Error = SdkError<GetFunctionError, HttpResponse>;

    fn service(code: &str, message: &str) -> Error {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        SdkError::service_error(
            GetFunctionError::generic(meta),
            HttpResponse::new(400u16.try_into().unwrap(), SdkBody::empty()),
        )
    }

    #[test]
    fn each_service_s_not_found_shape_is_recognised() {
        for (code, message) in [
            ("InvalidVpcPeeringConnectionID.NotFound", "The peering does not exist"),
            ("InvalidRouteTableID.NotFound", ""),
            ("ValidationError", "Stack with id tandem-dev-region does not exist"),
            ("NoSuchBucket", ""),
            ("NotFound", ""),
            ("RepositoryNotFoundException", ""),
            ("ResourceNotFoundException", ""),
        ] {
            assert!(is_not_found(&service(code, message)), "{code}");
        }
        for (code, message) in [
            ("ValidationError", "Template format error"),
            ("AccessDenied", "does not exist"),
            ("Throttling", "Rate exceeded"),
            ("InvalidParameterValue", "NotFound"),
        ] {
            assert!(!is_not_found(&service(code, message)), "{code}: {message}");
        }
    }

    #[test]
    fn a_service_error_reads_as_code_and_message() {
        let e = service("Throttling", "Rate exceeded");
        assert_eq!(error_text(&e), "Throttling: Rate exceeded");
        assert_eq!(error_code(&e), Some("Throttling"));
    }

    #[test]
    fn an_answer_without_an_error_code_is_named_by_its_http_status() {
        let e: Error = SdkError::service_error(
            GetFunctionError::generic(ErrorMetadata::builder().build()),
            HttpResponse::new(500u16.try_into().unwrap(), SdkBody::empty()),
        );
        let text = error_text(&e);
        assert_eq!(text, "AWS answered HTTP 500 without an error code");
        assert!(!text.contains("ErrorMetadata"), "no Debug dump: {text}");
    }

    #[test]
    fn a_success_the_sdk_could_not_read_is_an_unreadable_answer() {
        let unreadable: Error = SdkError::service_error(
            GetFunctionError::generic(ErrorMetadata::builder().build()),
            HttpResponse::new(200u16.try_into().unwrap(), SdkBody::empty()),
        );
        assert!(is_unreadable_answer(&unreadable));
        assert!(error_text(&unreadable).contains("could not be read"));
        assert!(!is_unreadable_answer(&service(
            "ClusterNotFoundException",
            "no cluster"
        )));
        let no_code_500: Error = SdkError::service_error(
            GetFunctionError::generic(ErrorMetadata::builder().build()),
            HttpResponse::new(500u16.try_into().unwrap(), SdkBody::empty()),
        );
        assert!(!is_unreadable_answer(&no_code_500));
    }

    #[test]
    fn a_connection_reset_reads_as_a_sentence_without_a_debug_dump() {
        let reset = std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "Connection reset by peer (os error 104)",
        );
        let e: Error = SdkError::dispatch_failure(ConnectorError::io(Box::new(reset)));
        let text = error_text(&e);
        assert!(
            text.starts_with("the connection to AWS failed (") && text.contains("Connection reset by peer"),
            "{text}"
        );
        assert!(text.ends_with("then retry"), "{text}");
        for debug in ["DispatchFailure", "ConnectorError", "{", "kind:"] {
            assert!(!text.contains(debug), "{text}");
        }
    }

    #[test]
    fn a_timeout_says_so() {
        let e: Error = SdkError::dispatch_failure(ConnectorError::timeout("operation timed out after 20s".into()));
        let text = error_text(&e);
        assert!(
            text.starts_with("the connection to AWS timed out (operation timed out after 20s)"),
            "{text}"
        );
    }

    #[test]
    fn a_region_is_unreachable_when_it_does_not_answer_not_when_it_refuses() {
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let unreachable: [Error; 3] = [
            SdkError::dispatch_failure(ConnectorError::io(Box::new(reset))),
            SdkError::dispatch_failure(ConnectorError::timeout("timed out".into())),
            SdkError::service_error(
                GetFunctionError::generic(ErrorMetadata::builder().code("ServiceUnavailable").build()),
                HttpResponse::new(503u16.try_into().unwrap(), SdkBody::empty()),
            ),
        ];
        for e in &unreachable {
            assert!(is_unreachable(e), "{}", error_text(e));
        }
        let answered: [Error; 3] = [
            service("AccessDeniedException", "not authorized"),
            service("ResourceNotFoundException", "no table"),
            // No credentials: nothing was sent, so nothing is known of the region.
            SdkError::dispatch_failure(ConnectorError::other(
                "no providers in chain provided credentials".into(),
                None,
            )),
        ];
        for e in &answered {
            assert!(!is_unreachable(e), "{}", error_text(e));
        }
    }
}
