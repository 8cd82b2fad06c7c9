//! AFL++ target `graph`: see `tandem_fuzz::graph`.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        tandem_fuzz::graph(data);
    });
}
