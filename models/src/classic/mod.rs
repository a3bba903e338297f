//! The classic genre path of the GTZAN feature-table pipeline: five classifiers over the 57
//! clip statistics of `features_30_sec.csv` (k-nearest neighbours, logistic regression, an
//! RBF SVM, a small neural network, gradient-boosted trees), trained by
//! `models/training/classic.py` and shipped as JSON in `models/classic/`.

mod knn;
mod svm;
mod trees;

use serde::Deserialize;

use crate::dense::Mlp;
use crate::standardizer::Standardizer;
use crate::ModelError;
pub use knn::Knn;
pub use svm::Svm;
pub use trees::Trees;

/// The shipped models, by the name `--model` takes.
pub const NAMES: [&str; 5] = ["knn", "logreg", "svm", "nn", "xgb"];

/// A trained classifier with its standardization and the order of the features it reads.
#[derive(Debug)]
pub struct Classic {
    pub name: String,
    pub hyperparameters: String,
    pub classes: Vec<String>,
    /// For each model input, its index in the caller's feature table.
    inputs: Vec<usize>,
    standardizer: Standardizer,
    model: Model,
}

#[derive(Debug)]
enum Model {
    Knn(Knn),
    Logistic(Mlp),
    Svm(Svm),
    Nn(Mlp),
    Xgb(Trees),
}

#[derive(Deserialize)]
struct File {
    name: String,
    hyperparameters: String,
    classes: Vec<String>,
    features: Vec<String>,
    scaler: Standardizer,
    model: serde_json::Value,
}

#[derive(Deserialize)]
struct Linear {
    weights: Vec<Vec<f64>>,
    bias: Vec<f64>,
}

fn unknown(name: &str) -> ModelError {
    ModelError::Input(format!(
        "unknown model {name:?} (one of {})",
        NAMES.join(", ")
    ))
}

fn builtin_json(name: &str) -> Option<&'static str> {
    Some(match name {
        "knn" => include_str!("../../classic/knn.json"),
        "logreg" => include_str!("../../classic/logreg.json"),
        "svm" => include_str!("../../classic/svm.json"),
        "nn" => include_str!("../../classic/nn.json"),
        "xgb" => include_str!("../../classic/xgb.json"),
        _ => return None,
    })
}

impl Classic {
    /// Loads a shipped model; `table_columns` names the features the caller will pass, in
    /// order (e.g. `FeatureTable::column_names()`).
    pub fn builtin(name: &str, table_columns: &[String]) -> Result<Self, ModelError> {
        let json = builtin_json(name).ok_or_else(|| unknown(name))?;
        Self::from_json(json, table_columns)
    }

    pub fn from_json(json: &str, table_columns: &[String]) -> Result<Self, ModelError> {
        let file: File = serde_json::from_str(json)?;
        let inputs = file
            .features
            .iter()
            .map(|f| {
                table_columns.iter().position(|c| c == f).ok_or_else(|| {
                    ModelError::Input(format!(
                        "the model needs feature {f:?}, which the feature table lacks"
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        let model = match file.name.as_str() {
            "knn" => Model::Knn(serde_json::from_value(file.model)?),
            "logreg" => {
                let linear: Linear = serde_json::from_value(file.model)?;
                Model::Logistic(Mlp::single_layer(linear.weights, linear.bias))
            }
            "svm" => Model::Svm(serde_json::from_value(file.model)?),
            "nn" => Model::Nn(serde_json::from_value(file.model)?),
            "xgb" => Model::Xgb(serde_json::from_value(file.model)?),
            other => return Err(unknown(other)),
        };
        Ok(Self {
            name: file.name,
            hyperparameters: file.hyperparameters,
            classes: file.classes,
            inputs,
            standardizer: file.scaler,
            model,
        })
    }

    /// Class probabilities (summing to 1, in `classes` order) for one row of the feature
    /// table the model was loaded for.
    pub fn predict(&self, table_row: &[f64]) -> Vec<f64> {
        let x = self
            .standardizer
            .apply(self.inputs.iter().map(|&i| table_row[i]));
        match &self.model {
            Model::Knn(m) => m.predict(&x, self.classes.len()),
            Model::Logistic(m) | Model::Nn(m) => m.predict(&x),
            Model::Svm(m) => m.predict(&x),
            Model::Xgb(m) => m.predict(&x, self.classes.len()),
        }
    }
}
