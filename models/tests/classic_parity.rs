//! The shipped classic models give, in Rust, the probabilities scikit-learn and XGBoost gave
//! for the same rows (models/classic/golden.json, written by models/training/classic.py with
//! the models, from 40 clips of the fault-filtered test split).

use mirador_models::classic::{Classic, NAMES};

#[derive(serde::Deserialize)]
struct Golden {
    features: Vec<String>,
    ids: Vec<String>,
    inputs: Vec<Vec<f64>>,
    probabilities: std::collections::HashMap<String, Vec<Vec<f64>>>,
}

fn golden() -> Golden {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/classic/golden.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_model_matches_its_reference_probabilities() {
    let golden = golden();
    for name in NAMES {
        let model = Classic::builtin(name, &golden.features).unwrap();
        let expected = &golden.probabilities[name];
        let mut worst = 0.0f64;
        for ((row, want), id) in golden.inputs.iter().zip(expected).zip(&golden.ids) {
            let got = model.predict(row);
            assert!((got.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{name} {id}");
            for (g, w) in got.iter().zip(want) {
                worst = worst.max((g - w).abs());
            }
        }
        assert!(worst < 1e-5, "{name}: off by {worst}");
    }
}

#[test]
fn features_are_found_by_name_whatever_the_column_order() {
    let golden = golden();
    let model = Classic::builtin("logreg", &golden.features).unwrap();
    let mut reversed_names = golden.features.clone();
    reversed_names.reverse();
    let reversed = Classic::builtin("logreg", &reversed_names).unwrap();
    let mut row = golden.inputs[0].clone();
    let want = model.predict(&row);
    row.reverse();
    assert_eq!(reversed.predict(&row), want);

    let missing = &golden.features[1..];
    let err = Classic::builtin("svm", missing).unwrap_err().to_string();
    assert!(err.contains(&golden.features[0]), "{err}");
    assert!(Classic::builtin("forest", &golden.features).is_err());
}
