// Model engine: scores each record as it is closed.

// Scores the record at `record` (a closed record in the event buffer) against
// the configured models and appends an alert record for each model that fires.
export function evaluateModels(record: usize): void {
}
