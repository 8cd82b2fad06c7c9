//! Cross-module tests: real client bodies, hostile input, fuzzing and rendering.

mod bodies;
mod broken;
mod fuzz;
mod mkcol;
mod propfind;
mod proppatch;
mod render;
mod report;

use super::Limits;

fn limits() -> Limits {
    Limits::default()
}
