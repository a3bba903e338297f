//! Mirador's music library: what every analyzed track is compared by, kept in SQLite, and
//! the ways of finding music in it.
//! - [`facets`]: a track's vectors, the patch network's embedding and named facets built from
//!   Mirador's analyses (timbre, rhythm, harmony, mood, tags, genre), and their scaling;
//! - [`store`]: the database ([`Library`]): tracks, vectors, the models that made them;
//! - [`catalog`]: the vectors in memory and nearest-neighbour search, exact over
//!   [`combined`] rows or through the [`approximate`] index;
//! - [`text`]: word search through the [`text::TextEncoder`] seam;
//! - [`playlist`]: playlists that flow from seeds, and paths from one track to another.

pub mod approximate;
pub mod catalog;
pub mod combined;
mod error;
pub mod facets;
pub mod playlist;
pub mod store;
pub mod text;
pub mod track;

pub use catalog::{Catalog, Choice, Hit, Query};
pub use error::LibraryError;
pub use facets::{describe, Description, Facet, Scales, Vectors};
pub use store::{Library, Recipe};
pub use track::{Stamp, Status, Track};
