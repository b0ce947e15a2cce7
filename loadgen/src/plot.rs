//! Latency-by-percentile plots, drawn as HdrHistogram's plotter draws them:
//! the x axis is `log10(1 / (1 - percentile))`, so 90%, 99%, 99.9%… are
//! evenly spaced and the tail gets room; the y axis is latency in µs on a
//! log scale (a tail many times the median would flatten the rest). One
//! line per run; the curves come from the reports' `percentiles` arrays, so
//! `loadgen plot` needs only the `--json` files.

use std::path::Path;

use plotters::prelude::*;

/// The furthest percentile drawn: 99.9999%.
const MAX_NINES: f64 = 6.0;

/// One line of a plot.
pub struct Curve {
    /// Legend text.
    pub label: String,
    /// `[percentile, latency µs]` points, percentile ascending.
    pub points: Vec<[f64; 2]>,
}

/// A plotting failure.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// A report could not be read.
    #[error("{0}: {1}")]
    Input(String, String),
    /// The SVG could not be drawn or written.
    #[error("drawing {0}: {1}")]
    Draw(String, String),
}

/// Position of a percentile on the x axis.
fn nines(percentile: f64) -> f64 {
    let rest = 1.0 - percentile / 100.0;
    if rest <= 0.0 {
        MAX_NINES
    } else {
        (-rest.log10()).min(MAX_NINES)
    }
}

/// Reads the `op` curve (`all`, `get`, `set`) of a `--json` report; the
/// legend is the report's label.
pub fn curve_from_json(path: &Path, op: &str) -> Result<Curve, PlotError> {
    let input = |e: String| PlotError::Input(path.display().to_string(), e);
    let text = std::fs::read_to_string(path).map_err(|e| input(e.to_string()))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| input(e.to_string()))?;
    let label = json["label"].as_str().unwrap_or("run").to_string();
    let points = json["latency_us"][op]["percentiles"]
        .as_array()
        .ok_or_else(|| input(format!("no latency_us.{op}.percentiles")))?
        .iter()
        .filter_map(|p| Some([p.get(0)?.as_f64()?, p.get(1)?.as_f64()?]))
        .collect();
    Ok(Curve { label, points })
}

/// Draws `curves` into an SVG file.
pub fn draw(path: &Path, title: &str, curves: &[Curve]) -> Result<(), PlotError> {
    let fail = |e: String| PlotError::Draw(path.display().to_string(), e);
    let x_max = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| nines(p[0])))
        .fold(2.0f64, f64::max)
        .ceil();
    let latencies = || curves.iter().flat_map(|c| c.points.iter().map(|p| p[1]));
    let y_max = latencies().fold(1.0f64, f64::max) * 1.2;
    let y_min = latencies().filter(|&y| y > 0.0).fold(y_max, f64::min) / 1.2;
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..x_max, (y_min..y_max).log_scale())
        .map_err(|e| fail(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (µs)")
        .x_labels(x_max as usize + 1)
        .x_label_formatter(&|x| percentile_label(*x))
        .y_label_formatter(&|y| {
            if *y < 10.0 {
                format!("{y:.1}")
            } else {
                format!("{y:.0}")
            }
        })
        .draw()
        .map_err(|e| fail(e.to_string()))?;
    for (i, curve) in curves.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let points = curve.points.iter().map(|p| (nines(p[0]), p[1].max(y_min)));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(|e| fail(e.to_string()))?
            .label(curve.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(e.to_string()))?;
    root.present().map_err(|e| fail(e.to_string()))
}

/// `0` → "0%", `1` → "90%", `2` → "99%", `3` → "99.9%"…
fn percentile_label(x: f64) -> String {
    let n = x.round();
    if (x - n).abs() > 1e-9 {
        return String::new();
    }
    match n as i32 {
        0 => "0%".into(),
        1 => "90%".into(),
        k => format!("99.{}%", "9".repeat(k as usize - 2)).replace(".%", "%"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_is_log_of_the_tail() {
        assert_eq!(nines(0.0), 0.0);
        assert!((nines(90.0) - 1.0).abs() < 1e-9);
        assert!((nines(99.9) - 3.0).abs() < 1e-9);
        assert_eq!(nines(100.0), MAX_NINES);
        assert_eq!(percentile_label(2.0), "99%");
        assert_eq!(percentile_label(4.0), "99.99%");
    }

    #[test]
    fn draws_one_line_per_curve() {
        let dir = std::env::temp_dir().join(format!("loadgen-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.svg");
        let curve = |label: &str, scale: f64| Curve {
            label: label.into(),
            points: vec![
                [0.0, 10.0 * scale],
                [90.0, 20.0 * scale],
                [99.9, 50.0 * scale],
                [100.0, 80.0 * scale],
            ],
        };
        draw(&path, "test", &[curve("alpha", 1.0), curve("beta", 2.0)]).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("alpha") && svg.contains("beta"));
        for i in 0..2 {
            let RGBAColor(r, g, b, _) = Palette99::pick(i).to_rgba();
            let stroke = format!("stroke=\"#{r:02X}{g:02X}{b:02X}\"");
            assert_eq!(
                svg.matches(&stroke).count(),
                2,
                "curve {i} and its legend mark: {stroke}"
            );
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
