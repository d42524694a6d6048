//! Every link the app builds leads to a page of the SPA: each path is a route
//! of `static/routes.json`, the SPA router's table.

use app::auth::links::Page;

/// The SPA's route patterns (`/monitors/:id`).
fn spa_routes() -> Vec<String> {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../static/routes.json");
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{file} is not a JSON array of strings: {e}"))
}

/// Whether `path` matches `pattern`, where `:name` segments match any one segment.
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, path): (Vec<_>, Vec<_>) =
        (pattern.split('/').collect(), path.split('/').collect());
    pattern.len() == path.len()
        && pattern
            .iter()
            .zip(&path)
            .all(|(p, s)| p.starts_with(':') && !s.is_empty() || p == s)
}

/// The path of `link`: after the origin, before `?` or `#`.
fn path_of(link: &str) -> &str {
    let after_scheme = link.split_once("://").map_or(link, |(_, rest)| rest);
    let from_path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    from_path.split(['?', '#']).next().unwrap_or(from_path)
}

#[test]
fn every_link_path_is_an_spa_route() {
    let routes = spa_routes();
    assert!(routes.iter().any(|r| r == "/login"), "{routes:?}");
    for page in Page::ALL {
        let link = page.link("https://acme.localhost:8443", "SECRET");
        let path = path_of(&link);
        assert_eq!(path, page.path(), "{link}");
        assert!(
            routes.iter().any(|r| matches(r, path)),
            "{page:?} links to {path}, which static/routes.json does not route (routes: {routes:?})"
        );
        assert!(link.contains("SECRET"), "{link}");
    }
}

#[test]
fn the_route_matcher_and_path_reader_work() {
    assert!(matches("/monitors/:id", "/monitors/abc"));
    assert!(!matches("/monitors/:id", "/monitors"));
    assert!(!matches("/monitors/:id", "/monitors/"));
    assert!(!matches("/login", "/signup"));
    assert_eq!(
        path_of("https://h:1/reset-password?token=x&new=1"),
        "/reset-password"
    );
    assert_eq!(path_of("https://h/auth/handover#code=x"), "/auth/handover");
    assert_eq!(path_of("https://h"), "/");
}
