//! The assignable causes offered for an LLM target's signal by default: the dashboard's
//! taxonomy starts from them and the probe Worker's alerts (Slack's Set cause menu, `POST
//! /alerts/{id}/ack`) accept exactly them. They are the engine's cause table's words
//! (`llmscope_spc::explain::cause`), so a set cause and a suggested one read the same.

/// The cause recorded when nobody knows it.
pub const UNKNOWN: &str = "Unknown";

/// The LLM causes, in the order offered, [`UNKNOWN`] last.
pub const LLM: [&str; 7] = [
    "provider incident",
    "rate limiting",
    "model version change",
    "cache behaviour change",
    "region routing",
    "prompt or token-count change",
    UNKNOWN,
];

#[cfg(test)]
mod tests {
    use llmscope_spc::explain::cause::{Domain, TABLE};

    #[test]
    fn the_causes_are_the_engines_words() {
        for c in super::LLM.iter().filter(|c| **c != super::UNKNOWN) {
            assert!(
                TABLE.iter().any(|row| row.0 == Domain::Llm && row.2 == *c),
                "{c} is not in the engine's table"
            );
        }
    }
}
