//! AFL++ target `settings`: see `tandem_fuzz::settings`.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        tandem_fuzz::settings(data);
    });
}
