//! A JSON body extractor whose rejections are our JSON errors.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::AppError;

/// Like `axum::Json`, but malformed, mistyped or oversized bodies answer with
/// `{code, message}` naming what is wrong. Every request body of this API is
/// a JSON object: serde would read a struct from an array by position, which
/// the documented schema does not allow.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(req, state)
            .await
            .map_err(rejected)?;
        if !value.is_object() {
            return Err(invalid_body("the body must be a JSON object".to_owned()));
        }
        serde_path_to_error::deserialize(value)
            .map(Self)
            .map_err(|err| {
                let path = err.path().to_string();
                let inner = err.into_inner();
                invalid_body(if path == "." {
                    inner.to_string()
                } else {
                    format!("{path}: {inner}")
                })
            })
    }
}

/// A 422 for a body of the wrong shape (a missing, unknown or mistyped field).
fn invalid_body(message: String) -> AppError {
    AppError::BadRequest {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_body",
        message,
    }
}

fn rejected(rejection: JsonRejection) -> AppError {
    let (status, code) = match &rejection {
        JsonRejection::JsonDataError(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        JsonRejection::JsonSyntaxError(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
        JsonRejection::MissingJsonContentType(_) => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "expected_json")
        }
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
        }
        _ => (rejection.status(), "unreadable_body"),
    };
    AppError::BadRequest {
        status,
        code,
        message: rejection.body_text(),
    }
}

/// Like `axum::extract::Query`, with rejections as our JSON errors: a value
/// of the wrong type or out of its enum is a 422 naming the parameter; an
/// unknown or repeated parameter is a 400 `invalid_query`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or_default()).map(Self)
    }
}

/// Deserialises a query string, naming the parameter at fault.
fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    let pairs = url::form_urlencoded::parse(query.as_bytes());
    serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs)).map_err(|err| {
        let mut field = err.path().to_string();
        let mut message = err.into_inner().to_string();
        // A missing parameter is reported at the top level; its name is in the message.
        if let Some(name) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            field = name.to_owned();
            message = "is required".to_owned();
        }
        if field.is_empty() || field == "." || message.starts_with("unknown field") {
            AppError::BadRequest {
                status: StatusCode::BAD_REQUEST,
                code: "invalid_query",
                message: format!("the query string is not valid: {message}"),
            }
        } else {
            AppError::invalid(&field, message)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Q {
        limit: Option<i64>,
        open: Option<bool>,
    }

    fn field_of(query: &str) -> (StatusCode, Option<String>) {
        match parse_query::<Q>(query) {
            Ok(_) => (StatusCode::OK, None),
            Err(AppError::Invalid { field, .. }) => (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            Err(AppError::BadRequest { status, .. }) => (status, None),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_bad_value_names_its_parameter() {
        assert_eq!(field_of("limit=5&open=true"), (StatusCode::OK, None));
        assert_eq!(
            field_of("limit=ten"),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("limit".to_owned()))
        );
        assert_eq!(
            field_of("limit=1&open=maybe"),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("open".to_owned()))
        );
        assert_eq!(field_of("other=1"), (StatusCode::BAD_REQUEST, None));
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Required {
            domain: String,
        }
        let missing = parse_query::<Required>("").unwrap_err();
        assert!(
            matches!(&missing, AppError::Invalid { field, .. } if field == "domain"),
            "{missing:?}"
        );
    }
}
