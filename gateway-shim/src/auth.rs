//! Who may talk to the server: the token comparison, the lockout of addresses that keep
//! presenting wrong tokens, and the Host check against DNS rebinding.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The one token comparison, shared with the probe Worker: SHA-256 digests of both sides
/// compared in constant time, so neither the time taken nor a length mismatch says anything
/// about the right token.
pub use llmscope_protocol::token::same_token;

/// Wrong tokens an address may present before it is locked out (typos are forgiven).
pub const FREE_FAILURES: u32 = 5;
/// The first lockout; each further wrong token doubles it.
pub const FIRST_LOCKOUT: Duration = Duration::from_secs(10);
/// The longest lockout.
pub const MAX_LOCKOUT: Duration = Duration::from_secs(600);
/// An address with no wrong token for this long starts again from zero.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// Addresses tracked at most; beyond, the one idle longest is forgotten.
const TRACKED: usize = 10_000;

/// Slows down token guessing, per client address: after [`FREE_FAILURES`] wrong tokens in a row
/// an address is refused (HTTP 429) for [`FIRST_LOCKOUT`], doubling with every further wrong
/// token up to [`MAX_LOCKOUT`]. While locked out even the right token is refused, so guessing
/// gains nothing; a right token outside a lockout clears the count.
#[derive(Debug, Default)]
pub struct Lockout {
    addresses: Mutex<HashMap<IpAddr, Failures>>,
}

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

impl Lockout {
    /// `Err(wait)` while `ip` is locked out.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let addresses = self.lock();
        match addresses.get(&ip).and_then(|f| f.locked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// `ip` presented a wrong token.
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut addresses = self.lock();
        if addresses.len() >= TRACKED && !addresses.contains_key(&ip) {
            forget_idlest(&mut addresses);
        }
        let entry = addresses.entry(ip).or_insert(Failures {
            count: 0,
            last: now,
            locked_until: None,
        });
        if now.saturating_duration_since(entry.last) > FORGET_AFTER {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        if entry.count >= FREE_FAILURES {
            let doublings = (entry.count - FREE_FAILURES).min(16);
            let wait = FIRST_LOCKOUT
                .saturating_mul(1 << doublings)
                .min(MAX_LOCKOUT);
            entry.locked_until = Some(now + wait);
        }
    }

    /// `ip` presented the right token.
    pub fn succeeded(&self, ip: IpAddr) {
        self.lock().remove(&ip);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Failures>> {
        self.addresses
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn forget_idlest(addresses: &mut HashMap<IpAddr, Failures>) {
    if let Some(ip) = addresses
        .iter()
        .min_by_key(|(_, f)| f.last)
        .map(|(ip, _)| *ip)
    {
        addresses.remove(&ip);
    }
}

/// The Host check. After a DNS rebind an attacker's page reaches the shim under the attacker's
/// own name, and its Origin matches that name, so only the Host header tells. Allowed: loopback
/// names (`localhost`, `127.0.0.1` and the rest of 127/8, `[::1]`) on any port, and `allowed`
/// (the `listen` address and `[server] allowed_hosts`): an entry with a port matches exactly,
/// one without matches that name on any port. Names compare case-insensitively.
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let name = host_name(&host);
    if name == "localhost" || loopback_ip(name) {
        return true;
    }
    allowed.iter().any(|entry| {
        let entry = entry.trim().to_ascii_lowercase();
        entry == host || (host_name(&entry) == entry && entry == name)
    })
}

/// The name part of a Host value: `[::1]:9750` → `[::1]`, `plant:9750` → `plant`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

fn loopback_ip(name: &str) -> bool {
    name.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("change-me", "change-me"));
        assert!(!same_token("change-m", "change-me"));
        assert!(!same_token("change-me!", "change-me"));
        assert!(!same_token("", "change-me"));
        assert!(!same_token("Change-me", "change-me"));
    }

    #[test]
    fn lockout_starts_after_five_failures_doubles_and_is_capped() {
        let lockout = Lockout::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..4 {
            lockout.failed(ip, t0);
        }
        assert_eq!(lockout.check(ip, t0), Ok(()), "four typos are forgiven");
        lockout.failed(ip, t0);
        assert_eq!(lockout.check(ip, t0), Err(FIRST_LOCKOUT));
        assert_eq!(lockout.check(other, t0), Ok(()), "per address");
        let later = t0 + FIRST_LOCKOUT;
        assert_eq!(lockout.check(ip, later), Ok(()), "the lockout ends");
        lockout.failed(ip, later);
        assert_eq!(lockout.check(ip, later), Err(FIRST_LOCKOUT * 2));
        for _ in 0..40 {
            lockout.failed(ip, later);
        }
        assert_eq!(lockout.check(ip, later), Err(MAX_LOCKOUT));
        lockout.succeeded(ip);
        assert_eq!(lockout.check(ip, later), Ok(()));
        let much_later = later + FORGET_AFTER * 2;
        lockout.failed(ip, much_later);
        assert_eq!(lockout.check(ip, much_later), Ok(()), "old failures expire");
    }

    #[test]
    fn lockout_tracks_a_bounded_number_of_addresses() {
        let lockout = Lockout::default();
        let t0 = Instant::now();
        for i in 0..(TRACKED as u32 + 100) {
            lockout.failed(
                IpAddr::from(i.to_be_bytes()),
                t0 + Duration::from_millis(i.into()),
            );
        }
        assert_eq!(lockout.lock().len(), TRACKED);
    }

    #[test]
    fn only_loopback_listen_and_listed_hosts_pass() {
        let allowed = vec!["192.168.1.20".to_string(), "plant-pc:9750".to_string()];
        for ok in [
            "localhost",
            "LOCALHOST:9750",
            "127.0.0.1",
            "127.0.0.1:9750",
            "[::1]",
            "[::1]:9750",
            "192.168.1.20:9750",
            "plant-pc:9750",
        ] {
            assert!(host_allowed(ok, &allowed), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:9750",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "plant-pc",
            "plant-pc:80",
            "",
            "[::2]:9750",
        ] {
            assert!(!host_allowed(bad, &allowed), "{bad}");
        }
    }
}
