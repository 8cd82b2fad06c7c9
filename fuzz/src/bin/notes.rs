//! AFL++ target `notes`: see `tandem_fuzz::notes`.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        tandem_fuzz::notes(data);
    });
}
