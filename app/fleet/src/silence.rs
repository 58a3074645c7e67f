//! Sources that stop without saying so. A plant's broker that crashes sends no NDEATH for the
//! edge nodes behind it (their wills died with it), so without a clock their streams would
//! stay live forever. Each source — a Sparkplug edge node `{group}/{node}` (its devices with
//! it), or a plain topic's stream group — is silent once no message came from it for longer
//! than its window: `max(3 × its longest gap between messages, the floor)`. The floor is the
//! user's setting (`silent_after_s`); the longest gap fades as time passes (each message
//! divides it by `1 + elapsed / FADE_MS`: about `e^(-t / 5 min)` over many messages), so a
//! publisher that speeds up gets a shorter window within minutes, and a slow one (once a
//! minute) is called silent once at most, then learnt. Every gap is learnt, one that ended a
//! silence too, except the gap before a new session (a Sparkplug NBIRTH: the outage before
//! it is no rhythm). No transcendental function and no sort: the worker's module stays small.

use std::collections::HashMap;

/// How fast an old long gap fades (ms).
pub const FADE_MS: f64 = 300_000.0;
/// The window is this many times the longest gap.
const GAPS: f64 = 3.0;

/// When a source was last heard and its rhythm.
struct Heard {
    last: f64,
    /// The longest gap between its messages, decayed with time (ms).
    gap: f64,
    silent: bool,
}

/// Every source heard, by key.
pub struct Silence {
    floor_ms: f64,
    sources: HashMap<String, Heard>,
    /// When [`Silence::check`] last looked (it looks once a second).
    checked: f64,
}

impl Silence {
    /// Sources are silent after at least `floor_s` seconds without a message (0: never).
    pub fn new(floor_s: f64) -> Silence {
        Silence {
            floor_ms: floor_s * 1_000.0,
            sources: HashMap::new(),
            checked: f64::NEG_INFINITY,
        }
    }

    /// A message from `key` at `now` (epoch ms); true when the source was silent until now.
    /// `rhythm`: the gap before it is the source's rhythm (false for a new session's first).
    pub fn heard(&mut self, key: &str, now: f64, rhythm: bool) -> bool {
        let Some(h) = self.sources.get_mut(key) else {
            let heard = Heard {
                last: now,
                gap: 0.0,
                silent: false,
            };
            self.sources.insert(key.to_string(), heard);
            return false;
        };
        let gap = (now - h.last).max(0.0);
        let was = std::mem::replace(&mut h.silent, false);
        if rhythm {
            h.gap = gap.max(h.gap / (1.0 + gap / FADE_MS));
        }
        h.last = now;
        was
    }

    /// How long `key` may be quiet before it is silent (ms).
    pub fn window(&self, key: &str) -> Option<f64> {
        self.sources
            .get(key)
            .map(|h| (GAPS * h.gap).max(self.floor_ms))
    }

    /// The sources silent at `now` that were not before (in no order), each with when it
    /// was last heard; at most once a second (every tick would walk every source).
    pub fn check(&mut self, now: f64) -> Vec<(String, f64)> {
        if self.floor_ms <= 0.0 || now - self.checked < 1_000.0 {
            return Vec::new();
        }
        self.checked = now;
        let floor = self.floor_ms;
        let mut out = Vec::new();
        for (key, h) in &mut self.sources {
            if !h.silent && now - h.last > (GAPS * h.gap).max(floor) {
                h.silent = true;
                out.push((key.clone(), h.last));
            }
        }
        out
    }
}

/// `t` (epoch ms) as `HH:MM:SS UTC`: the worker has no time zone.
pub fn clock(t: f64) -> String {
    let s = (t as u64 / 1_000) % 86_400;
    format!("{:02}:{:02}:{:02} UTC", s / 3_600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_silent_after_the_floor_and_a_message_revives_it() {
        let mut s = Silence::new(10.0);
        assert!(!s.heard("g/n1", 0.0, true));
        s.heard("g/n2", 0.0, true);
        assert!(s.check(5_000.0).is_empty());
        s.heard("g/n2", 9_000.0, true);
        assert_eq!(s.check(10_500.0), [("g/n1".to_string(), 0.0)]);
        assert!(s.check(12_000.0).is_empty(), "once");
        assert!(s.heard("g/n1", 12_500.0, false), "it was silent");
        assert!(!s.heard("g/n1", 13_000.0, true));
        assert_eq!(
            s.window("g/n1"),
            Some(10_000.0),
            "a new session's outage is no rhythm"
        );
    }

    #[test]
    fn a_slow_source_is_silent_once_then_gets_three_of_its_gaps_and_old_gaps_fade() {
        let mut s = Silence::new(10.0);
        s.heard("slow", 0.0, true);
        assert_eq!(s.check(10_500.0).len(), 1, "before its rhythm is known");
        for i in 1..3 {
            s.heard("slow", f64::from(i) * 60_000.0, true);
        }
        assert_eq!(s.window("slow"), Some(180_000.0));
        assert!(s.check(120_000.0 + 170_000.0).is_empty());
        // Then once a second for two hours: 60 s fades, down to the floor.
        let mut t = 120_000.0;
        for _ in 0..7_200 {
            t += 1_000.0;
            s.heard("slow", t, true);
        }
        assert_eq!(s.window("slow"), Some(10_000.0));
    }

    #[test]
    fn a_zero_floor_turns_it_off_and_the_clock_reads_utc() {
        let mut s = Silence::new(0.0);
        s.heard("a", 0.0, true);
        assert!(s.check(1e9).is_empty());
        assert_eq!(clock(1_765_085_523_000.0), "05:32:03 UTC");
    }
}
