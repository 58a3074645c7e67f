//! Which column of a table to chart when the user names none: a convention shared by every
//! front end that reads tables (the shim's `analyze`, the dashboard's import), so a file charts
//! the same column everywhere.

/// Column names that mark an index or a time stamp rather than a measurement.
const INDEX_NAMES: [&str; 10] = [
    "index",
    "sample",
    "subgroup",
    "id",
    "seq",
    "t",
    "time",
    "timestamp",
    "date",
    "n",
];

/// True when a column named `name` is an index or a time, so that `index,value` charts `value`.
pub fn is_index_column(name: &str) -> bool {
    INDEX_NAMES.contains(&name.trim().to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    #[test]
    fn index_and_time_columns_are_recognised_whatever_their_case() {
        assert!(super::is_index_column("Timestamp"));
        assert!(super::is_index_column(" subgroup "));
        assert!(!super::is_index_column("ttft_ms"));
        assert!(!super::is_index_column("value"));
    }
}
