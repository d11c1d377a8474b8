//! The swarm's results: latency percentiles, the JSON summary, and two plots (a latency
//! histogram and connections over time) written as SVG.

use std::path::Path;

use plotters::prelude::*;
use serde_json::{Value, json};

/// The `q` quantile (0..=1) of sorted values; 0 when there are none.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// p50, p90, p99, p99.9 and max of sorted milliseconds, rounded to microseconds.
pub(crate) fn percentiles(sorted: &[f64]) -> Value {
    let r = |v: f64| (v * 1000.0).round() / 1000.0;
    json!({
        "p50": r(quantile(sorted, 0.5)),
        "p90": r(quantile(sorted, 0.9)),
        "p99": r(quantile(sorted, 0.99)),
        "p999": r(quantile(sorted, 0.999)),
        "max": r(sorted.last().copied().unwrap_or(0.0)),
    })
}

/// One sample of the connection count over time.
pub(crate) struct Sample {
    pub(crate) seconds: f64,
    pub(crate) connected: usize,
    pub(crate) subscribed: usize,
}

/// The latency histogram: sorted milliseconds in 60 bins up to just past p99.9.
pub(crate) fn latency_svg(path: &Path, sorted: &[f64], title: &str) -> Result<(), String> {
    let top = (quantile(sorted, 0.999) * 1.25).max(0.01);
    let bins = 60usize;
    let width = top / bins as f64;
    let mut counts = vec![0u32; bins];
    for v in sorted {
        let b = ((v / width) as usize).min(bins - 1);
        counts[b] += 1;
    }
    let peak = counts.iter().copied().max().unwrap_or(1).max(1);
    let root = SVGBackend::new(path, (900, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..top, 0u32..peak + peak / 10 + 1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("trigger to receive (ms); the last bin holds everything beyond")
        .y_desc("deliveries")
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(counts.iter().enumerate().map(|(i, &c)| {
            let x0 = i as f64 * width;
            Rectangle::new([(x0, 0), (x0 + width * 0.9, c)], BLUE.mix(0.6).filled())
        }))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// Connected and subscribed devices over the run.
pub(crate) fn connections_svg(path: &Path, samples: &[Sample], title: &str) -> Result<(), String> {
    let end = samples.last().map_or(1.0, |s| s.seconds).max(1.0);
    let peak = samples
        .iter()
        .map(|s| s.connected)
        .max()
        .unwrap_or(1)
        .max(1);
    let root = SVGBackend::new(path, (900, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..end, 0usize..peak + peak / 10 + 1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("seconds")
        .y_desc("devices")
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(LineSeries::new(
            samples.iter().map(|s| (s.seconds, s.connected)),
            &BLUE,
        ))
        .map_err(|e| e.to_string())?
        .label("connected")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    chart
        .draw_series(LineSeries::new(
            samples.iter().map(|s| (s.seconds, s.subscribed)),
            &RED,
        ))
        .map_err(|e| e.to_string())?
        .label("subscribed")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_are_ranks() {
        let v: Vec<f64> = (1..=1000).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 500.0);
        assert_eq!(quantile(&v, 0.99), 990.0);
        assert_eq!(quantile(&v, 0.999), 999.0);
        assert_eq!(quantile(&v, 1.0), 1000.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
        assert_eq!(quantile(&[3.0], 0.001), 3.0);
    }
}
