//! The one error type of Mirador's models.

use tract_onnx::prelude::TractError;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// tract could not load or run a graph.
    #[error("{0}")]
    Graph(String),
    /// A shipped model file (JSON) does not parse.
    #[error("model file: {0}")]
    Format(#[from] serde_json::Error),
    /// The model was asked for something it cannot take: a wrong size, an unknown name, a
    /// feature the table lacks.
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Config(#[from] mirador_dsp::ConfigError),
    /// The clip a model was run over could not be played.
    #[error("{0}")]
    Audio(String),
}

impl From<TractError> for ModelError {
    fn from(e: TractError) -> Self {
        Self::Graph(format!("{e:#}"))
    }
}
