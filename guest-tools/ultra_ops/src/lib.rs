//! The ULTRA operations tools, registered only in ULTRA mode and loaded on first call:
//!
//! - `ide_agents_ultra_anomalies` (`anomalies.rs`): robust z-scores, IQR fences and PELT change
//!   points of a numeric series (build times, latencies), as numpy and ruptures compute them;
//! - `ide_agents_ultra_forecast` (`forecast.rs`): linear-trend and Holt forecasts with intervals,
//!   Holt as statsmodels computes it;
//! - `ide_agents_ultra_log_patterns` (`log_patterns.rs`): log templates mined with Drain as drain3
//!   implements it, from inline lines or a file under the `logs` root.
//!
//! All three are deterministic: the same input gives the same output, bit for bit.

mod anomalies;
mod forecast;
mod log_patterns;

use ide_agents_tool::Annotations;

/// The tools only compute (the log tool also reads a granted root): nothing is changed, nothing
/// outside is reached.
const PURE: Annotations = Annotations::new().read_only(true).destructive(false).idempotent(true).open_world(false);

ide_agents_tool::export_tools!(anomalies::Anomalies, forecast::Forecast, log_patterns::LogPatterns);

#[cfg(test)]
mod tests {
    use ide_agents_tool::descriptor;

    #[test]
    fn schemas_describe_the_arguments() {
        let logs = descriptor::<crate::log_patterns::LogPatterns>();
        assert!(logs.input_schema.contains("similarity_threshold") && logs.input_schema.contains("minLength"));
        let anomalies = descriptor::<crate::anomalies::Anomalies>();
        assert!(anomalies.output_schema.unwrap().contains("change_points"));
        let forecast = descriptor::<crate::forecast::Forecast>();
        assert!(forecast.input_schema.contains("\"maximum\":1.0") || forecast.input_schema.contains("\"maximum\":1"));
    }
}
