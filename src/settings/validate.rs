//! Rules over the composed settings: the binary's own keys plus each crate's section.

use secrecy::ExposeSecret;

use super::{Environment, Settings};

/// The shortest secret key production accepts.
pub const MIN_SECRET_KEY_LEN: usize = 50;

/// Every problem of `settings` under `environment`'s rules, each naming its key.
pub fn problems(settings: &Settings, environment: Environment) -> Vec<String> {
    let production = environment == Environment::Production;
    let mut problems = Vec::new();
    match settings.secret_key.as_ref().map(|k| k.expose_secret()) {
        None | Some("") => problems.push(
            "secret_key: required (at least 50 random characters, e.g. `openssl rand -base64 48`)"
                .to_owned(),
        ),
        Some(key) if production => {
            if key.chars().count() < MIN_SECRET_KEY_LEN {
                problems.push(format!(
                    "secret_key: must be at least {MIN_SECRET_KEY_LEN} characters in production"
                ));
            }
            if key.to_ascii_lowercase().contains("insecure") {
                problems.push(
                    "secret_key: contains \"insecure\" (the development key); generate a real one"
                        .to_owned(),
                );
            }
        }
        Some(_) => {}
    }
    if production && settings.debug {
        problems.push("debug: must be false in production".to_owned());
    }
    if settings.data_dir.as_os_str().is_empty() {
        problems.push("data_dir: must not be empty".to_owned());
    }
    if let Err(err) = settings.log.level.parse::<tracing_subscriber::EnvFilter>() {
        problems.push(format!("log.level: {err}"));
    }
    settings.log.validate(&mut problems);
    settings.telemetry.validate(&mut problems);
    settings.database.validate(production, &mut problems);
    settings.app.validate(production, &mut problems);
    settings.edge.validate(production, &mut problems);
    settings.tenancy.validate(production, &mut problems);
    settings.auth.validate(production, &mut problems);
    settings.acme.validate(production, &mut problems);
    if let Some(path) = &settings.acme.extra_root_pem
        && let Err(problem) = crate::extra_roots::read(path)
    {
        problems.push(problem);
    }
    if settings.acme.wildcard && settings.tenancy.normalized_suffix().is_empty() {
        problems.push(
            "acme.wildcard: needs tenancy.domain_suffix (the wildcard is `*.<suffix>`)".to_owned(),
        );
    }
    settings.billing.validate(production, &mut problems);
    app::billing::plans::Plans::check(&settings.billing, &settings.prober, &mut problems);
    settings.email.validate(production, &mut problems);
    settings.prober.validate(production, &mut problems);
    problems
}
