//! AFL++ target `ingest`: see `tandem_fuzz::ingest`.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        tandem_fuzz::ingest(data);
    });
}
