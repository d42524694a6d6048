//! Pieces of the OpenAPI document that request types share: a string field
//! that the API parses by hand (to name the field in its 422) is documented
//! with the values it accepts. A leaf module, so domain types and `http` can
//! both use it.

use utoipa::openapi::Object;
use utoipa::openapi::schema::{ObjectBuilder, Type};

/// A string that must be one of `values`.
pub fn one_of(values: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}
