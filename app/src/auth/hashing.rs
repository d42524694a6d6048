//! A bounded pool for password hashing.
//!
//! Argon2 is slow and memory-hard on purpose (19 MiB and tens of milliseconds
//! a password). The per-address and per-account limits stop a flood from one
//! place before it hashes anything, but a flood from many addresses passes
//! them all, and with one blocking thread per request it ran a hundred hashes
//! at once: the server's cores busy, gigabytes in use, other tenants' API
//! calls waiting seconds. So passwords are hashed on a few threads of their
//! own, at the lowest priority (a request that arrives mid-hash is served
//! first), at most `queue` wait, and the rest
//! are told at once to come back ([`Busy`]), which costs nothing.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use thread_priority::{ThreadPriority, set_current_thread_priority};
use tokio::sync::oneshot;

/// Passwords waiting per hashing thread before callers are turned away:
/// at ~30 ms a hash, under a second of waiting.
const QUEUE_PER_WORKER: usize = 32;

/// Too many passwords are being checked at once; try again in a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many passwords are being checked at once")]
pub struct Busy;

type Job = Box<dyn FnOnce() + Send>;

/// Runs jobs on its own threads, with a bounded queue.
#[derive(Debug)]
pub struct Pool {
    jobs: Sender<Job>,
    /// Callers waiting for their job's result (queued or running).
    admitted: Arc<AtomicUsize>,
    capacity: usize,
}

impl Pool {
    /// A pool of `workers` threads and `queue` waiting jobs.
    pub fn new(workers: usize, queue: usize) -> Self {
        let (jobs, receiver) = channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let mut started = 0;
        for n in 0..workers.max(1) {
            let receiver = Arc::clone(&receiver);
            let spawned = std::thread::Builder::new()
                .name(format!("password-hash-{n}"))
                .spawn(move || work(&receiver));
            match spawned {
                Ok(_) => started += 1,
                Err(err) => tracing::error!(error = %err, "cannot start a password-hashing thread"),
            }
        }
        Self {
            jobs,
            admitted: Arc::new(AtomicUsize::new(0)),
            // Without a thread every password check is Busy rather than a hang.
            capacity: if started == 0 { 0 } else { started + queue },
        }
    }

    /// Sized for this machine: half the cores it may use (at least one), so
    /// hashing never takes every core from the rest of the server.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let workers = (cores / 2).max(1);
        Self::new(workers, workers * QUEUE_PER_WORKER)
    }

    /// Callers holding a place now, at most [`Pool::capacity`].
    pub fn load(&self) -> usize {
        self.admitted.load(Ordering::Acquire)
    }

    /// Callers that may hold a place at once; one more is [`Busy`].
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Runs `job` on a hashing thread, or answers [`Busy`] at once when
    /// every place is taken. A caller that gives up frees its place at once,
    /// and its job is skipped if it has not started.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let _place = Place::take(&self.admitted, self.capacity).ok_or(Busy)?;
        let (done, result) = oneshot::channel::<Result<T, Box<dyn Any + Send>>>();
        let job: Job = Box::new(move || {
            if done.is_closed() {
                return;
            }
            let _ = done.send(catch_unwind(AssertUnwindSafe(job)));
        });
        self.jobs.send(job).map_err(|_| Busy)?;
        match result.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(panic)) => resume_unwind(panic),
            // The threads are gone (they never exit while the pool lives).
            Err(_) => Err(Busy),
        }
    }
}

/// A hashing thread: takes the lowest priority, then runs jobs until the pool
/// is dropped. On Linux that is nice 19: when the request threads want the
/// CPU they get all but a sliver of it, and hashing gets what they leave.
fn work(receiver: &Mutex<Receiver<Job>>) {
    if let Err(err) = set_current_thread_priority(ThreadPriority::Min) {
        // Still bounded, only not deferring to requests.
        tracing::warn!(error = ?err, "cannot lower the password-hashing thread's priority");
    }
    loop {
        let next = receiver
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .recv();
        match next {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// A caller's place in the pool, given back when dropped.
#[derive(Debug)]
struct Place(Arc<AtomicUsize>);

impl Place {
    fn take(counter: &Arc<AtomicUsize>, capacity: usize) -> Option<Self> {
        counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < capacity).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(Arc::clone(counter)))
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Condvar;
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
    async fn a_caller_that_gives_up_frees_its_place_and_its_job_is_skipped() {
        let pool = Arc::new(Pool::new(1, 1));
        let gate = Arc::new(Gate::default());
        let first = tokio::spawn({
            let (pool, gate) = (pool.clone(), gate.clone());
            async move { pool.run(move || gate.wait()).await }
        });
        until("the first running", || pool.load() == 1).await;
        let skipped = Arc::new(AtomicUsize::new(0));
        let waiting = tokio::spawn({
            let (pool, skipped) = (pool.clone(), skipped.clone());
            async move {
                pool.run(move || skipped.fetch_add(1, Ordering::SeqCst))
                    .await
            }
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
        assert_eq!(
            skipped.load(Ordering::SeqCst),
            0,
            "the abandoned job never ran"
        );
    }

    #[tokio::test]
    async fn a_panicking_job_reaches_its_caller_and_the_thread_lives_on() {
        let pool = Arc::new(Pool::new(1, 0));
        let panicked = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(|| -> u8 { panic!("argon2 broke") }).await }
        });
        assert!(panicked.await.unwrap_err().is_panic());
        assert_eq!(pool.run(|| 1).await, Ok(1));
    }

    /// Field 19 of /proc/thread-self/stat: the calling thread's nice value.
    #[cfg(target_os = "linux")]
    fn own_nice() -> i32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // The name in parentheses may hold spaces; fields count from after it.
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        after_name.split(' ').nth(16).unwrap().parse().unwrap()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_defer_to_the_request_threads() {
        let pool = Pool::new(1, 0);
        let here = own_nice();
        let there = pool.run(own_nice).await.unwrap();
        assert_eq!(
            there, 19,
            "request thread at nice {here}, hashing thread at {there}"
        );
    }
}
