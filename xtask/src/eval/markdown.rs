//! Numbers into markdown: accuracies, percentages, confusion tables.

use std::fmt::Write as _;

pub(super) fn argmax(p: &[f64]) -> usize {
    (0..p.len())
        .max_by(|&i, &j| p[i].total_cmp(&p[j]))
        .unwrap_or(0)
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
