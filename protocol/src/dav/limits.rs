//! Resource limits applied while reading untrusted XML request bodies.

/// Bounds for parsing one request body.
///
/// They exist so that a hostile or broken client cannot make the daemon allocate without bound:
/// the body size caps memory, the element count caps the tree, and the depth caps recursion in
/// the parsers (filters are recursive) and in anything that walks the tree later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Maximum element nesting depth; the root element is depth 1. Parsers and the tree's
    /// destructor recurse per level, so keep this in the hundreds at most.
    pub max_depth: usize,
    /// Maximum number of elements in the whole document.
    pub max_elements: usize,
    /// Maximum body size in bytes.
    pub max_body_bytes: usize,
}

impl Limits {
    /// Default nesting depth. Real DAV bodies stay under ~12 levels (a calendar-query filter with
    /// a param-filter inside a prop-filter inside two comp-filters is 8).
    pub const DEFAULT_MAX_DEPTH: usize = 64;
    /// Default element count: a calendar-multiget of 10,000 hrefs still fits.
    pub const DEFAULT_MAX_ELEMENTS: usize = 50_000;
    /// Default body size: 8 MiB is far above any real request body (a PROPPATCH carrying a
    /// large calendar-timezone is a few KiB).
    pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: Self::DEFAULT_MAX_DEPTH,
            max_elements: Self::DEFAULT_MAX_ELEMENTS,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
        }
    }
}
