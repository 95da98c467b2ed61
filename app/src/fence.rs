//! The write fence, as the app keeps it: before any write, the app asks
//! its own region's state table and the peer's whether this region may
//! write ([`tandem_core::fence::write_gate`]); a fenced region answers 503.
//!
//! The answer is kept for a short time-to-live (one second by default), so
//! a burst of writes costs one read of this region's table. The peer's
//! table is read in the background, once a time-to-live, and its last
//! answer used: the peer may be the region that is down, and writes in the
//! new primary must not wait on it. A fence written in this region stops
//! writes within one time-to-live, one written in the peer within about
//! two. A new process starts with no answer: its first write reads both
//! tables, so an app that restarts in a region that was fenced while it
//! was away never writes.

use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use tandem_core::fence::{WriteGate, write_gate};
use tandem_core::state::{Standing, StateTable};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// The most a read of the peer's table may take: the peer may be the
/// region that is down, and writes must not wait on it.
pub const PEER_READ_TIMEOUT: Duration = Duration::from_secs(2);
/// The most a read of this region's table may take.
pub const OWN_READ_TIMEOUT: Duration = Duration::from_secs(3);

/// Where a region's standing is read from: its state table, or memory in tests.
pub trait StandingSource: Send + Sync {
    /// The standing, or why it could not be read.
    fn read(&self) -> BoxFuture<'_, Result<Standing, String>>;
}

impl StandingSource for StateTable {
    fn read(&self) -> BoxFuture<'_, Result<Standing, String>> {
        Box::pin(async move { self.standing().await.map_err(|e| e.to_string()) })
    }
}

/// The app's write gate for one region.
pub struct Gate {
    here: String,
    configured_primary: String,
    own: Option<Arc<dyn StandingSource>>,
    peer: Option<Arc<dyn StandingSource>>,
    ttl: Duration,
    last: Mutex<Option<(WriteGate, Instant)>>,
    peer_read: std::sync::Mutex<PeerRead>,
}

/// The peer's last answer, and whether a read of it is under way.
#[derive(Default)]
struct PeerRead {
    last: Option<(Result<Standing, String>, Instant)>,
    reading: bool,
}

impl Gate {
    /// A gate for `here` that reads `own` and `peer`, keeping an answer for
    /// `ttl`; `configured_primary` is the primary while no roles are recorded.
    pub fn new(
        here: &str,
        configured_primary: &str,
        own: Arc<dyn StandingSource>,
        peer: Arc<dyn StandingSource>,
        ttl: Duration,
    ) -> Self {
        Self {
            here: here.to_owned(),
            configured_primary: configured_primary.to_owned(),
            own: Some(own),
            peer: Some(peer),
            ttl,
            last: Mutex::new(None),
            peer_read: std::sync::Mutex::new(PeerRead::default()),
        }
    }

    /// No fencing (no state tables are configured: tests, a laptop): always open.
    pub fn unfenced() -> Self {
        Self {
            here: String::new(),
            configured_primary: String::new(),
            own: None,
            peer: None,
            ttl: Duration::ZERO,
            last: Mutex::new(None),
            peer_read: std::sync::Mutex::new(PeerRead::default()),
        }
    }

    /// Whether this region may write now: `Ok(epoch)`, or why not.
    pub async fn check(self: &Arc<Self>) -> Result<u64, Refusal> {
        let Some(own) = &self.own else {
            return Ok(0);
        };
        let mut last = self.last.lock().await;
        if let Some((gate, at)) = last.as_ref()
            && at.elapsed() < self.ttl
        {
            return as_result(gate.clone());
        }
        let (own, peer) = tokio::join!(read(own.as_ref(), OWN_READ_TIMEOUT), self.peer_standing());
        let gate = write_gate(
            &self.here,
            &self.configured_primary,
            own.as_ref().map_err(String::as_str),
            peer.as_ref().map_err(String::as_str),
        );
        if let WriteGate::Closed(why) = &gate {
            tracing::warn!(reason = %why, "writes are fenced");
        }
        // A standby refusing writes is its normal state: not worth a warning.
        *last = Some((gate.clone(), Instant::now()));
        as_result(gate)
    }
}

impl Gate {
    /// The peer's standing: its last answer, with a new read started in the
    /// background once it is older than the time-to-live; the very first
    /// read is waited for.
    async fn peer_standing(self: &Arc<Self>) -> Result<Standing, String> {
        let Some(peer) = self.peer.clone() else {
            return Err("no peer table is configured".into());
        };
        let (cached, refresh) = {
            let mut state = self.peer_read.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let cached = state
                .last
                .as_ref()
                .map(|(answer, at)| (answer.clone(), at.elapsed() >= self.ttl));
            let refresh = cached.as_ref().is_some_and(|(_, stale)| *stale) && !state.reading;
            if refresh {
                state.reading = true;
            }
            (cached.map(|(answer, _)| answer), refresh)
        };
        if refresh {
            let (gate, source) = (Arc::clone(self), Arc::clone(&peer));
            tokio::spawn(async move {
                let answer = read(source.as_ref(), PEER_READ_TIMEOUT).await;
                gate.remember_peer(answer);
            });
        }
        if let Some(answer) = cached {
            return answer;
        }
        let answer = read(peer.as_ref(), PEER_READ_TIMEOUT).await;
        self.remember_peer(answer.clone());
        answer
    }

    fn remember_peer(&self, answer: Result<Standing, String>) {
        let mut state = self.peer_read.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.last = Some((answer, Instant::now()));
        state.reading = false;
    }
}

async fn read(source: &dyn StandingSource, limit: Duration) -> Result<Standing, String> {
    tokio::time::timeout(limit, source.read())
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", limit.as_secs())))
}

/// Why the gate refused a write: `fenced` (a fence, or a promotion under
/// way) or `standby` (writes go to the other region), and the sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `fenced` or `standby`: the `status` of the 503 answer.
    pub status: &'static str,
    /// Why, in one sentence.
    pub reason: String,
}

fn as_result(gate: WriteGate) -> Result<u64, Refusal> {
    match gate {
        WriteGate::Open { epoch } => Ok(epoch),
        WriteGate::Closed(reason) => Err(Refusal {
            status: "fenced",
            reason,
        }),
        WriteGate::Standby(reason) => Err(Refusal {
            status: "standby",
            reason,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A standing in memory that counts its reads; `None` fails the read.
    struct Memory(std::sync::Mutex<Option<Standing>>, AtomicUsize);

    impl Memory {
        fn new(standing: Option<Standing>) -> Arc<Self> {
            Arc::new(Self(std::sync::Mutex::new(standing), AtomicUsize::new(0)))
        }
        fn set(&self, standing: Option<Standing>) {
            *self.0.lock().unwrap() = standing;
        }
    }

    impl StandingSource for Memory {
        fn read(&self) -> BoxFuture<'_, Result<Standing, String>> {
            self.1.fetch_add(1, Ordering::SeqCst);
            let standing = self.0.lock().unwrap().clone();
            Box::pin(async move { standing.ok_or_else(|| "connection refused".to_owned()) })
        }
    }

    fn at_epoch(primary: &str, epoch: u64, fences: &[(&str, u64)]) -> Standing {
        tandem_testing::standing::standing(primary, epoch, fences)
    }

    #[tokio::test(start_paused = true)]
    async fn a_fence_written_in_the_peer_stops_writes_within_two_ttls() {
        let own = Memory::new(Some(at_epoch("us-east-1", 0, &[])));
        let peer = Memory::new(Some(at_epoch("us-east-1", 0, &[])));
        let gate = Arc::new(Gate::new(
            "us-east-1",
            "us-east-1",
            own.clone(),
            peer.clone(),
            Duration::from_secs(1),
        ));
        assert_eq!(gate.check().await, Ok(0));
        peer.set(Some(at_epoch("us-east-1", 0, &[("us-east-1", 1)])));
        assert_eq!(gate.check().await, Ok(0), "the answer is kept for the ttl");
        assert_eq!((own.1.load(Ordering::SeqCst), peer.1.load(Ordering::SeqCst)), (1, 1));
        // One ttl on: this region's table is read again now, the peer's in the background.
        tokio::time::advance(Duration::from_millis(1001)).await;
        assert_eq!(
            gate.check().await,
            Ok(0),
            "the peer's last answer is used while it is read again"
        );
        tokio::task::yield_now().await;
        assert_eq!(
            peer.1.load(Ordering::SeqCst),
            2,
            "the peer was read again in the background"
        );
        tokio::time::advance(Duration::from_millis(1001)).await;
        let why = gate.check().await.unwrap_err();
        assert_eq!(why.status, "fenced");
        assert!(
            why.reason
                .starts_with("us-east-1 is fenced: us-east-2 became the primary at epoch 1"),
            "{why:?}"
        );
    }

    #[tokio::test]
    async fn a_new_process_reads_before_its_first_write() {
        let own = Memory::new(Some(at_epoch("us-east-1", 0, &[])));
        let peer = Memory::new(Some(at_epoch("us-east-2", 1, &[("us-east-1", 1)])));
        let gate = Arc::new(Gate::new("us-east-1", "us-east-1", own, peer, Duration::from_secs(60)));
        assert!(gate.check().await.unwrap_err().reason.contains("is fenced"));
    }

    #[tokio::test]
    async fn an_unreadable_peer_leaves_the_decision_to_this_regions_table() {
        let own = Memory::new(Some(at_epoch("us-east-2", 1, &[("us-east-1", 1)])));
        let peer = Memory::new(None);
        let gate = Arc::new(Gate::new("us-east-2", "us-east-1", own.clone(), peer, Duration::ZERO));
        assert_eq!(gate.check().await, Ok(1));
        let fenced = Arc::new(Gate::new(
            "us-east-1",
            "us-east-1",
            own,
            Memory::new(None),
            Duration::ZERO,
        ));
        assert!(fenced.check().await.unwrap_err().reason.contains("is fenced"));
    }

    #[tokio::test]
    async fn an_unreadable_own_table_refuses_writes() {
        let gate = Arc::new(Gate::new(
            "us-east-1",
            "us-east-1",
            Memory::new(None),
            Memory::new(Some(Standing::default())),
            Duration::ZERO,
        ));
        let why = gate.check().await.unwrap_err();
        assert!(
            why.reason
                .contains("us-east-1's state table could not be read (connection refused)"),
            "{why:?}"
        );
    }

    #[tokio::test]
    async fn the_standby_refuses_writes_until_it_is_the_primary() {
        let before = Memory::new(Some(Standing::default()));
        let gate = Arc::new(Gate::new(
            "us-east-2",
            "us-east-1",
            before.clone(),
            before.clone(),
            Duration::ZERO,
        ));
        assert_eq!(gate.check().await.unwrap_err().status, "standby");
        before.set(Some(at_epoch("us-east-2", 1, &[("us-east-1", 1)])));
        assert_eq!(gate.check().await, Ok(1));
    }

    #[tokio::test]
    async fn without_state_tables_the_gate_is_open() {
        assert_eq!(Arc::new(Gate::unfenced()).check().await, Ok(0));
    }
}
