//! A bounded pool for password hashing.
//!
//! Argon2 is slow and memory-hard on purpose (19 MiB and tens of milliseconds
//! a password). The per-address and per-account limits stop a flood from one
//! place before it hashes anything, but a flood from many addresses passes
//! them all, and with one blocking thread per request it ran hundreds of
//! hashes at once: every core busy, hundreds of megabytes in use, and other
//! tenants' API calls waiting seconds. So at most `workers` passwords are
//! hashed at a time, at most `queue` more wait, and the rest are told at once
//! to come back, which costs nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

/// Passwords waiting per hashing worker before callers are turned away:
/// at ~30 ms a hash, under a second of waiting.
const QUEUE_PER_WORKER: usize = 32;

/// Too many passwords are being checked at once; try again in a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many passwords are being checked at once")]
pub struct Busy;

/// Runs jobs on blocking threads, a bounded number at a time with a bounded queue.
#[derive(Debug)]
pub struct Pool {
    running: Arc<Semaphore>,
    /// Jobs running or waiting for a worker.
    admitted: Arc<AtomicUsize>,
    capacity: usize,
}

impl Pool {
    /// A pool of `workers` running at once and `queue` waiting.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        Self {
            running: Arc::new(Semaphore::new(workers)),
            admitted: Arc::new(AtomicUsize::new(0)),
            capacity: workers + queue,
        }
    }

    /// Sized for this machine: half the cores it may use (at least one), so
    /// hashing never takes every core from the rest of the server.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let workers = (cores / 2).max(1);
        Self::new(workers, workers * QUEUE_PER_WORKER)
    }

    /// Jobs running and waiting, at most [`Pool::capacity`].
    pub fn load(&self) -> usize {
        self.admitted.load(Ordering::Acquire)
    }

    /// Jobs that may run or wait at once; one more is [`Busy`].
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Runs `job` on a blocking thread once a worker is free, or answers
    /// [`Busy`] at once when the queue is full. A caller that gives up while
    /// waiting frees its place; a job once started runs to the end and holds
    /// its worker until then.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let admitted = Admitted::take(&self.admitted, self.capacity).ok_or(Busy)?;
        let permit = Arc::clone(&self.running)
            .acquire_owned()
            .await
            .map_err(|_| Busy)?;
        let handle = tokio::task::spawn_blocking(move || {
            let _held = (permit, admitted);
            job()
        });
        match handle.await {
            Ok(value) => Ok(value),
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            // Cancelled: the runtime is shutting down.
            Err(_) => Err(Busy),
        }
    }
}

/// A place in the pool, given back when dropped.
#[derive(Debug)]
struct Admitted(Arc<AtomicUsize>);

impl Admitted {
    fn take(counter: &Arc<AtomicUsize>, capacity: usize) -> Option<Self> {
        counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < capacity).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(Arc::clone(counter)))
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Condvar, Mutex};
    use std::time::Duration;

    use super::*;

    /// Jobs wait behind it until it opens.
    #[derive(Default)]
    struct Gate {
        open: Mutex<bool>,
        changed: Condvar,
    }

    impl Gate {
        fn wait(&self) {
            let mut open = self.open.lock().unwrap();
            while !*open {
                open = self.changed.wait(open).unwrap();
            }
        }

        fn open(&self) {
            *self.open.lock().unwrap() = true;
            self.changed.notify_all();
        }
    }

    async fn until(what: &str, condition: impl Fn() -> bool) {
        for _ in 0..500 {
            if condition() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("timed out waiting for {what}");
    }

    #[tokio::test]
    async fn runs_at_most_its_workers_queues_the_next_and_turns_away_the_rest() {
        let pool = Arc::new(Pool::new(2, 3));
        let gate = Arc::new(Gate::default());
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut jobs = Vec::new();
        for i in 0..5 {
            let (pool, gate, running, most) =
                (pool.clone(), gate.clone(), running.clone(), most.clone());
            jobs.push(tokio::spawn(async move {
                pool.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    gate.wait();
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                })
                .await
            }));
        }
        until("five admitted, two running", || {
            pool.load() == 5 && running.load(Ordering::SeqCst) == 2
        })
        .await;
        assert_eq!(pool.capacity(), 5);
        assert_eq!(pool.run(|| ()).await, Err(Busy), "a sixth is turned away");

        gate.open();
        let mut done = Vec::new();
        for job in jobs {
            done.push(job.await.unwrap().unwrap());
        }
        done.sort_unstable();
        assert_eq!(done, [0, 1, 2, 3, 4]);
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert_eq!(pool.load(), 0);
        assert_eq!(pool.run(|| 7).await, Ok(7), "room again once they finish");
    }

    #[tokio::test]
    async fn a_caller_that_gives_up_while_waiting_frees_its_place() {
        let pool = Arc::new(Pool::new(1, 1));
        let gate = Arc::new(Gate::default());
        let first = tokio::spawn({
            let (pool, gate) = (pool.clone(), gate.clone());
            async move { pool.run(move || gate.wait()).await }
        });
        until("the first running", || pool.load() == 1).await;
        let waiting = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(|| ()).await }
        });
        until("the second waiting", || pool.load() == 2).await;
        assert_eq!(pool.run(|| ()).await, Err(Busy));

        waiting.abort();
        until("the waiting caller's place given back", || pool.load() == 1).await;
        let next = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(|| "next").await }
        });
        gate.open();
        assert_eq!(first.await.unwrap(), Ok(()));
        assert_eq!(next.await.unwrap(), Ok("next"));
    }
}
