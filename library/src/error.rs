use std::path::PathBuf;

/// Everything that can go wrong with a library; each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error(
        "{path}: not a Mirador library, or damaged ({reason}); it was left as it is \
         (choose another with --library)"
    )]
    NotALibrary { path: PathBuf, reason: String },
    #[error(
        "{path}: made by a newer Mirador (library format {found}; this one reads up to \
         {supported}); it was left as it is: update Mirador, or choose another with --library"
    )]
    Newer {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error(
        "{path}: another `mirador index` is updating this library; wait for it to finish \
         (or stop it), then run again"
    )]
    Busy { path: PathBuf },
    #[error("{path}: no library here yet; build one with `mirador index FOLDER`")]
    Missing { path: PathBuf },
    #[error(
        "{path}: the library has no analyzed tracks yet; add some with `mirador index FOLDER`"
    )]
    Empty { path: PathBuf },
    #[error("{path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("library database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Query(String),
}
