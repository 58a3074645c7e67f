//! What a live source said about a stream's health (issue 13, "source status events"): the
//! shim's `status` frames (stale, live again, with its reason) and the connection dropping,
//! kept per stream, the latest [`EVENTS`], so the why panel can show those around an episode.

use super::Stream;
use serde::{Deserialize, Serialize};

/// Events kept per stream: the oldest go first.
pub const EVENTS: usize = 1000;

/// One status event of a stream's source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceEvent {
    /// When the dashboard heard it, Unix epoch milliseconds (the samples' axis).
    pub t: f64,
    /// `stale`, `live` or `disconnected`.
    pub kind: String,
    /// The source's reason, empty when it gave none.
    pub message: String,
}

impl Stream {
    /// Keeps `event`, dropping the oldest beyond [`EVENTS`].
    pub fn record(&mut self, event: SourceEvent) {
        self.events.push(event);
        let extra = self.events.len().saturating_sub(EVENTS);
        self.events.drain(..extra);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Origin;

    #[test]
    fn only_the_latest_events_are_kept() {
        let mut st = Stream::new(
            "p/x",
            "",
            Origin::Live {
                url: "ws://s".into(),
            },
        );
        for i in 0..EVENTS + 5 {
            st.record(SourceEvent {
                t: i as f64,
                kind: "stale".into(),
                message: String::new(),
            });
        }
        assert_eq!(st.events.len(), EVENTS);
        assert_eq!(st.events[0].t, 5.0);
        assert_eq!(st.events[EVENTS - 1].t, (EVENTS + 4) as f64);
    }
}
