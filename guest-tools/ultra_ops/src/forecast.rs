//! `ide_agents_ultra_forecast`: `horizon` steps ahead of a series, two ways, with 95% intervals:
//!
//! - linear trend: ordinary least squares of the values on t = 0..n-1; the interval at step t is
//!   `yhat ± t_(0.975, n-2) * s * sqrt(1 + 1/n + (t - tbar)^2 / Sxx)`, s the residual standard
//!   error `sqrt(SSE / (n - 2))` (the OLS prediction interval; with n = 2 the line is exact and
//!   the interval has width 0);
//! - Holt's linear exponential smoothing as statsmodels computes it
//!   (`statsmodels.tsa.holtwinters.Holt(series, initialization_method="known",
//!   initial_level=y[0], initial_trend=y[1] - y[0])`: the initial values are statsmodels' own
//!   "simple" initialization, Hyndman and Athanasopoulos section 7.6). With `l[0]`, `b[0]` those
//!   initial values, `l[i] = alpha * y[i-1] + (1 - alpha) * (l[i-1] + b[i-1])`,
//!   `b[i] = beta * (l[i] - l[i-1]) + (1 - beta) * b[i-1]`; the fitted value for `y[i]` is
//!   `l[i] + b[i]` (the one-step-ahead prediction), the forecast h steps ahead `l[n] + h * b[n]`.
//!   `alpha` and `beta` not given are fitted: they minimise the SSE of the one-step-ahead errors
//!   over [0, 1], by a grid search then a compass search (deterministic). The interval is
//!   `forecast ± 1.959964 * sigma * sqrt(1 + sum_(j=1..h-1) alpha^2 (1 + j * beta)^2)` (the
//!   ETS(A,A,N) forecast variance), sigma^2 = SSE / n.

use ide_agents_tool::{Error, Reply, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Longest series.
const MAX_SERIES: usize = 100_000;
/// Furthest horizon.
const MAX_HORIZON: usize = 10_000;
/// The standard normal's 0.975 quantile (95% intervals).
const Z_975: f64 = 1.959963984540054;
/// Student's t 0.975 quantiles for 1..=30 degrees of freedom (scipy.stats.t.ppf).
const T_975: [f64; 30] = [
    12.706204736174694,
    4.302652729749462,
    3.1824463052837078,
    2.7764451051977934,
    2.5705818356363146,
    2.4469118511449786,
    2.364624251592784,
    2.306004135204166,
    2.262157162798205,
    2.228138851986274,
    2.200985160091639,
    2.1788128296672284,
    2.1603686564627913,
    2.144786687917804,
    2.131449545559776,
    2.1199052992212546,
    2.1098155778333156,
    2.1009220402410382,
    2.0930240544083087,
    2.085963447265864,
    2.0796138447276795,
    2.0738730679040254,
    2.0686576104190486,
    2.0638985616280245,
    2.0595385527532972,
    2.0555294386428735,
    2.0518305164802846,
    2.0484071417952454,
    2.045229642132703,
    2.0422724563012378,
];
/// Grid points per fitted parameter in the initial search (step 0.05).
const GRID: usize = 21;
/// The compass search stops when its step falls below this.
const SEARCH_TOLERANCE: f64 = 1e-10;

pub struct Forecast;

impl Tool for Forecast {
    const NAME: &'static str = "ide_agents_ultra_forecast";
    const TITLE: Option<&'static str> = Some("Forecast a series");
    const DESCRIPTION: &'static str = "Forecasts `horizon` steps of a numeric series with a linear trend (least \
                                       squares) and Holt's linear exponential smoothing (given or fitted `alpha` and \
                                       `beta`, as statsmodels computes it), each with 95% prediction intervals.";
    const ANNOTATIONS: ide_agents_tool::Annotations = crate::PURE;
    type Args = Args;
    type Output = Forecasts;

    fn call(args: Args) -> Result<Reply<Forecasts>, Error> {
        let forecasts = forecast(&args)?;
        let text = forecasts.text();
        Ok(Reply::new(forecasts).text(text))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The values, in time order, equally spaced.
    #[schemars(length(min = 2, max = MAX_SERIES))]
    series: Vec<f64>,
    /// Steps to forecast after the last value.
    #[schemars(range(min = 1, max = MAX_HORIZON))]
    horizon: usize,
    /// Holt's level smoothing (statsmodels' `smoothing_level`), in [0, 1]; fitted if absent.
    #[schemars(range(min = 0.0, max = 1.0))]
    alpha: Option<f64>,
    /// Holt's trend smoothing (statsmodels' `smoothing_trend`), in [0, 1]; fitted if absent.
    #[schemars(range(min = 0.0, max = 1.0))]
    beta: Option<f64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Forecasts {
    /// Points in the series.
    n: usize,
    horizon: usize,
    linear: Linear,
    holt: Holt,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Linear {
    /// The fitted value at t = 0.
    intercept: f64,
    /// Change per step.
    slope: f64,
    /// sqrt(SSE / (n - 2)); 0 for two points.
    residual_se: f64,
    /// Values at t = n .. n + horizon - 1.
    forecast: Vec<f64>,
    /// Lower ends of the 95% prediction intervals.
    lower: Vec<f64>,
    /// Upper ends of the 95% prediction intervals.
    upper: Vec<f64>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Holt {
    alpha: f64,
    beta: f64,
    /// True when `alpha` was fitted rather than given.
    alpha_fitted: bool,
    /// True when `beta` was fitted rather than given.
    beta_fitted: bool,
    /// l[0] = y[0].
    initial_level: f64,
    /// b[0] = y[1] - y[0].
    initial_trend: f64,
    /// Sum of squared one-step-ahead errors.
    sse: f64,
    /// sqrt(SSE / n).
    sigma: f64,
    /// The one-step-ahead prediction of each value.
    fitted: Vec<f64>,
    forecast: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
}

fn forecast(args: &Args) -> Result<Forecasts, Error> {
    let y = &args.series;
    if y.len() < 2 {
        return Err(Error::invalid("/series", format!("{} points; a trend needs at least 2", y.len())));
    }
    if args.horizon == 0 {
        return Err(Error::invalid("/horizon", "must be at least 1"));
    }
    for (name, value) in [("alpha", args.alpha), ("beta", args.beta)] {
        if value.is_some_and(|v| !(0.0..=1.0).contains(&v)) {
            return Err(Error::invalid(&format!("/{name}"), "must be in [0, 1]"));
        }
    }
    let linear = linear(y, args.horizon);
    let holt = holt(y, args.horizon, args.alpha, args.beta);
    let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
    if !(finite(&linear.upper)
        && finite(&linear.lower)
        && finite(&holt.upper)
        && finite(&holt.lower)
        && holt.sse.is_finite())
    {
        return Err(Error::invalid("/series", "values too large (the forecasts overflow)"));
    }
    Ok(Forecasts { n: y.len(), horizon: args.horizon, linear, holt })
}

impl Forecasts {
    fn text(&self) -> String {
        let last = self.horizon - 1;
        let (l, h) = (&self.linear, &self.holt);
        format!(
            "{} points, {} steps ahead.\nLinear trend: slope {:.6}/step; at step {}: {:.6} [{:.6}, {:.6}].\n\
             Holt (alpha {:.6}{}, beta {:.6}{}, SSE {:.6}): at step {}: {:.6} [{:.6}, {:.6}].",
            self.n,
            self.horizon,
            l.slope,
            self.horizon,
            l.forecast[last],
            l.lower[last],
            l.upper[last],
            h.alpha,
            if h.alpha_fitted { " fitted" } else { "" },
            h.beta,
            if h.beta_fitted { " fitted" } else { "" },
            h.sse,
            self.horizon,
            h.forecast[last],
            h.lower[last],
            h.upper[last],
        )
    }
}

/// Student's t 0.975 quantile with `df` degrees of freedom: the table up to 30, then the
/// Cornish-Fisher expansion (Abramowitz and Stegun 26.7.5; error below 1e-7 from 31 on).
fn t_975(df: usize) -> f64 {
    if let Some(&t) = T_975.get(df.wrapping_sub(1)) {
        return t;
    }
    let (z, v) = (Z_975, df as f64);
    let g1 = (z.powi(3) + z) / 4.0;
    let g2 = (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / 96.0;
    let g3 = (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / 384.0;
    let g4 = (79.0 * z.powi(9) + 776.0 * z.powi(7) + 1482.0 * z.powi(5) - 1920.0 * z.powi(3) - 945.0 * z) / 92160.0;
    z + g1 / v + g2 / v.powi(2) + g3 / v.powi(3) + g4 / v.powi(4)
}

fn linear(y: &[f64], horizon: usize) -> Linear {
    let n = y.len() as f64;
    let t_mean = (n - 1.0) / 2.0;
    let y_mean = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (t, v) in y.iter().enumerate() {
        let dt = t as f64 - t_mean;
        sxy += dt * (v - y_mean);
        sxx += dt * dt;
    }
    let slope = sxy / sxx;
    let intercept = y_mean - slope * t_mean;
    let sse: f64 = y.iter().enumerate().map(|(t, v)| (v - intercept - slope * t as f64).powi(2)).sum();
    let residual_se = if y.len() > 2 { (sse / (n - 2.0)).sqrt() } else { 0.0 };
    let q = if y.len() > 2 { t_975(y.len() - 2) } else { 0.0 };
    let (mut forecast, mut lower, mut upper) = (Vec::new(), Vec::new(), Vec::new());
    for t in y.len()..y.len() + horizon {
        let t = t as f64;
        let value = intercept + slope * t;
        let half = q * residual_se * (1.0 + 1.0 / n + (t - t_mean).powi(2) / sxx).sqrt();
        forecast.push(value);
        lower.push(value - half);
        upper.push(value + half);
    }
    Linear { intercept, slope, residual_se, forecast, lower, upper }
}

/// statsmodels' Holt recursion (`ExponentialSmoothing._predict`, additive trend, no damping): the
/// one-step-ahead predictions of `y`, and the final level and trend.
fn holt_run(y: &[f64], alpha: f64, beta: f64) -> (Vec<f64>, f64, f64) {
    let (alphac, betac) = (1.0 - alpha, 1.0 - beta);
    let (mut level, mut trend) = (y[0], y[1] - y[0]);
    let mut fitted = Vec::with_capacity(y.len());
    fitted.push(level + trend);
    for &v in &y[..y.len() - 1] {
        let next = alpha * v + alphac * (level + trend * 1.0);
        trend = beta * (next - level) + betac * (trend * 1.0);
        level = next;
        fitted.push(level + trend);
    }
    let last = alpha * y[y.len() - 1] + alphac * (level + trend);
    let trend = beta * (last - level) + betac * trend;
    (fitted, last, trend)
}

fn sse(y: &[f64], alpha: f64, beta: f64) -> f64 {
    let (fitted, _, _) = holt_run(y, alpha, beta);
    y.iter().zip(&fitted).map(|(v, f)| (f - v) * (f - v)).sum()
}

/// The given values, with the absent ones fitted to minimise the SSE over [0, 1]: the best point
/// of a grid, then a compass search (each free coordinate ± a step, the step halved when neither
/// improves).
fn fit(y: &[f64], alpha: Option<f64>, beta: Option<f64>) -> (f64, f64) {
    let grid = |given: Option<f64>| -> Vec<f64> {
        given.map_or_else(|| (0..GRID).map(|i| i as f64 / (GRID - 1) as f64).collect(), |v| vec![v])
    };
    let mut best = (f64::INFINITY, 0.0, 0.0);
    for &a in &grid(alpha) {
        for &b in &grid(beta) {
            let value = sse(y, a, b);
            if value < best.0 {
                best = (value, a, b);
            }
        }
    }
    let (mut value, mut a, mut b) = best;
    let mut step = 1.0 / (GRID - 1) as f64;
    while step > SEARCH_TOLERANCE {
        let mut moved = false;
        for (da, db) in [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)] {
            if (da != 0.0 && alpha.is_some()) || (db != 0.0 && beta.is_some()) {
                continue;
            }
            let (na, nb) = ((a + da * step).clamp(0.0, 1.0), (b + db * step).clamp(0.0, 1.0));
            let next = sse(y, na, nb);
            if next < value {
                (value, a, b, moved) = (next, na, nb, true);
            }
        }
        if !moved {
            step /= 2.0;
        }
    }
    (a, b)
}

fn holt(y: &[f64], horizon: usize, alpha: Option<f64>, beta: Option<f64>) -> Holt {
    let (a, b) = if alpha.is_some() && beta.is_some() {
        (alpha.unwrap_or_default(), beta.unwrap_or_default())
    } else {
        fit(y, alpha, beta)
    };
    let (fitted, level, trend) = holt_run(y, a, b);
    let sse: f64 = y.iter().zip(&fitted).map(|(v, f)| (f - v) * (f - v)).sum();
    let sigma = (sse / y.len() as f64).sqrt();
    let (mut forecast, mut lower, mut upper) = (Vec::new(), Vec::new(), Vec::new());
    let mut variance_sum = 1.0;
    for h in 1..=horizon {
        let value = level + trend * h as f64;
        if h > 1 {
            variance_sum += (a * (1.0 + (h - 1) as f64 * b)).powi(2);
        }
        let half = Z_975 * sigma * variance_sum.sqrt();
        forecast.push(value);
        lower.push(value - half);
        upper.push(value + half);
    }
    Holt {
        alpha: a,
        beta: b,
        alpha_fitted: alpha.is_none(),
        beta_fitted: beta.is_none(),
        initial_level: y[0],
        initial_trend: y[1] - y[0],
        sse,
        sigma,
        fitted,
        forecast,
        lower,
        upper,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(json: &str) -> Args {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_straight_line_continues() {
        let f = forecast(&args(r#"{"series": [1, 3, 5, 7, 9], "horizon": 2, "alpha": 0.5, "beta": 0.5}"#)).unwrap();
        assert_eq!((f.linear.forecast.as_slice(), f.linear.residual_se), (&[11.0, 13.0][..], 0.0));
        // statsmodels' convention: l[0] = y[0] is the level before y[0], so y[0] is predicted as y[1].
        assert_eq!((f.holt.fitted[0], f.holt.initial_trend), (3.0, 2.0));
        assert_eq!(t_975(1), 12.706204736174694);
        assert!((t_975(31) - 2.0395134464411).abs() < 1e-7);
    }

    #[test]
    fn fitting_beats_the_grid_and_bad_parameters_are_refused() {
        let y: Vec<f64> = (0..50).map(|i| f64::from(i) * 0.5 + (f64::from(i) * 1.7).sin() * 3.0).collect();
        let (a, b) = fit(&y, None, None);
        assert!(sse(&y, a, b) <= sse(&y, 0.5, 0.5));
        let (_, b_only) = fit(&y, Some(0.3), None);
        assert!(sse(&y, 0.3, b_only) <= sse(&y, 0.3, 0.1));
        let err = forecast(&args(r#"{"series": [1, 2, 3], "horizon": 1, "beta": 1.5}"#)).unwrap_err();
        assert!(format!("{err:?}").contains("/beta"), "{err:?}");
        let err = forecast(&args(r#"{"series": [1, 2, 3], "horizon": 0}"#)).unwrap_err();
        assert!(format!("{err:?}").contains("/horizon"), "{err:?}");
    }
}
