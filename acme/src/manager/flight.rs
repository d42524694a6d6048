//! Single flight: one look-up per name however many handshakes ask at once.
//!
//! A look-up runs in its own task, so it finishes (and its certificate is
//! stored and cached) even when every handshake that waited for it gave up
//! at its time limit; the next handshake then finds the answer in the cache.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::sign::CertifiedKey;
use tokio::sync::watch;

use super::lock;
use crate::{Error, Result};

/// One look-up's outcome, handed whole (error variant included) to every waiter.
pub(super) type Answer = Result<Option<Arc<CertifiedKey>>>;

/// The look-ups running now, by name.
#[derive(Default)]
pub(super) struct Flights {
    running: Arc<Mutex<HashMap<String, watch::Receiver<Option<Answer>>>>>,
}

/// A place in the queue for one look-up's answer.
pub(super) struct Waiter {
    name: String,
    answer: watch::Receiver<Option<Answer>>,
}

impl Flights {
    /// Joins the running look-up for `name`, or starts `look_up()` in its
    /// own task (`None`: nothing can be started, the waiter gets
    /// [`Error::Aborted`]).
    pub(super) fn join<F>(&self, name: &str, look_up: impl FnOnce() -> Option<F>) -> Waiter
    where
        F: Future<Output = Answer> + Send + 'static,
    {
        let mut running = lock(&self.running);
        if let Some(answer) = running.get(name) {
            return Waiter {
                name: name.to_owned(),
                answer: answer.clone(),
            };
        }
        let (tx, rx) = watch::channel(None);
        running.insert(name.to_owned(), rx.clone());
        drop(running);
        if let Some(work) = look_up() {
            let (running, owned) = (self.running.clone(), name.to_owned());
            tokio::spawn(async move {
                let _ = tx.send(Some(work.await));
                lock(&running).remove(&owned);
            });
        }
        Waiter {
            name: name.to_owned(),
            answer: rx,
        }
    }

    /// Names being looked up now, sorted.
    pub(super) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = lock(&self.running).keys().cloned().collect();
        names.sort();
        names
    }
}

impl Waiter {
    /// The answer, however long the look-up takes.
    pub(super) async fn answer(mut self) -> Answer {
        match self.answer.wait_for(Option::is_some).await {
            Ok(answer) => answer.clone().unwrap_or(Ok(None)),
            Err(_) => Err(Error::Aborted { name: self.name }),
        }
    }

    /// The answer, or [`Error::Timeout`] after `limit` (the look-up goes on).
    pub(super) async fn answer_within(self, limit: Duration) -> Answer {
        let name = self.name.clone();
        tokio::time::timeout(limit, self.answer())
            .await
            .unwrap_or(Err(Error::Timeout { name }))
    }
}
