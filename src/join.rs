//! Run futures concurrently on the current task: the ARM client and the hub client are
//! single-threaded by design (`Cell`s, one runtime thread), so no spawning and no `Send`.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// Poll every future until all are done.
pub async fn join_all<F: Future<Output = ()>>(futs: Vec<F>) {
    let mut futs: Vec<Option<Pin<Box<F>>>> = futs.into_iter().map(|f| Some(Box::pin(f))).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for slot in futs.iter_mut() {
            if let Some(f) = slot {
                if f.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await
}
