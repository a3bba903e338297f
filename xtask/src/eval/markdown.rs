//! Numbers into markdown: accuracies, percentages, confusion tables.

use std::fmt::Write as _;

use anyhow::{bail, Result};

/// `template` with each `{{name}}` replaced by its text; a name without a text, or a text
/// without its name, is an error, so the prose and the sections cannot drift apart.
pub(super) fn fill(template: &str, fills: &[(&str, String)]) -> Result<String> {
    let mut out = template.to_string();
    for (name, text) in fills {
        let key = format!("{{{{{name}}}}}");
        if !out.contains(&key) {
            bail!("the report template has no {key}");
        }
        out = out.replace(&key, text);
    }
    if let Some(at) = out.find("{{") {
        let rest = &out[at..];
        bail!(
            "nothing fills {}",
            &rest[..rest.find("}}").map_or(rest.len(), |e| e + 2)]
        );
    }
    Ok(out)
}

pub(super) fn argmax(p: &[f64]) -> usize {
    (0..p.len())
        .max_by(|&i, &j| p[i].total_cmp(&p[j]))
        .unwrap_or(0)
}

/// Spearman's rank correlation of `x` and `y` (ties share their mean rank).
pub(super) fn spearman(x: &[f64], y: &[f64]) -> f64 {
    fn ranks(v: &[f64]) -> Vec<f64> {
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < order.len() {
            let mut j = i;
            while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
                j += 1;
            }
            for &k in &order[i..=j] {
                r[k] = (i + j) as f64 / 2.0;
            }
            i = j + 1;
        }
        r
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let var = |r: &[f64], m: f64| r.iter().map(|a| (a - m).powi(2)).sum::<f64>();
    cov / (var(&rx, mx) * var(&ry, my)).sqrt()
}

pub(super) fn accuracy(matrix: &[Vec<usize>]) -> (usize, usize) {
    let right = (0..matrix.len()).map(|i| matrix[i][i]).sum();
    let total = matrix.iter().flatten().sum();
    (right, total)
}

pub(super) fn percent(right: usize, total: usize) -> String {
    if total == 0 {
        "—".into()
    } else {
        format!("{:.1} %", 100.0 * right as f64 / total as f64)
    }
}

pub(super) fn confusion_table(classes: &[String], matrix: &[Vec<usize>]) -> String {
    let mut out = String::from("| |");
    for c in classes {
        let _ = write!(out, " {c} |");
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(classes.len()));
    out.push('\n');
    for (c, row) in classes.iter().zip(matrix) {
        let _ = write!(out, "| {c} |");
        for n in row {
            let _ = write!(out, " {n} |");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_names_and_refuses_strays() {
        let fills = [("a", "1".to_string()), ("b", "2".to_string())];
        assert_eq!(fill("x {{a}} y {{b}}", &fills).unwrap(), "x 1 y 2");
        assert!(fill("{{a}}", &fills).is_err(), "b has no place");
        assert!(fill("{{a}} {{b}} {{c}}", &fills).is_err(), "c has no text");
    }
}
