//! Seeded test data: the same values on every run, so what a browser test asserts about a
//! chart does not depend on chance.

/// Standard normal draws from `seed`: xorshift64 uniforms on (0, 1) through Box–Muller.
pub fn normal(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    move || {
        let (u, v) = (uniform(), uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}
