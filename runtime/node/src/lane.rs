//! Threads of their own for running contracts: consensus (proposing, validating, committing)
//! never waits behind RPC queries, RPC runs at most a few at once however many clients ask,
//! and each thread's stack holds the deepest call chain the engine allows.

use std::future::Future;

use eyre::eyre;

/// Stack of every lane thread. The engine bounds how deep host code nests (calls 16 deep,
/// allocators that may not call the host), in well under this; tokio's blocking threads
/// have 2 MiB.
pub const STACK_BYTES: usize = 16 << 20;

/// A fixed pool of threads that runs closures and hands their results back to async code.
pub struct Lane {
    name: &'static str,
    pool: rayon::ThreadPool,
}

impl Lane {
    pub fn new(name: &'static str, threads: usize) -> eyre::Result<Lane> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .stack_size(STACK_BYTES)
            .thread_name(move |i| format!("bot-{name}-{i}"))
            // A panic ends only its task (its caller sees the lane drop it), never the node.
            .panic_handler(move |_| tracing::error!("a task on the {name} lane panicked"))
            .build()
            .map_err(|e| eyre!("starting the {name} lane: {e}"))?;
        Ok(Lane { name, pool })
    }

    /// Runs `f` on the lane; resolves with its result once one of the lane's threads ran it.
    pub fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = eyre::Result<T>> + Send + 'static {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            let _ = tx.send(f());
        });
        let name = self.name;
        async move {
            rx.await
                .map_err(|_| eyre!("the {name} lane dropped a task"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn results_come_back_and_a_panic_stays_in_its_task() {
        let lane = Lane::new("test", 1).unwrap();
        assert_eq!(lane.run(|| 6 * 7).await.unwrap(), 42);
        let panicked = lane.run(|| -> u32 { panic!("boom") }).await;
        assert!(panicked.unwrap_err().to_string().contains("dropped a task"));
        // The lane still runs what comes next, with the stack it promised.
        let deep = lane
            .run(|| {
                fn down(n: u32) -> u32 {
                    let pad = std::hint::black_box([0u8; 1024]);
                    if n == 0 {
                        pad[0] as u32
                    } else {
                        down(n - 1) + 1
                    }
                }
                down(4 * 1024)
            })
            .await;
        assert_eq!(deep.unwrap(), 4 * 1024);
    }
}
