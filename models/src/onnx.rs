//! tract plumbing the ONNX models share.

use std::sync::Arc;

use tract_onnx::prelude::*;

/// Loads and optimizes a graph shipped inside the binary (about a second; do it once).
pub(crate) fn runnable(onnx: &[u8]) -> TractResult<Arc<TypedRunnableModel>> {
    tract_onnx::onnx()
        .model_for_read(&mut &onnx[..])?
        .into_optimized()?
        .into_runnable()
}
