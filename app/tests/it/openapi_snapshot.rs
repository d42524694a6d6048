//! The SPA's typed API client is checked against a committed copy of the
//! OpenAPI document (`static/src/api/openapi.json`); this test fails when the
//! app's document has changed and the copy was not regenerated.
//!
//! `scripts/update-openapi.sh` regenerates it: it runs this test with
//! `UPDATE_OPENAPI=1`, which writes the copy instead of comparing.

use app::http::openapi::ApiDoc;
use utoipa::OpenApi;

const SNAPSHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../static/src/api/openapi.json"
);

/// The document as `/api/openapi.json` serves it, pretty-printed with a
/// two-space indent and a trailing newline.
fn rendered() -> String {
    // Serialised as the handler does (not via `Value`), so keys keep its order.
    let mut text = serde_json::to_string_pretty(&ApiDoc::openapi()).unwrap();
    text.push('\n');
    text
}

#[test]
fn the_committed_openapi_snapshot_is_current() {
    let current = rendered();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        let path = std::path::Path::new(SNAPSHOT);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &current).unwrap_or_else(|e| panic!("{SNAPSHOT}: {e}"));
        return;
    }
    let committed = std::fs::read_to_string(SNAPSHOT).unwrap_or_else(|e| {
        panic!("{SNAPSHOT} cannot be read ({e}); run `scripts/update-openapi.sh`")
    });
    if committed != current {
        let line = committed
            .lines()
            .zip(current.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(current.lines().count()));
        panic!(
            "static/src/api/openapi.json differs from the app's OpenAPI document \
             (first at line {}: committed {:?}, current {:?}); run `scripts/update-openapi.sh` \
             and commit the result",
            line + 1,
            committed.lines().nth(line).unwrap_or("<end>"),
            current.lines().nth(line).unwrap_or("<end>"),
        );
    }
}
