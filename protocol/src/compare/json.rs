//! The report as the contract's JSON (issue 12; README "llmscope-shim compare"): the contract's
//! fields, plus `unit`, `ranking`, `prices_taken` (the price table's date), per target the engine's `mean`, `sd` and `stability`, and in
//! each `cost` object `prices_taken`, the date of its prices.

use super::{Cost, Report};
use llmscope_spc::compare::recommend::{Ranked, Verdict};
use llmscope_spc::compare::{PairComparison, StreamSummary};
use serde::{Serialize, Serializer};

#[derive(Serialize)]
struct Json<'a> {
    metric: &'a str,
    unit: &'a str,
    targets: Vec<Row<'a>>,
    pairs: &'a [PairComparison],
    pareto: &'a [String],
    recommendation: &'a Verdict,
    ranking: &'a [Ranked],
    prices_taken: &'a str,
}

/// One `targets[]` row: the engine's summary and the target's cost.
#[derive(Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    summary: &'a StreamSummary,
    cost: Option<&'a Cost>,
}

impl Serialize for Report {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let targets = self.comparison.targets.iter().enumerate();
        let json = Json {
            metric: self.metric.field(),
            unit: self.metric.words().1,
            targets: targets
                .map(|(i, summary)| Row {
                    summary,
                    cost: self.costs.get(i).and_then(Option::as_ref),
                })
                .collect(),
            pairs: &self.comparison.pairs,
            pareto: &self.recommendation.pareto,
            recommendation: &self.recommendation.recommendation,
            ranking: &self.recommendation.ranking,
            prices_taken: &self.prices_taken,
        };
        json.serialize(serializer)
    }
}
