//! The fuzz targets (`fuzz/src/lib.rs`, run by AFL++ through `fuzz/run`) on their seed corpora
//! and on every input a fuzzer ever saved as a crash: none may panic. This keeps each parser's
//! found crashes fixed in every CI run, without the fuzzer (whose build and runs live outside
//! CI, see `fuzz/README.md`).

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod targets;

#[test]
fn no_seed_and_no_saved_crash_makes_a_parser_panic() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut inputs = 0;
    for (name, target) in targets::TARGETS {
        for dir in ["corpus", "crashes"] {
            let Ok(files) = std::fs::read_dir(root.join(dir).join(name)) else {
                continue;
            };
            for file in files {
                let path = file.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                let caught = std::panic::catch_unwind(|| target(&bytes));
                assert!(caught.is_ok(), "{name} panics on {}", path.display());
                inputs += 1;
            }
        }
    }
    assert!(inputs >= 100, "only {inputs} inputs were found");
    println!("{inputs} seeds and saved crashes, no panic");
}
